"""MySQL / MariaDB as a migration source (aiomysql): schema from ``information_schema``, rows by keyset.

DATETIME and TIMESTAMP values come back naive; they are read as UTC (set the server's ``time_zone`` to
``+00:00`` for TIMESTAMP columns, which MySQL converts to the session zone). ``TINYINT(1)`` is a boolean.
"""

from __future__ import annotations

import re
from collections.abc import AsyncGenerator, Sequence
from typing import Any
from urllib.parse import unquote, urlsplit

import aiomysql  # type: ignore[import-untyped]

from portflare.backends import redact
from portflare.migrate.endpoint import Checkpoint, MigrateError, Row
from portflare.migrate.model import Column, ForeignKey, Index, Schema, Table, fk_order
from portflare.migrate.types import Portable, TimestampMode, quote_ident

_ENUM_VALUE = re.compile(r"'((?:[^']|'')*)'")


def _q(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


class MysqlEndpoint:
    dialect = "mysql"

    def __init__(self, conn: Any, database: str, label: str) -> None:
        self._conn = conn
        self._database = database
        self.label = label

    @classmethod
    async def connect(cls, url: str) -> MysqlEndpoint:
        parts = urlsplit(url)
        database = parts.path.lstrip("/")
        try:
            conn = await aiomysql.connect(host=parts.hostname or "127.0.0.1", port=parts.port or 3306,
                                          user=unquote(parts.username or "root"),
                                          password=unquote(parts.password or ""), db=database, autocommit=True,
                                          charset="utf8mb4")
        except Exception as exc:  # aiomysql raises pymysql's and OS errors alike
            raise MigrateError(f"cannot connect to {redact(url)}: {exc}") from exc
        await cls._run(conn, "SET time_zone = '+00:00'")
        return cls(conn, database, redact(url))

    @staticmethod
    async def _run(conn: Any, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        async with conn.cursor() as cursor:
            await cursor.execute(sql, tuple(params) or None)
            return list(await cursor.fetchall())

    async def _query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return await self._run(self._conn, sql, params)

    def ident(self, name: str) -> str:
        return _q(name)

    def table_ref(self, name: str) -> str:
        return _q(name)

    async def read_schema(self) -> Schema:
        tables: dict[str, Table] = {}
        for table, name, column_type, nullable, default, extra in await self._query(
                "SELECT TABLE_NAME, COLUMN_NAME, COLUMN_TYPE, IS_NULLABLE, COLUMN_DEFAULT, EXTRA FROM "
                "information_schema.COLUMNS WHERE TABLE_SCHEMA = %s ORDER BY TABLE_NAME, ORDINAL_POSITION",
                (self._database,)):
            spelled = str(column_type).lower()
            values = tuple(v.replace("''", "'") for v in _ENUM_VALUE.findall(spelled)) \
                if spelled.startswith(("enum(", "set(")) else None
            if default is not None and str(default).upper() == "NULL":
                default = None  # MariaDB spells "no default" as the string NULL
            tables.setdefault(table, Table(table)).columns.append(Column(
                name, "enum" if spelled.startswith("enum(") else spelled, nullable == "YES",
                None if default is None else str(default), values if spelled.startswith("enum(") else None,
                "auto_increment" in str(extra).lower()))
        indexes: dict[tuple[str, str], tuple[bool, list[str]]] = {}
        for table, index, non_unique, column in await self._query(
                "SELECT TABLE_NAME, INDEX_NAME, NON_UNIQUE, COLUMN_NAME FROM information_schema.STATISTICS "
                "WHERE TABLE_SCHEMA = %s ORDER BY TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX", (self._database,)):
            indexes.setdefault((table, index), (not non_unique, []))[1].append(column)
        fks: dict[tuple[str, str], list[tuple[str, str, str, str, str]]] = {}
        for table, name, column, ref, ref_column, on_delete, on_update in await self._query(
                "SELECT k.TABLE_NAME, k.CONSTRAINT_NAME, k.COLUMN_NAME, k.REFERENCED_TABLE_NAME, "
                "k.REFERENCED_COLUMN_NAME, r.DELETE_RULE, r.UPDATE_RULE FROM information_schema.KEY_COLUMN_USAGE k "
                "JOIN information_schema.REFERENTIAL_CONSTRAINTS r ON r.CONSTRAINT_SCHEMA = k.TABLE_SCHEMA AND "
                "r.CONSTRAINT_NAME = k.CONSTRAINT_NAME AND r.TABLE_NAME = k.TABLE_NAME WHERE k.TABLE_SCHEMA = %s "
                "ORDER BY k.TABLE_NAME, k.CONSTRAINT_NAME, k.ORDINAL_POSITION", (self._database,)):
            fks.setdefault((table, name), []).append((column, ref, ref_column, on_delete, on_update))
        for (table, index), (unique, columns) in indexes.items():
            if table not in tables:
                continue
            if index == "PRIMARY":
                tables[table].primary_key = tuple(columns)
            elif (table, index) not in fks:  # InnoDB's implicit FK index need not move
                tables[table].indexes.append(Index(f"{table}_{index}", tuple(map(quote_ident, columns)), unique))
        for (table, _name), parts in fks.items():
            action = {"NO ACTION": None, "RESTRICT": None}
            tables[table].foreign_keys.append(ForeignKey(
                tuple(p[0] for p in parts), parts[0][1], tuple(p[2] for p in parts),
                action.get(parts[0][3], parts[0][3]), action.get(parts[0][4], parts[0][4])))
        return Schema("mysql", fk_order(list(tables.values())))

    async def apply_ddl(self, statements: Sequence[str]) -> None:
        raise MigrateError("MySQL is a migration source only")

    async def count(self, table: Table, where: str | None = None) -> int:
        rows = await self._query(f"SELECT count(*) FROM {_q(table.name)}" + (f" WHERE {where}" if where else ""))
        return int(rows[0][0])

    async def batches(self, table: Table, columns: Sequence[str], after: list[Any] | None, size: int,
                      where: str | None = None, mode: TimestampMode | None = None) -> AsyncGenerator[list[Row], None]:
        from portflare.migrate.data import row_encoder

        encode = row_encoder(table, columns, mode, self.dialect) if mode else None
        cols = ", ".join(map(_q, columns))
        pk = table.primary_key or tuple(columns)
        keys = ", ".join(map(_q, pk))
        select = f"SELECT {cols} FROM {_q(table.name)}"
        cond = f"({where}) AND " if where else ""
        positions = [list(columns).index(c) for c in pk]
        while True:
            if after is None:
                sql = select + (f" WHERE {where}" if where else "")
            else:
                sql = f"{select} WHERE {cond}({keys}) > ({', '.join(['%s'] * len(pk))})"
            rows = await self._query(f"{sql} ORDER BY {keys} LIMIT {size}", after or ())
            if not rows:
                return
            yield list(encode(rows)) if encode else rows
            if len(rows) < size:
                return
            after = [rows[-1][i] for i in positions]

    async def sample(self, table: Table, columns: Sequence[str], n: int, where: str | None = None) -> list[Row]:
        return list(await self._query(f"SELECT {', '.join(map(_q, columns))} FROM {_q(table.name)}"
                                      + (f" WHERE {where}" if where else "") + f" ORDER BY rand() LIMIT {n}"))

    async def fetch_keys(self, table: Table, columns: Sequence[str],
                         keys: Sequence[Sequence[Portable]]) -> list[Row]:
        found: list[Row] = []
        marks = "(" + ", ".join(["%s"] * len(table.primary_key)) + ")"
        for start in range(0, len(keys), 500):
            chunk = keys[start:start + 500]
            found.extend(await self._query(
                f"SELECT {', '.join(map(_q, columns))} FROM {_q(table.name)} WHERE "
                f"({', '.join(map(_q, table.primary_key))}) IN ({', '.join([marks] * len(chunk))})",
                [v for key in chunk for v in key]))
        return found

    async def write(self, table: Table, columns: Sequence[str], rows: Sequence[Sequence[Portable]],
                    checkpoint: Checkpoint, mode: TimestampMode) -> None:
        raise MigrateError("MySQL is a migration source only")

    async def checkpoint(self, table: str) -> Checkpoint | None:
        return None

    async def reset(self, table: Table) -> None:
        raise MigrateError("MySQL is a migration source only")

    async def finish(self, table: Table, checkpoint: Checkpoint) -> None:
        raise MigrateError("MySQL is a migration source only")

    async def scalar(self, sql: str) -> Any:
        return (await self._query(sql))[0][0]

    async def close(self) -> None:
        self._conn.close()

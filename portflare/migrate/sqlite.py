"""D1 (SQLite) as a migration source or target.

Two runners behind one endpoint: a SQLite file goes straight through ``sqlite3`` (``executemany`` in one
transaction per batch, on a worker thread so the next batch is read meanwhile) — the same file the D1 binding
opens, so the Worker reads what was copied. Any other D1 backend (chosen by ``PORTFLARE_<BINDING>``) is driven
through its ``D1Backend.execute``, one INSERT per row, a batch per transaction.

FK enforcement is off on the copying connection (``PRAGMA foreign_keys=OFF``) so self-references and cycles
load in any order; ``migrate verify`` checks for orphans afterwards.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import AsyncGenerator, Sequence
from pathlib import Path
from typing import Any, Protocol

from portflare.migrate.ddl import schema_from_sqlite, schema_from_sqlite_sql
from portflare.migrate.endpoint import CHECKPOINT_TABLE, Checkpoint, MigrateError, Row, checkpoint_from
from portflare.migrate.model import Schema, Table
from portflare.migrate.types import Portable, TimestampMode, quote_ident
from portflare.sqlitefile import connect_wal

Ops = list[tuple[str, Sequence[Sequence[Any]]]]
_CHECKPOINT_DDL = (f"CREATE TABLE IF NOT EXISTS {quote_ident(CHECKPOINT_TABLE)} (table_name TEXT PRIMARY KEY, "
                   "last_key TEXT, rows INTEGER NOT NULL, done INTEGER NOT NULL DEFAULT 0)")
_SAVE = (f"INSERT INTO {quote_ident(CHECKPOINT_TABLE)} (table_name, last_key, rows, done) VALUES (?, ?, ?, ?) "
         "ON CONFLICT (table_name) DO UPDATE SET last_key = excluded.last_key, rows = excluded.rows, "
         "done = excluded.done")


class Runner(Protocol):
    async def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]: ...

    async def transaction(self, ops: Ops) -> None: ...

    async def schema_sql(self) -> Schema: ...

    async def close(self) -> None: ...


class FileRunner:
    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    async def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return await asyncio.to_thread(lambda: self._conn.execute(sql, params).fetchall())

    def _transaction(self, ops: Ops) -> None:
        conn = self._conn
        conn.execute("BEGIN IMMEDIATE")
        try:
            for sql, rows in ops:
                conn.executemany(sql, rows)
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise

    async def transaction(self, ops: Ops) -> None:
        await asyncio.to_thread(self._transaction, ops)

    async def schema_sql(self) -> Schema:
        return await asyncio.to_thread(schema_from_sqlite, self._conn)

    async def close(self) -> None:
        self._conn.close()


class BackendRunner:
    """Any ``D1Backend`` (portflare.bindings.d1.base), through its own SQL interface."""

    def __init__(self, backend: Any) -> None:
        self._backend = backend

    async def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        from portflare.bindings.d1.base import Statement

        result = await self._backend.execute([Statement(sql, tuple(params))], atomic=False)
        return list(result[0].rows)

    async def transaction(self, ops: Ops) -> None:
        from portflare.bindings.d1.base import Statement

        statements = [Statement("PRAGMA defer_foreign_keys=ON")]
        statements += [Statement(sql, tuple(row)) for sql, rows in ops for row in rows]
        await self._backend.execute(statements, atomic=True)

    async def schema_sql(self) -> Schema:
        return schema_from_sqlite_sql("\n".join(await self._backend.dump(no_data=True)))

    async def close(self) -> None:
        await self._backend.close()


class SqliteEndpoint:
    dialect = "sqlite"

    def __init__(self, runner: Runner, label: str) -> None:
        self._run = runner
        self.label = label
        self._checkpoint_ready = False

    @classmethod
    def connect(cls, path: Path, *, label: str | None = None) -> SqliteEndpoint:
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = connect_wal(path)
        conn.execute("PRAGMA foreign_keys=OFF")
        return cls(FileRunner(conn), label or str(path))

    def ident(self, name: str) -> str:
        return quote_ident(name)

    def table_ref(self, name: str) -> str:
        return quote_ident(name)

    async def read_schema(self) -> Schema:
        schema = await self._run.schema_sql()
        schema.tables = [t for t in schema.tables if t.name != CHECKPOINT_TABLE]
        return schema

    async def apply_ddl(self, statements: Sequence[str]) -> None:
        await self._run.transaction([(s, [()]) for s in statements])

    async def count(self, table: Table, where: str | None = None) -> int:
        rows = await self._run.query(f"SELECT count(*) FROM {quote_ident(table.name)}"
                                     + (f" WHERE {where}" if where else ""))
        return int(rows[0][0])

    async def batches(self, table: Table, columns: Sequence[str], after: list[Any] | None, size: int,
                      where: str | None = None, mode: TimestampMode | None = None) -> AsyncGenerator[list[Row], None]:
        cols = ", ".join(map(quote_ident, columns))
        pk = table.primary_key or ("rowid",)
        keys = ", ".join(map(quote_ident, pk)) if table.primary_key else "rowid"
        width = len(columns)
        extra = not set(pk) <= set(columns)  # rowid (or a key not copied) rides along, sliced off below
        select = f"SELECT {cols}{', ' + keys if extra else ''} FROM {quote_ident(table.name)}"
        at = list(range(width, width + len(pk))) if extra else [list(columns).index(c) for c in pk]
        cond = f"({where}) AND " if where else ""
        marks = ", ".join("?" * len(pk))
        while True:
            if after is None:
                sql = select + (f" WHERE {where}" if where else "")
            else:
                sql = f"{select} WHERE {cond}({keys}) > ({marks})"
            rows = await self._run.query(f"{sql} ORDER BY {keys} LIMIT {size}", after or ())
            if not rows:
                return
            yield [row[:width] for row in rows] if extra else rows
            if len(rows) < size:
                return
            after = [rows[-1][i] for i in at]

    async def sample(self, table: Table, columns: Sequence[str], n: int, where: str | None = None) -> list[Row]:
        return list(await self._run.query(
            f"SELECT {', '.join(map(quote_ident, columns))} FROM {quote_ident(table.name)}"
            + (f" WHERE {where}" if where else "") + f" ORDER BY random() LIMIT {n}"))

    async def fetch_keys(self, table: Table, columns: Sequence[str],
                         keys: Sequence[Sequence[Portable]]) -> list[Row]:
        found: list[Row] = []
        pk = ", ".join(map(quote_ident, table.primary_key))
        marks = "(" + ", ".join("?" * len(table.primary_key)) + ")"
        for start in range(0, len(keys), 30):  # ≤ 100 parameters per query on any D1 backend
            chunk = keys[start:start + 30]
            found.extend(await self._run.query(
                f"SELECT {', '.join(map(quote_ident, columns))} FROM {quote_ident(table.name)} WHERE ({pk}) IN "
                f"(VALUES {', '.join([marks] * len(chunk))})", [v for key in chunk for v in key]))
        return found

    def _checkpoint_op(self, checkpoint: Checkpoint) -> tuple[str, list[tuple[Any, ...]]]:
        key = json.dumps(checkpoint.last_key) if checkpoint.last_key is not None else None
        return _SAVE, [(checkpoint.table, key, checkpoint.rows, int(checkpoint.done))]

    async def _ensure_checkpoint_table(self) -> None:
        if not self._checkpoint_ready:
            await self._run.transaction([(_CHECKPOINT_DDL, [()])])
            self._checkpoint_ready = True

    async def write(self, table: Table, columns: Sequence[str], rows: Sequence[Sequence[Portable]],
                    checkpoint: Checkpoint, mode: TimestampMode) -> None:
        await self._ensure_checkpoint_table()
        insert = (f"INSERT INTO {quote_ident(table.name)} ({', '.join(map(quote_ident, columns))}) "
                  f"VALUES ({', '.join('?' * len(columns))})")
        await self._run.transaction([(insert, rows), self._checkpoint_op(checkpoint)])

    async def checkpoint(self, table: str) -> Checkpoint | None:
        await self._ensure_checkpoint_table()
        rows = await self._run.query(f"SELECT last_key, rows, done FROM {quote_ident(CHECKPOINT_TABLE)} "
                                     "WHERE table_name = ?", (table,))
        return checkpoint_from(table, *rows[0]) if rows else None

    async def reset(self, table: Table) -> None:
        await self._ensure_checkpoint_table()
        await self._run.transaction([(f"DELETE FROM {quote_ident(table.name)}", [()]),
                                     (f"DELETE FROM {quote_ident(CHECKPOINT_TABLE)} WHERE table_name = ?",
                                      [(table.name,)])])

    async def finish(self, table: Table, checkpoint: Checkpoint) -> None:
        await self._ensure_checkpoint_table()
        await self._run.transaction([self._checkpoint_op(checkpoint)])

    async def scalar(self, sql: str) -> Any:
        return (await self._run.query(sql))[0][0]

    async def close(self) -> None:
        await self._run.close()


async def open_d1(name: str, project: Any) -> SqliteEndpoint:
    """The project's D1 database ``name`` (database_name or binding), in the store the Worker uses."""
    if project is None:
        raise MigrateError(f"d1:{name} needs a project (run inside it, or pass --config)")
    from portflare.backends import EMBEDDED
    from portflare.bindings.d1 import BACKENDS
    from portflare.bindings.d1.sqlite import path_from_url
    from portflare.cli.common import target

    config, state = project
    database = config.d1(name)
    binding_target = target("d1", database.binding, database.database_name, state)
    if binding_target.scheme in (EMBEDDED, "sqlite", "file"):
        path = path_from_url(binding_target)
        if isinstance(path, str):
            raise MigrateError(f"d1:{name} is an in-memory database; nothing to migrate to or from")
        return SqliteEndpoint.connect(path, label=f"d1:{name} ({path})")
    from portflare.backends import load_backend_class

    backend = await load_backend_class("d1", BACKENDS, binding_target).open(binding_target)
    return SqliteEndpoint(BackendRunner(backend), f"d1:{name} ({binding_target.scheme})")

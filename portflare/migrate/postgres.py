"""PostgreSQL as a migration source or target (asyncpg).

Reads page through a table by primary key (keyset: ``WHERE (pk) > ($1, ...) ORDER BY pk LIMIT n``) with one
prepared statement; writes go through binary ``COPY`` (``copy_records_to_table``), the fastest way into
PostgreSQL, with the checkpoint upserted in the same transaction. While copying, FK triggers are switched off
for the transaction (``session_replication_role = replica``, when the role may) so self-referencing rows and
cycles load in any order; ``migrate verify`` then checks for orphans.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncGenerator, Callable, Sequence
from typing import Any

import asyncpg

from portflare.backends import redact
from portflare.migrate.ddl import index_from_sql, parse_postgres
from portflare.migrate.endpoint import CHECKPOINT_TABLE, Checkpoint, MigrateError, Row, checkpoint_from
from portflare.migrate.model import Column, ForeignKey, Schema, Table, fk_order
from portflare.migrate.types import (
    TIMESTAMPS,
    Portable,
    TimestampMode,
    encoder,
    needs_encoding,
    parse_type,
    pg_decoder,
    pg_native,
    quote_ident,
)

log = logging.getLogger("portflare.migrate")

_COLUMNS = """
SELECT c.relname, a.attname, format_type(a.atttypid, a.atttypmod), NOT a.attnotnull,
       pg_get_expr(d.adbin, d.adrelid), a.attidentity <> '' OR coalesce(pg_get_expr(d.adbin, d.adrelid), '')
       LIKE 'nextval(%', (SELECT array_agg(e.enumlabel ORDER BY e.enumsortorder) FROM pg_enum e
       WHERE e.enumtypid = CASE WHEN t.typcategory = 'A' THEN t.typelem ELSE t.oid END)
FROM pg_attribute a
JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_type t ON t.oid = a.atttypid
LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
WHERE n.nspname = $1 AND c.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY c.oid, a.attnum
"""
_CONSTRAINTS = """
SELECT c.relname, con.conname, con.contype::text,
       ARRAY(SELECT a.attname FROM unnest(con.conkey) WITH ORDINALITY k(n, i)
             JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.n ORDER BY k.i),
       f.relname,
       ARRAY(SELECT a.attname FROM unnest(con.confkey) WITH ORDINALITY k(n, i)
             JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.n ORDER BY k.i),
       con.confdeltype::text, con.confupdtype::text, pg_get_constraintdef(con.oid)
FROM pg_constraint con JOIN pg_class c ON c.oid = con.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_class f ON f.oid = con.confrelid
WHERE n.nspname = $1 AND con.contype IN ('p', 'u', 'f', 'c') ORDER BY con.conname
"""
_INDEXES = """
SELECT pg_get_indexdef(ix.indexrelid) FROM pg_index ix
JOIN pg_class i ON i.oid = ix.indexrelid JOIN pg_class t ON t.oid = ix.indrelid
JOIN pg_namespace n ON n.oid = t.relnamespace
WHERE n.nspname = $1 AND NOT EXISTS (SELECT 1 FROM pg_constraint con WHERE con.conindid = ix.indexrelid)
ORDER BY i.relname
"""
_ACTIONS = {"c": "CASCADE", "n": "SET NULL", "d": "SET DEFAULT", "r": "RESTRICT"}


def _decoded(rows: Sequence[Sequence[Portable]],
             decoders: Sequence[tuple[int, Callable[[Any], Any], frozenset[type]]]) -> Sequence[Sequence[Any]]:
    """Portable rows as asyncpg's COPY takes them, converted column by column: a column whose values asyncpg
    takes as they are (checked in C: ``set(map(type, ...))``) is not touched."""
    if not decoders or not rows:
        return rows
    columns: list[Sequence[Any]] = list(zip(*rows, strict=True))
    changed = False
    for i, decode, native in decoders:
        column = columns[i]
        if set(map(type, column)) <= native:
            continue
        columns[i] = [v if v is None else decode(v) for v in column]
        changed = True
    return list(zip(*columns, strict=True)) if changed else rows


class PostgresEndpoint:
    dialect = "postgres"

    def __init__(self, conn: asyncpg.Connection, namespace: str, label: str) -> None:
        self._conn = conn
        self.namespace = namespace
        self.label = label
        self._replica_ok = True
        self._checkpoint_ready = False

    @classmethod
    async def connect(cls, url: str, namespace: str) -> PostgresEndpoint:
        try:
            conn = await asyncpg.connect(url, server_settings={"DateStyle": "ISO", "TimeZone": "UTC"})
        except (OSError, asyncpg.PostgresError) as exc:
            raise MigrateError(f"cannot connect to {redact(url)}: {exc}") from exc
        return cls(conn, namespace, f"{redact(url)} (schema {namespace})")

    def ident(self, name: str) -> str:
        return quote_ident(name)

    def table_ref(self, name: str) -> str:
        return f"{quote_ident(self.namespace)}.{quote_ident(name)}"

    async def read_schema(self) -> Schema:
        tables: dict[str, Table] = {}
        for rel, name, type_text, nullable, default, identity, labels in await self._conn.fetch(
                _COLUMNS, self.namespace):
            table = tables.setdefault(rel, Table(rel))
            enum = tuple(labels) if labels else None
            spelled = ("enum[]" if type_text.endswith("[]") else "enum") if enum else type_text
            table.columns.append(Column(name, spelled, nullable, None if identity else default, enum, identity))
        for rel, name, kind, columns, ref, ref_columns, on_delete, on_update, definition in await self._conn.fetch(
                _CONSTRAINTS, self.namespace):
            if rel not in tables:
                continue
            table = tables[rel]
            if kind == "p":
                table.primary_key = tuple(columns)
            elif kind == "u":
                from portflare.migrate.model import Index

                table.indexes.append(Index(name, tuple(quote_ident(c) for c in columns), True))
            elif kind == "f":
                table.foreign_keys.append(ForeignKey(tuple(columns), ref, tuple(ref_columns),
                                                     _ACTIONS.get(on_delete), _ACTIONS.get(on_update)))
            elif kind == "c":
                table.checks.append(definition)
        for (definition,) in await self._conn.fetch(_INDEXES, self.namespace):
            for node in parse_postgres(definition):
                found = index_from_sql(node)  # type: ignore[arg-type]
                if found and found[0] in tables:
                    tables[found[0]].indexes.append(found[1])
        return Schema("postgres", fk_order([t for t in tables.values() if t.name != CHECKPOINT_TABLE]))

    async def apply_ddl(self, statements: Sequence[str]) -> None:
        async with self._conn.transaction():
            await self._conn.execute(f"CREATE SCHEMA IF NOT EXISTS {quote_ident(self.namespace)}")
            for statement in statements:
                await self._conn.execute(statement)

    async def count(self, table: Table, where: str | None = None) -> int:
        return int(await self._conn.fetchval(f"SELECT count(*) FROM {self.table_ref(table.name)}"
                                             + (f" WHERE {where}" if where else "")))

    def _cols(self, columns: Sequence[str]) -> str:
        return ", ".join(map(quote_ident, columns))

    def _key_params(self, table: Table, start: int = 1) -> str:
        return ", ".join(f"${start + i}::text::{table.column(c).type if not table.column(c).enum_values else 'text'}"
                         for i, c in enumerate(table.primary_key))

    def _select(self, table: Table, columns: Sequence[str], mode: TimestampMode | None) -> tuple[str, list[int]]:
        """The select list, converting to portable values in SQL where PostgreSQL does it faster than Python
        (timestamps, booleans, numerics, uuids, arrays); returns it with the positions left for Python."""
        if mode is None:
            return self._cols(columns), []
        parts, python = [], []
        for i, name in enumerate(columns):
            column = table.column(name)
            kind = parse_type(column.type, enum=column.enum_values is not None)
            q = quote_ident(name)
            expr = q
            if name in table.primary_key or (kind.base in TIMESTAMPS and mode == "iso" and not kind.array):
                if needs_encoding(kind):  # keys stay native for keyset paging; ISO text formatted as Python does
                    python.append(i)
            elif kind.array:
                expr = f"array_to_json({q})::text"
            elif kind.base in TIMESTAMPS:
                scale = " * 1000" if mode == "unixms" else ""
                expr = f"floor(extract(epoch FROM {q}){scale})::bigint"
            elif kind.base == "boolean":
                expr = f"{q}::int"
            elif needs_encoding(kind) and kind.base != "bytea":
                expr = f"{q}::text"
            parts.append(expr)
        return ", ".join(parts), python

    async def batches(self, table: Table, columns: Sequence[str], after: list[Any] | None, size: int,
                      where: str | None = None, mode: TimestampMode | None = None) -> AsyncGenerator[list[Row], None]:
        pk = table.primary_key
        select, python = self._select(table, columns, mode)
        encode = encoder(mode) if mode else None

        def portable(rows: list[Any]) -> list[Any]:
            if not python or encode is None:
                return rows
            out = []
            for record in rows:
                row = list(record)
                for i in python:
                    if row[i] is not None:
                        row[i] = encode(row[i])
                out.append(row)
            return out

        base = f"SELECT {select} FROM {self.table_ref(table.name)}"
        if not pk:  # no key to page by: one ordered stream through a cursor, restarted whole on resume
            async with self._conn.transaction():
                cursor = self._conn.cursor(base + (f" WHERE {where}" if where else ""), prefetch=size)
                rows: list[Row] = []
                async for record in cursor:
                    rows.append(record)
                    if len(rows) >= size:
                        yield portable(rows)
                        rows = []
                if rows:
                    yield portable(rows)
            return
        order = f" ORDER BY {self._cols(pk)} LIMIT {size}"
        cond = f"({where}) AND " if where else ""
        first = await self._conn.prepare(base + (f" WHERE {where}" if where else "") + order)
        after_sql = f"{base} WHERE {cond}({self._cols(pk)}) > ({self._key_params(table)}){order}"
        nexts = await self._conn.prepare(after_sql)
        positions = [list(columns).index(c) for c in pk]
        while True:
            if after is None:
                rows = await first.fetch()
            else:
                rows = await nexts.fetch(*[str(v) for v in after])
            if not rows:
                return
            yield portable(rows)
            if len(rows) < size:
                return
            last = rows[-1]
            after = [last[i] for i in positions]

    async def sample(self, table: Table, columns: Sequence[str], n: int, where: str | None = None) -> list[Row]:
        return list(await self._conn.fetch(f"SELECT {self._cols(columns)} FROM {self.table_ref(table.name)}"
                                           + (f" WHERE {where}" if where else "") + f" ORDER BY random() LIMIT {n}"))

    async def fetch_keys(self, table: Table, columns: Sequence[str],
                         keys: Sequence[Sequence[Portable]]) -> list[Row]:
        found: list[Row] = []
        width = len(table.primary_key)
        for start in range(0, len(keys), 500):
            chunk = keys[start:start + 500]
            conds = " OR ".join(f"({self._cols(table.primary_key)}) = ({self._key_params(table, 1 + i * width)})"
                                for i in range(len(chunk)))
            params = [str(v) for key in chunk for v in key]
            found.extend(await self._conn.fetch(
                f"SELECT {self._cols(columns)} FROM {self.table_ref(table.name)} WHERE {conds}", *params))
        return found

    async def _ensure_checkpoint_table(self) -> None:
        if not self._checkpoint_ready:
            await self._conn.execute(f"CREATE SCHEMA IF NOT EXISTS {quote_ident(self.namespace)}")
            await self._conn.execute(
                f"CREATE TABLE IF NOT EXISTS {self.table_ref(CHECKPOINT_TABLE)} (table_name text PRIMARY KEY, "
                "last_key text, rows bigint NOT NULL, done boolean NOT NULL DEFAULT false)")
            self._checkpoint_ready = True

    async def _save(self, checkpoint: Checkpoint) -> None:
        import json

        await self._conn.execute(
            f"INSERT INTO {self.table_ref(CHECKPOINT_TABLE)} (table_name, last_key, rows, done) "
            "VALUES ($1, $2, $3, $4) ON CONFLICT (table_name) DO UPDATE SET last_key = EXCLUDED.last_key, "
            "rows = EXCLUDED.rows, done = EXCLUDED.done",
            checkpoint.table, json.dumps(checkpoint.last_key) if checkpoint.last_key is not None else None,
            checkpoint.rows, checkpoint.done)

    async def write(self, table: Table, columns: Sequence[str], rows: Sequence[Sequence[Portable]],
                    checkpoint: Checkpoint, mode: TimestampMode) -> None:
        await self._ensure_checkpoint_table()
        records = _decoded(rows, self._decoders(table, columns, mode))
        async with self._conn.transaction():
            await self._replica_mode()
            await self._conn.copy_records_to_table(table.name, records=records, columns=list(columns),
                                                   schema_name=self.namespace)
            await self._save(checkpoint)

    def _decoders(self, table: Table, columns: Sequence[str],
                  mode: TimestampMode) -> list[tuple[int, Callable[[Any], Any], frozenset[type]]]:
        found = []
        for i, name in enumerate(columns):
            column = table.column(name)
            kind = parse_type(column.type, enum=column.enum_values is not None)
            decode = pg_decoder(kind, mode)
            if decode is not None:
                found.append((i, decode, pg_native(kind)))
        return found

    async def _replica_mode(self) -> None:
        if not self._replica_ok:
            return
        try:
            async with self._conn.transaction():  # a savepoint: a refusal must not abort the outer transaction
                await self._conn.execute("SET LOCAL session_replication_role = replica")
        except asyncpg.InsufficientPrivilegeError:
            self._replica_ok = False
            log.warning("%s: cannot defer foreign keys (needs superuser); copying in FK order", self.label)

    async def checkpoint(self, table: str) -> Checkpoint | None:
        await self._ensure_checkpoint_table()
        row = await self._conn.fetchrow(f"SELECT last_key, rows, done FROM {self.table_ref(CHECKPOINT_TABLE)} "
                                        "WHERE table_name = $1", table)
        return checkpoint_from(table, *row) if row else None

    async def reset(self, table: Table) -> None:
        await self._ensure_checkpoint_table()
        async with self._conn.transaction():
            await self._replica_mode()
            await self._conn.execute(f"DELETE FROM {self.table_ref(table.name)}")
            await self._conn.execute(f"DELETE FROM {self.table_ref(CHECKPOINT_TABLE)} WHERE table_name = $1",
                                     table.name)

    async def finish(self, table: Table, checkpoint: Checkpoint) -> None:
        await self._ensure_checkpoint_table()
        async with self._conn.transaction():
            await self._save(checkpoint)
            for column in table.columns:
                if column.identity:  # ids were copied explicitly: move the sequence past them
                    ref = self.table_ref(table.name)
                    await self._conn.execute(
                        f"SELECT setval(pg_get_serial_sequence($1, $2), coalesce(max({quote_ident(column.name)}), 1), "
                        f"max({quote_ident(column.name)}) IS NOT NULL) FROM {ref}", ref, column.name)

    async def scalar(self, sql: str) -> Any:
        return await self._conn.fetchval(sql)

    async def close(self) -> None:
        await self._conn.close()

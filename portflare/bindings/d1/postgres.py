"""D1 on PostgreSQL (``PORTFLARE_DB=postgres://user:pass@host:5432/db?pool_size=5``), through asyncpg.

Each D1 database lives in its own schema (``d1_<database_name>``, or ``?schema=NAME``), so many share one
server. Statements are translated from SQLite (``translate_postgres.py``) and run on a pooled connection.

* Parameters are typed by PostgreSQL from their context; the first time a statement runs, its parameter types
  are learnt (one extra Describe round trip) and later values are converted to them the way SQLite's
  affinity would (``'5'`` for an integer column is 5), so a Worker's usual loose binding keeps working.
* A parameter PostgreSQL cannot type (``SELECT ? AS x``) is cast by its value's type.
* ``changes`` counts the rows a ``RETURNING`` (added to every write) gives back; ``last_row_id`` is the
  inserted row's rowid from it. ``size_after`` is the schema's relation size, refreshed at most once a second.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, Self

import asyncpg
from asyncpg.pool import PoolConnectionProxy

from portflare.backends import BackendTarget, redact
from portflare.bindings.d1.base import SqlError, SqlValue
from portflare.bindings.d1.lru import Lru
from portflare.bindings.d1.pinned import PinnedPool
from portflare.bindings.d1.server import (
    SCHEMA_TABLE,
    STATEMENTS_CACHED,
    Outcome,
    ServerD1Backend,
    ServerUrl,
    schema_name,
    sqlite_json,
)
from portflare.bindings.d1.server_functions import POSTGRES as HELPER_FUNCTIONS
from portflare.bindings.d1.shadow import Shadow
from portflare.bindings.d1.translate import CAST_MARK, POSTGRES, Translation
from portflare.bindings.d1.translate_types import coerce, text_of
from portflare.errors import BackendError

_CAST_TYPES = {int: "bigint", float: "double precision", str: "text", bytes: "bytea", type(None): "text"}
_KEY = re.compile(r"Key \((.*?)\)=")
Coerce = Callable[[SqlValue], Any]


def _to_int(value: SqlValue) -> Any:
    if isinstance(value, float):
        return coerce(value, "integer")  # a non-integral one is refused: asyncpg would round it
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            return value
    return value


def _to_float(value: SqlValue) -> Any:
    if isinstance(value, int):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return value
    return value


def _to_numeric(value: SqlValue) -> Any:
    if isinstance(value, (int, float, str)):
        try:
            return Decimal(str(value))
        except InvalidOperation:
            return value
    return value


def _to_text(value: SqlValue) -> Any:
    return text_of(value)  # SQLite's TEXT affinity stores a number's text (a REAL as 2.0, 0.3, 1.0e+20)


_COERCE: dict[str, Coerce] = {
    "int2": _to_int, "int4": _to_int, "int8": _to_int, "float4": _to_float, "float8": _to_float,
    "numeric": _to_numeric, "text": _to_text, "varchar": _to_text, "bpchar": _to_text,
}
# Result types asyncpg decodes to SQLite's own values (json and jsonb through ``sqlite_json``); any other
# (bool, numeric, timestamps…) goes through ``sqlite_value``.
_PLAIN_TYPES = frozenset({"int2", "int4", "int8", "float4", "float8", "text", "varchar", "bpchar", "bytea",
                          "json", "jsonb"})
_ROW_WRITES = frozenset({"insert", "update", "delete"})


# The Python type each coercion leaves as it is.
_NATIVE: dict[Coerce, type] = {_to_int: int, _to_float: float, _to_text: str}


@dataclass(frozen=True, slots=True)
class _Shape:
    """What PostgreSQL's Describe of one statement told: how to coerce each parameter, the result columns,
    and whether every result column decodes to an SQLite value as it is."""

    coercers: tuple[Coerce | None, ...]
    columns: tuple[str, ...]
    plain: bool
    native: tuple[type, ...] | None  # parameter values of exactly these types pass uncoerced; None: never


async def _describe(conn: Any, sql: str) -> _Shape:
    statement = await conn.prepare(sql)
    coercers = tuple(_COERCE.get(t.name) for t in statement.get_parameters())
    native = None
    if all(c in _NATIVE for c in coercers):
        native = tuple(_NATIVE[c] for c in coercers if c is not None)
    attributes = statement.get_attributes()
    return _Shape(coercers, tuple(a.name for a in attributes), all(a.type.name in _PLAIN_TYPES for a in attributes),
                  native)


async def _init_connection(conn: asyncpg.Connection) -> None:
    for name in ("json", "jsonb"):
        await conn.set_type_codec(name, schema="pg_catalog", encoder=json.dumps, decoder=sqlite_json,
                                  format="text")


async def _keep_session(conn: asyncpg.Connection) -> None:
    """asyncpg's default reset costs a round trip per release (``RESET ALL``, ``UNLISTEN *``…); a D1 session
    leaves nothing behind (``SET CONSTRAINTS`` ends with its transaction), so releasing is free."""


class PostgresD1Backend(ServerD1Backend):
    dialect = POSTGRES

    def __init__(self, pool: asyncpg.Pool, size: int, shadow: Shadow, schema: str) -> None:
        super().__init__(PinnedPool(pool.acquire, self._release, _usable, size), shadow, schema)
        self._pool = pool
        self._shapes: Lru[str, _Shape] = Lru(STATEMENTS_CACHED)  # server SQL -> what its Describe told
        self._rendered: Lru[tuple[str, tuple[type, ...]], str] = Lru(STATEMENTS_CACHED)

    @classmethod
    async def open(cls, target: BackendTarget) -> Self:
        url = ServerUrl.parse(target)
        schema = url.schema or schema_name(target.resource)
        quoted = '"' + schema.replace('"', '""') + '"'
        try:
            pool = await asyncpg.create_pool(
                url.dsn, min_size=1, max_size=url.pool_size, init=_init_connection, reset=_keep_session,
                server_settings={"search_path": schema, "TimeZone": "UTC"},
            )
        except (OSError, asyncpg.PostgresError, ValueError) as exc:
            raise BackendError(f"PORTFLARE_{target.binding}={redact(target.url)}: cannot connect: {exc}") from exc
        try:
            async with pool.acquire() as conn, conn.transaction():
                # One opener at a time sets the schema up (CREATE OR REPLACE races between processes).
                await conn.execute("SELECT pg_advisory_xact_lock(hashtext($1))", schema)
                await conn.execute(f"CREATE SCHEMA IF NOT EXISTS {quoted}")
                await conn.execute(HELPER_FUNCTIONS)
                await conn.execute(f"CREATE TABLE IF NOT EXISTS {SCHEMA_TABLE} "
                                   "(seq BIGSERIAL PRIMARY KEY, sql TEXT NOT NULL)")
                rows = await conn.fetch(f"SELECT seq, sql FROM {SCHEMA_TABLE} ORDER BY seq")
        except BaseException:
            await pool.close()
            raise
        backend = cls(pool, url.pool_size, Shadow(str(r["sql"]) for r in rows), schema)
        backend._schema_seq = int(rows[-1]["seq"]) if rows else 0
        return backend

    async def _release(self, conn: PoolConnectionProxy[Any], broken: bool) -> None:
        # asyncpg's release waits out a cancelled query and drops a connection it cannot reset.
        await self._pool.release(conn)

    def transaction(self, conn: Any) -> AbstractAsyncContextManager[Any]:
        return conn.transaction()  # type: ignore[no-any-return]

    async def run(self, conn: Any, translation: Translation, params: tuple[SqlValue, ...]) -> Outcome:
        sql = self._render(translation, params) if translation.casts else translation.sql
        shape = self._shapes.get(sql)
        if shape is None:
            shape = await _describe(conn, sql)
            self._shapes.put(sql, shape)
        if tuple(map(type, params)) == shape.native:
            records = await conn.fetch(sql, *params)  # values of the parameters' own types need no coercion
        else:
            records = await conn.fetch(sql, *[c(v) if c is not None else v
                                              for c, v in zip(shape.coercers, params, strict=False)])
        if not translation.returns_rows and not translation.extra_column:
            return Outcome((), [], 0, None)
        columns = shape.columns
        # Values of the types learnt need no conversion; the columns are checked against the row's own, in
        # case another process changed the table under a cached ``SELECT *``.
        plain = shape.plain
        if records:
            keys = tuple(records[0].keys())
            plain = plain and keys == columns
            columns = keys
        rows: list[tuple[Any, ...]] = list(map(tuple, records))
        last_row_id = None
        changes = len(rows) if translation.kind in _ROW_WRITES else 0
        if translation.extra_column:
            if translation.kind == "insert" and translation.table:
                inserted = [r[-1] for r in rows if r[-1] is not None]
                last_row_id = int(inserted[-1]) if inserted else None
            columns = columns[:-1]
            rows = [r[:-1] for r in rows]
        if not translation.returns_rows:
            return Outcome((), [], changes, last_row_id)
        if translation.hide_rowid:
            keep = [i for i, c in enumerate(columns) if c != "rowid"]
            columns = tuple(columns[i] for i in keep)
            rows = [tuple(r[i] for i in keep) for r in rows]
        return Outcome(columns, rows, changes, last_row_id, plain)

    def _render(self, translation: Translation, params: tuple[SqlValue, ...]) -> str:
        """``translation.sql`` with each parameter PostgreSQL cannot type cast by its value's type."""
        signature = tuple(type(params[i]) if i < len(params) else type(None) for i in translation.casts)
        key = (translation.sql, signature)
        rendered = self._rendered.get(key)
        if rendered is None:
            types = dict(zip(translation.casts, signature, strict=True))
            rendered = CAST_MARK.sub(
                lambda m: f"${m.group(1)}::{_CAST_TYPES.get(types[int(m.group(1)) - 1], 'text')}", translation.sql)
            self._rendered.put(key, rendered)
        return rendered

    async def run_script(self, conn: Any, sql: str) -> None:
        await conn.execute(sql)

    async def record_ddl(self, conn: Any, sql: str) -> None:
        await self.schema_changed(conn)
        seq = await conn.fetchval(f"INSERT INTO {SCHEMA_TABLE} (sql) VALUES ($1) RETURNING seq", sql)
        self.recorded(int(seq))

    async def schema_changed(self, conn: Any) -> None:
        # Parameter types are fixed when a statement is prepared: asyncpg's statement cache (on every
        # connection of the pool) would go on encoding a parameter for its column's old type.
        self._shapes.clear()
        await conn.reload_schema_state()

    async def schema_since(self, conn: Any, seq: int) -> list[tuple[int, str]]:
        rows = await conn.fetch(f"SELECT seq, sql FROM {SCHEMA_TABLE} WHERE seq > $1 ORDER BY seq", seq)
        return [(int(r["seq"]), str(r["sql"])) for r in rows]

    async def defer_foreign_keys(self, conn: Any) -> None:
        await conn.execute("SET CONSTRAINTS ALL DEFERRED")

    async def measure_size(self, conn: Any) -> int:
        size = await conn.fetchval(
            "SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0) FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relkind = 'r'", self.schema)
        return int(size)

    async def sequences(self, conn: Any) -> list[tuple[str, int]]:
        rows = await conn.fetch("SELECT name, seq FROM _cf_sequence")
        return [(str(r["name"]), int(r["seq"])) for r in rows]

    def map_error(self, exc: Exception, translation: Translation) -> SqlError | None:
        if isinstance(exc, asyncpg.exceptions.DataError) and "query argument" in str(exc):
            # A value that the column's type cannot take (SQLite would have stored it as it is).
            return SqlError(f"datatype mismatch: {exc}", "SQLITE_MISMATCH")
        if isinstance(exc, asyncpg.PostgresError):
            return _sqlite_error(exc)
        return None

    async def close(self) -> None:
        await super().close()  # returns the pinned connection, which the pool's close waits for
        await self._pool.close()


def _usable(conn: PoolConnectionProxy[Any]) -> bool:
    try:
        return not conn.is_closed() and not conn.is_in_transaction()
    except asyncpg.InterfaceError:  # the pool already took it back: the server closed it
        return False


def _sqlite_error(exc: asyncpg.PostgresError) -> SqlError:
    """A PostgreSQL error in SQLite's words, as ``D1_ERROR: <message>: <code>`` needs them."""
    state = getattr(exc, "sqlstate", "") or ""
    table = getattr(exc, "table_name", None) or ""
    message = str(getattr(exc, "message", None) or exc)
    if state == "23505":
        match = _KEY.search(getattr(exc, "detail", "") or "")
        columns = [c.strip().strip('"') for c in match.group(1).split(",")] if match else []
        if any("(" in c for c in columns):  # an index on an expression: SQLite names the index
            return SqlError(f"UNIQUE constraint failed: index '{getattr(exc, 'constraint_name', '')}'",
                            "SQLITE_CONSTRAINT")
        names = ", ".join(f"{table}.{c}" for c in columns) or table
        return SqlError(f"UNIQUE constraint failed: {names}", "SQLITE_CONSTRAINT")
    if state == "23503":
        return SqlError("FOREIGN KEY constraint failed", "SQLITE_CONSTRAINT")
    if state == "23502":
        return SqlError(f"NOT NULL constraint failed: {table}.{getattr(exc, 'column_name', '')}",
                        "SQLITE_CONSTRAINT")
    if state == "23514":
        return SqlError(f"CHECK constraint failed: {getattr(exc, 'constraint_name', '')}", "SQLITE_CONSTRAINT")
    if state == "42P01":
        match = re.search(r'relation "(.*?)" does not exist', message)
        return SqlError(f"no such table: {match.group(1) if match else message}")
    if state == "42703":
        match = re.search(r'column "(.*?)"', message)
        return SqlError(f"no such column: {match.group(1) if match else message}")
    if state.startswith("22") or state == "42804":
        return SqlError(message, "SQLITE_MISMATCH")
    if state == "54000":
        return SqlError(message, "SQLITE_TOOBIG")
    return SqlError(message)

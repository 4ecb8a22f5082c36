"""What the PostgreSQL and MySQL backends share: a D1 database on a server, run through translation.

Each statement is first compiled by the schema mirror (``shadow.py``), so SQLite decides what is valid and
words the refusal; then translated (``translate.py``, cached per statement text and schema), run by the
driver, and its result made to look like SQLite's (0/1 for booleans, ints and floats, bytes, ``changes``,
``last_row_id``). DDL is applied to the mirror and recorded in a ``_cf_schema`` table on the server, which
a process replays into its mirror when it opens the database (or meets a table it does not know yet).
D1 refuses ``_cf_``-prefixed names in user SQL, so that table can never collide with a user's.

A driver module subclasses ``ServerD1Backend`` with the few operations that differ: sessions and
transactions, running one translated statement, recording DDL, deferring foreign keys, sizes and sequences.
"""

from __future__ import annotations

import datetime
import json
import time
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, ClassVar
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from portflare.backends import BackendTarget, safe_name
from portflare.bindings.d1.base import SqlError, SqlValue, Statement, StatementResult
from portflare.bindings.d1.dump import dump_sql
from portflare.bindings.d1.shadow import Shadow
from portflare.bindings.d1.splitter import analyze
from portflare.bindings.d1.translate import Translation, TranslationError, translate
from portflare.errors import BackendError

SCHEMA_TABLE = "_cf_schema"
DEFAULT_POOL_SIZE = 5
SIZE_TTL_S = 1.0
_SHADOW_PRAGMAS = frozenset({"table_info", "table_xinfo", "index_list", "index_info", "index_xinfo",
                             "foreign_key_list", "table_list"})
_STALE = ("no such table", "no such column", "no such index")
_PLAIN = (int, str, float, bytes, type(None))


@dataclass(frozen=True)
class ServerUrl:
    """``postgres://user:pass@host:port/db?pool_size=N&schema=NAME``, split into the driver's URL and ours."""

    dsn: str  # without portflare's options
    pool_size: int
    schema: str | None

    @classmethod
    def parse(cls, target: BackendTarget) -> ServerUrl:
        parts = urlsplit(target.url or "")
        options = dict(parse_qsl(parts.query, keep_blank_values=True))
        pool = options.pop("pool_size", str(DEFAULT_POOL_SIZE))
        schema = options.pop("schema", None)
        try:
            pool_size = int(pool)
            if pool_size < 1:
                raise ValueError(pool)
        except ValueError:
            raise BackendError(
                f"PORTFLARE_{target.binding}: pool_size must be a positive integer, not {pool!r}") from None
        dsn = urlunsplit(parts._replace(query=urlencode(options)))
        return cls(dsn=dsn, pool_size=pool_size, schema=schema or None)


def schema_name(resource: str, prefix: str = "d1_") -> str:
    """The server-side schema (PostgreSQL) or database (MySQL) holding one D1 database: ``d1_<name>``."""
    return (prefix + safe_name(resource).replace(".", "_").replace("-", "_")).lower()[:63]


def sqlite_value(value: Any) -> SqlValue:
    """A driver value as SQLite would have returned it."""
    if isinstance(value, bool):  # before _PLAIN, which it is part of (bool is an int)
        return int(value)
    if isinstance(value, _PLAIN):
        return value
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, (bytearray, memoryview)):
        return bytes(value)
    if isinstance(value, datetime.datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, (datetime.date, datetime.time)):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, (dict, list)):
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    return str(value)


def sqlite_json(text: str | bytes | None) -> SqlValue:
    """A JSON value as ``json_extract`` returns it: scalars as SQL values, objects and arrays as compact JSON."""
    if text is None:
        return None
    value = json.loads(text)
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, (dict, list)):
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    return value  # type: ignore[no-any-return]


@dataclass
class Outcome:
    """One translated statement's raw result, before D1's meta is derived."""

    columns: tuple[str, ...]
    rows: list[tuple[Any, ...]]
    changes: int
    last_row_id: int | None  # None: the statement inserted no row


class ServerD1Backend:
    dialect: ClassVar[str]

    def __init__(self, shadow: Shadow, schema: str) -> None:
        self._shadow = shadow
        self.schema = schema
        self._checked: dict[str, object] = {}  # sql -> the catalog it was compiled against
        self._last_row_id = 0
        self._size = 0
        self._size_at = 0.0
        self._schema_seq = 0

    # --- driver operations --------------------------------------------------------------------------------

    def session(self, transaction: bool) -> AbstractAsyncContextManager[Any]:
        raise NotImplementedError

    async def run(self, conn: Any, translation: Translation, params: tuple[SqlValue, ...]) -> Outcome:
        raise NotImplementedError

    async def run_script(self, conn: Any, sql: str) -> None:
        raise NotImplementedError

    async def record_ddl(self, conn: Any, sql: str) -> None:
        raise NotImplementedError

    async def schema_since(self, conn: Any, seq: int) -> list[tuple[int, str]]:
        raise NotImplementedError

    async def defer_foreign_keys(self, conn: Any) -> None:
        raise NotImplementedError

    async def restore_foreign_keys(self, conn: Any) -> None:
        """Undo ``defer_foreign_keys`` at the end of a transaction, if the engine needs it."""

    async def measure_size(self, conn: Any) -> int:
        raise NotImplementedError

    async def sequences(self, conn: Any) -> list[tuple[str, int]]:
        """``(table, last rowid)`` for AUTOINCREMENT tables, as ``sqlite_sequence`` would hold them."""
        raise NotImplementedError

    def map_error(self, exc: Exception, translation: Translation) -> SqlError | None:
        raise NotImplementedError

    # --- the D1Backend interface ----------------------------------------------------------------------------

    async def execute(self, statements: Sequence[Statement], *, atomic: bool) -> list[StatementResult]:
        ddl = any(_is_ddl(s.sql) for s in statements)
        transaction = atomic or ddl
        results: list[StatementResult] = []
        deferred = False
        try:
            async with self.session(transaction) as conn:
                if ddl:
                    self._shadow.begin()
                for index, statement in enumerate(statements):
                    try:
                        result, defer = await self._run(conn, statement)
                    except SqlError as exc:
                        exc.index = index
                        raise
                    deferred = deferred or defer
                    results.append(result)
                if deferred:
                    await self.restore_foreign_keys(conn)
        except BaseException:
            self._shadow.rollback()
            self._checked.clear()
            raise
        self._shadow.commit()
        if ddl:
            self._checked.clear()
            self._size_at = 0.0
        return results

    async def _run(self, conn: Any, statement: Statement) -> tuple[StatementResult, bool]:
        start = time.perf_counter()
        sql, params = statement.sql, statement.params
        await self._check(conn, sql, len(params))
        if _is_ddl(sql):
            # DROP is translated against the schema that still has the object (MySQL's DROP INDEX names its
            # table); CREATE and ALTER against the schema that has the new one.
            dropped = self._translate(sql) if analyze(sql)[0].first_word == "DROP" else None
            self._shadow.apply(sql)
        translation = dropped or self._translate(sql) if _is_ddl(sql) else self._translate(sql)
        deferred = False
        if translation.kind == "pragma":
            columns, rows, deferred = await self._pragma(conn, translation)
            outcome = Outcome(columns, rows, 0, None)
        elif translation.kind == "shadow":
            columns, rows = self._shadow.query(sql, params)
            outcome = Outcome(columns, list(rows), 0, None)
        elif translation.kind == "ddl":
            outcome = await self._guarded(conn, translation, params)
            for companion in translation.after:
                await self.run_script(conn, companion)
            await self.record_ddl(conn, sql)
        else:
            outcome = await self._guarded(conn, translation, params)
        changed = outcome.changes != 0 or translation.kind == "ddl"
        if outcome.last_row_id is not None and outcome.last_row_id != self._last_row_id:
            self._last_row_id = outcome.last_row_id
            changed = True
        if translation.kind in ("insert", "update", "delete", "ddl") and (
                changed and time.monotonic() - self._size_at > SIZE_TTL_S):
            self._size = await self.measure_size(conn)
            self._size_at = time.monotonic()
        rows = [tuple(map(sqlite_value, row)) for row in outcome.rows]
        return StatementResult(
            columns=outcome.columns, rows=rows, changes=outcome.changes, last_row_id=self._last_row_id,
            rows_read=len(rows), rows_written=outcome.changes, duration=(time.perf_counter() - start) * 1000.0,
            size_after=self._size, changed_db=changed,
        ), deferred

    def _translate(self, sql: str) -> Translation:
        return translate(sql, self.dialect, self._shadow.catalog)

    async def _check(self, conn: Any, sql: str, parameters: int) -> None:
        catalog = self._shadow.catalog
        if self._checked.get(sql) is catalog:
            return
        try:
            self._shadow.check(sql, parameters)
        except SqlError as exc:
            if not exc.message.startswith(_STALE) or not await self._refresh(conn):
                raise
            self._shadow.check(sql, parameters)
        self._checked[sql] = self._shadow.catalog

    async def _refresh(self, conn: Any) -> bool:
        """Replay DDL other processes committed since we last looked; True if there was any."""
        rows = await self.schema_since(conn, self._schema_seq)
        if not rows:
            return False
        self._schema_seq = rows[-1][0]
        self._shadow.replay(sql for _, sql in rows)
        return True

    async def _guarded(self, conn: Any, translation: Translation, params: tuple[SqlValue, ...]) -> Outcome:
        try:
            return await self.run(conn, translation, params)
        except SqlError:
            raise
        except Exception as exc:
            mapped = self.map_error(exc, translation)
            if mapped is None:
                raise
            raise mapped from exc

    async def _pragma(self, conn: Any, translation: Translation) -> tuple[tuple[str, ...], list[tuple[Any, ...]], bool]:
        assert translation.pragma is not None
        name, value = translation.pragma
        if name in _SHADOW_PRAGMAS:
            columns, rows = self._shadow.query(translation.sql)
            return columns, list(rows), False
        if name == "foreign_keys":
            # Always enforced, as on D1, where the PRAGMA is a no-op inside its implicit transaction.
            return (("foreign_keys",), [(1,)], False) if value is None else ((), [], False)
        if name == "defer_foreign_keys":
            if value is None:
                return ("defer_foreign_keys",), [(0,)], False
            if value.strip().strip("'\"").lower() in ("1", "on", "true", "yes"):
                await self.defer_foreign_keys(conn)
                return (), [], True
            return (), [], False
        if name in ("optimize", "analysis_limit"):
            return (), [], False
        raise TranslationError(f"PRAGMA {name}", self.dialect)

    async def dump(self, *, tables: Sequence[str] = (), no_schema: bool = False,
                   no_data: bool = False) -> list[str]:
        shadow = self._shadow
        data: dict[str, tuple[tuple[str, ...], list[tuple[SqlValue, ...]]]] = {}
        async with self.session(True) as conn:
            await self._refresh(conn)
            if not no_data:
                for table in shadow.catalog.tables.values():
                    columns = tuple(c.name for c in table.columns)
                    select = Statement(f"SELECT {', '.join(_quote(c) for c in columns)} FROM {_quote(table.name)} "
                                       f"ORDER BY {_quote(table.rowid_column)}")
                    translation = self._translate(select.sql)
                    outcome = await self._guarded(conn, translation, ())
                    data[f"SELECT {', '.join(_quote(c) for c in columns)} FROM {_quote(table.name)};"] = (
                        columns, [tuple(map(sqlite_value, r)) for r in outcome.rows])
                sequence = [(name, seq) for name, seq in await self.sequences(conn) if seq]
                data['SELECT "name", "seq" FROM "sqlite_sequence";'] = (("name", "seq"), list(sequence))

        def query(sql: str) -> tuple[tuple[str, ...], list[tuple[SqlValue, ...]]]:
            if sql in data:
                return data[sql]
            return shadow.query(sql)

        return list(dump_sql(query, tables=tables, no_schema=no_schema, no_data=no_data))

    async def size(self) -> int:
        async with self.session(False) as conn:
            self._size = await self.measure_size(conn)
        return self._size

    async def close(self) -> None:
        self._shadow.close()


def _is_ddl(sql: str) -> bool:
    infos = analyze(sql)
    return bool(infos) and infos[0].first_word in ("CREATE", "DROP", "ALTER")


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


async def _aiter(items: Sequence[Any]) -> AsyncIterator[Any]:
    for item in items:
        yield item

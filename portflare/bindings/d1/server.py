"""What the PostgreSQL and MySQL backends share: a D1 database on a server, run through translation.

Each statement is first compiled by the schema mirror (``shadow.py``), so SQLite decides what is valid and
words the refusal; then translated (``translate.py``, cached per statement text and schema), run by the
driver, and its result made to look like SQLite's (0/1 for booleans, ints and floats, bytes, ``changes``,
``last_row_id``). DDL is applied to the mirror and recorded in a ``_cf_schema`` table on the server, which
a process replays into its mirror when it opens the database (or meets a table it does not know yet).
D1 refuses ``_cf_``-prefixed names in user SQL, so that table can never collide with a user's.

A driver module subclasses ``ServerD1Backend`` with the few operations that differ: its pool (wrapped in a
``PinnedPool``) and transactions, running one translated statement, recording DDL, deferring foreign keys,
sizes and sequences.
"""

from __future__ import annotations

import datetime
import json
import time
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from typing import Any, ClassVar, NoReturn
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from portflare.backends import BackendTarget, safe_name
from portflare.bindings.d1.base import SqlError, SqlValue, Statement, StatementResult
from portflare.bindings.d1.dump import dump_sql, sqlite_file
from portflare.bindings.d1.lru import Lru
from portflare.bindings.d1.pinned import PinnedPool
from portflare.bindings.d1.shadow import Catalog, Shadow
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
_WRITES = frozenset({"insert", "update", "delete", "ddl"})
STATEMENTS_CACHED = 1024  # translations kept per database (see lru.py)


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


@dataclass(slots=True)
class Outcome:
    """One translated statement's raw result, before D1's meta is derived."""

    columns: tuple[str, ...]
    rows: list[tuple[Any, ...]]
    changes: int
    last_row_id: int | None  # None: the statement inserted no row
    plain: bool = False  # every value in ``rows`` is already an SQLite value (``sqlite_value`` is not needed)


class ServerD1Backend:
    dialect: ClassVar[str]

    def __init__(self, connections: PinnedPool[Any], shadow: Shadow, schema: str) -> None:
        self.connections = connections
        self._shadow = shadow
        self.schema = schema
        # sql -> (the schema snapshot it was checked and translated against, its translation)
        self._statements: Lru[str, tuple[Catalog, Translation]] = Lru(STATEMENTS_CACHED)
        self._last_row_id = 0
        self._size = 0
        self._size_at = 0.0
        self._schema_seq = 0  # the last _cf_schema row the mirror has applied (every earlier one too)

    # --- driver operations --------------------------------------------------------------------------------

    def transaction(self, conn: Any) -> AbstractAsyncContextManager[Any]:
        """BEGIN on entry; COMMIT on a clean exit, ROLLBACK on an exception."""
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

    async def schema_changed(self, conn: Any) -> None:
        """Forget what the driver learnt of statements under the old schema (DDL ran, here or elsewhere)."""

    async def measure_size(self, conn: Any) -> int:
        raise NotImplementedError

    async def sequences(self, conn: Any) -> list[tuple[str, int]]:
        """``(table, last rowid)`` for AUTOINCREMENT tables, as ``sqlite_sequence`` would hold them."""
        raise NotImplementedError

    def map_error(self, exc: Exception, translation: Translation) -> SqlError | None:
        raise NotImplementedError

    # --- the D1Backend interface ----------------------------------------------------------------------------

    async def execute(self, statements: Sequence[Statement], *, atomic: bool) -> list[StatementResult]:
        # The point query's path (one statement, autocommitted, on the pinned connection) is written out
        # flat: each layer more costs more than one would think, run after the wait for the server.
        ddl = _is_ddl(statements[0].sql) if len(statements) == 1 else any(_is_ddl(s.sql) for s in statements)
        schema_seq = self._schema_seq
        connections = self.connections
        conn = connections.take()
        if conn is None:
            conn = await connections.acquire()
        try:
            if atomic or ddl:
                async with self.transaction(conn):
                    if ddl:
                        self._shadow.begin()
                    results = await self._run_all(conn, statements)
            elif len(statements) == 1:  # autocommits by itself
                try:
                    result, deferred = await self._run(conn, statements[0])
                except SqlError as exc:
                    exc.index = 0
                    raise
                if deferred:
                    await self.restore_foreign_keys(conn)
                results = [result]
            else:
                results = await self._run_all(conn, statements)
        except BaseException as exc:
            self._shadow.rollback()
            if ddl:
                # The mirror's transaction is undone, with any DDL of other processes replayed into it.
                self._schema_seq = schema_seq
            await connections.release(conn, clean=isinstance(exc, SqlError))
            raise
        if not connections.put_back(conn):
            await connections.release(conn, clean=True)
        if ddl:
            self._shadow.commit()
            self._size_at = 0.0
        return results

    async def _run_all(self, conn: Any, statements: Sequence[Statement]) -> list[StatementResult]:
        results = []
        deferred = False
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
        return results

    async def _run(self, conn: Any, statement: Statement) -> tuple[StatementResult, bool]:
        start = time.perf_counter()
        sql, params = statement.sql, statement.params
        cached = self._statements.get(sql)
        if cached is not None and cached[0] is self._shadow.catalog:
            translation = cached[1]
        else:
            translation = await self._prepare(conn, sql, len(params))
        kind = translation.kind
        deferred = False
        if kind == "pragma":
            columns, rows, deferred = await self._pragma(conn, translation)
            outcome = Outcome(columns, rows, 0, None)
        elif kind == "shadow":
            columns, rows = self._shadow.query(sql, params)
            outcome = Outcome(columns, list(rows), 0, None)
        else:
            try:
                outcome = await self.run(conn, translation, params)
                if kind == "ddl":
                    for companion in translation.after:
                        await self.run_script(conn, companion)
                    await self.record_ddl(conn, sql)
            except SqlError:
                raise
            except Exception as exc:
                self._raise_mapped(exc, translation)
        changes = outcome.changes
        changed = changes != 0 or kind == "ddl"
        last_row_id = outcome.last_row_id
        if last_row_id is not None and last_row_id != self._last_row_id:
            self._last_row_id = last_row_id
            changed = True
        if changed and kind in _WRITES and time.monotonic() - self._size_at > SIZE_TTL_S:
            self._size = await self.measure_size(conn)
            self._size_at = time.monotonic()
        rows = outcome.rows if outcome.plain else [tuple(map(sqlite_value, row)) for row in outcome.rows]
        return StatementResult(
            outcome.columns, rows, changes, self._last_row_id, len(rows), changes,
            (time.perf_counter() - start) * 1000.0, self._size, changed,
        ), deferred

    async def _prepare(self, conn: Any, sql: str, parameters: int) -> Translation:
        """Check ``sql`` against the schema mirror and translate it; DDL is also applied to the mirror.

        The translation of anything but DDL is cached with the schema snapshot it was made for, so it is
        reused until the schema changes (DDL is prepared afresh each time: it changes the schema itself).
        """
        try:
            self._shadow.check(sql, parameters)
        except SqlError as exc:
            if not exc.message.startswith(_STALE) or not await self._refresh(conn):
                raise
            self._shadow.check(sql, parameters)
        if not _is_ddl(sql):
            translation = self._translate(sql)
            self._statements.put(sql, (self._shadow.catalog, translation))
            return translation
        # DROP is translated against the schema that still has the object (MySQL's DROP INDEX names its
        # table); CREATE and ALTER against the schema that has the new one.
        dropped = self._translate(sql) if analyze(sql)[0].first_word == "DROP" else None
        self._shadow.apply(sql)
        return dropped or self._translate(sql)

    def _translate(self, sql: str) -> Translation:
        return translate(sql, self.dialect, self._shadow.catalog)

    def recorded(self, seq: int) -> None:
        """Our own DDL went into ``_cf_schema`` as row ``seq``. Skip it in later refreshes only if the mirror has
        every row before it: another process's DDL recorded in between must still be replayed (replaying our
        own again is harmless: each statement that no longer applies is skipped)."""
        if seq == self._schema_seq + 1:
            self._schema_seq = seq

    async def _refresh(self, conn: Any) -> bool:
        """Replay DDL other processes committed since we last looked; True if there was any."""
        rows = await self.schema_since(conn, self._schema_seq)
        if not rows:
            return False
        self._schema_seq = rows[-1][0]
        self._shadow.replay(sql for _, sql in rows)
        await self.schema_changed(conn)
        return True

    async def _guarded(self, conn: Any, translation: Translation, params: tuple[SqlValue, ...]) -> Outcome:
        try:
            return await self.run(conn, translation, params)
        except SqlError:
            raise
        except Exception as exc:
            self._raise_mapped(exc, translation)

    def _raise_mapped(self, exc: Exception, translation: Translation) -> NoReturn:
        """Raise the driver's ``exc`` as an ``SqlError`` in SQLite's words (or as it is, if it is none)."""
        mapped = self.map_error(exc, translation)
        if mapped is None:
            raise exc
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

    async def database_file(self) -> bytes:
        return sqlite_file(await self.dump())

    async def size(self) -> int:
        async with self.session(False) as conn:
            self._size = await self.measure_size(conn)
        return self._size

    @asynccontextmanager
    async def session(self, transaction: bool) -> AsyncIterator[Any]:
        """A connection for one request that is not a statement's (an export, a size), in a transaction if
        asked."""
        async with self.connections.lease() as conn:
            if not transaction:
                yield conn
                return
            async with self.transaction(conn):
                yield conn

    async def close(self) -> None:
        await self.connections.close()
        self._shadow.close()


@lru_cache(maxsize=STATEMENTS_CACHED)
def _is_ddl(sql: str) -> bool:
    infos = analyze(sql)
    return bool(infos) and infos[0].first_word in ("CREATE", "DROP", "ALTER")


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'

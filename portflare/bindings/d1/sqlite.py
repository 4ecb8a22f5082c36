"""The embedded D1 backend: one SQLite file per database, through the standard library's ``sqlite3``.

* WAL mode and a busy timeout, so ``portflare serve --workers N`` processes and the CLI share one file.
* Foreign keys ON, as D1 enforces them; ``PRAGMA defer_foreign_keys=ON`` defers checks to COMMIT.
* D1's compile-time limits set on the connection (``setlimit``), so SQLite itself refuses what D1 refuses.
* No thread hop: a point query takes ~5 µs, a hand-off to a thread pool ~50 µs, so statements run on the
  event loop. A long query or a lock wait (up to the busy timeout) blocks the loop meanwhile, as a
  CPU-bound Worker would; D1's 30 s query limit bounds the former on Cloudflare.
* ``rows_read``/``rows_written`` are best effort: Python's ``sqlite3`` does not expose SQLite's VM counters,
  so ``rows_read`` is the number of rows returned and ``rows_written`` the number of rows changed (D1 also
  counts index writes and rows scanned).
* ``size_after`` is the in-use page count times the page size. DDL, PRAGMAs and the like re-measure it every
  time; an INSERT/UPDATE/DELETE that changed rows re-measures it at most every ``SIZE_TTL_S`` (100 ms), since
  the query costs a third of a 1-row INSERT, and otherwise reports the last size measured (a SELECT cannot
  change it). ``changed_db`` does not depend on it for those: a row statement changed the database exactly
  when it changed rows or ``last_row_id``.
* Error text is workerd's: ``<sqlite3_errmsg>[ at offset <n>]: <primary code name>``. The offset comes from
  ``sqlite3_error_offset()``, which ``sqlite3`` does not expose either; ``_ErrorOffsets`` reaches it through
  ``ctypes`` on CPython when the shared library exports it, and otherwise messages go without it.
"""

from __future__ import annotations

import ctypes
import os
import sqlite3
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Self
from urllib.parse import unquote, urlsplit

from portflare.backends import EMBEDDED, BackendTarget
from portflare.bindings.d1.base import RowsResult, SqlError, SqlValue, Statement, StatementResult
from portflare.bindings.d1.dump import dump_sql
from portflare.errors import BackendError
from portflare.sqlitefile import connect_wal

BUSY_TIMEOUT_S = 5.0
# ``meta.size_after`` after a row-changing INSERT/UPDATE/DELETE is re-measured at most this often (DDL and
# PRAGMAs always re-measure; ``size()`` is always exact).
SIZE_TTL_S = 0.1
_IN_USE_PAGES = "SELECT (SELECT * FROM pragma_page_count) - (SELECT * FROM pragma_freelist_count)"

# Statement kinds, by first word: row statements change the file only when they change rows.
_ROWS, _OTHER, _FOREIGN_KEYS = 0, 1, 2
_ROW_WORDS = frozenset({"SELECT", "VALUES", "WITH", "INSERT", "UPDATE", "DELETE", "REPLACE"})
_TEXTS_CACHED = 4096

# D1's limits (d1/platform/limits), which SQLite then enforces with its own messages.
_LIMITS = {
    sqlite3.SQLITE_LIMIT_LENGTH: 2_000_000,  # string, BLOB or row
    sqlite3.SQLITE_LIMIT_SQL_LENGTH: 100_000,
    sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER: 100,
    sqlite3.SQLITE_LIMIT_COLUMN: 100,
    sqlite3.SQLITE_LIMIT_FUNCTION_ARG: 32,
    sqlite3.SQLITE_LIMIT_LIKE_PATTERN_LENGTH: 50,
}

# SQLite's primary result codes, by number: workerd reports errors as "<message>: <primary code name>".
_CODE_NAMES = {
    1: "SQLITE_ERROR", 2: "SQLITE_INTERNAL", 3: "SQLITE_PERM", 4: "SQLITE_ABORT", 5: "SQLITE_BUSY",
    6: "SQLITE_LOCKED", 7: "SQLITE_NOMEM", 8: "SQLITE_READONLY", 9: "SQLITE_INTERRUPT", 10: "SQLITE_IOERR",
    11: "SQLITE_CORRUPT", 12: "SQLITE_NOTFOUND", 13: "SQLITE_FULL", 14: "SQLITE_CANTOPEN",
    15: "SQLITE_PROTOCOL", 16: "SQLITE_EMPTY", 17: "SQLITE_SCHEMA", 18: "SQLITE_TOOBIG",
    19: "SQLITE_CONSTRAINT", 20: "SQLITE_MISMATCH", 21: "SQLITE_MISUSE", 22: "SQLITE_NOLFS",
    23: "SQLITE_AUTH", 24: "SQLITE_FORMAT", 25: "SQLITE_RANGE", 26: "SQLITE_NOTADB",
}


class _ErrorOffsets:
    """``sqlite3_error_offset(db)`` for a ``sqlite3.Connection``, where the platform allows it.

    CPython's connection object starts with its ``sqlite3 *db`` right after the object header (true from 3.8 to
    3.14); we read it once per connection and check it by asking SQLite for the connection's file name.
    """

    def __init__(self) -> None:
        self._offset: Any = None
        self._filename: Any = None
        if sys.implementation.name != "cpython" or sqlite3.sqlite_version_info < (3, 38, 0):
            return
        try:
            import _sqlite3

            library = ctypes.CDLL(_sqlite3.__file__)  # already loaded: dlsym also searches its libsqlite3
            offset, filename = library.sqlite3_error_offset, library.sqlite3_db_filename
        except (ImportError, OSError, AttributeError):
            return
        offset.argtypes, offset.restype = [ctypes.c_void_p], ctypes.c_int
        filename.argtypes, filename.restype = [ctypes.c_void_p, ctypes.c_char_p], ctypes.c_char_p
        self._offset, self._filename = offset, filename

    def handle(self, conn: sqlite3.Connection, path: Path | str) -> int | None:
        """The connection's ``sqlite3*``, or None when it cannot be found and checked."""
        if self._filename is None:
            return None
        db = ctypes.c_void_p.from_address(id(conn) + object.__basicsize__).value
        if not db:
            return None
        name = (self._filename(db, b"main") or b"").decode(errors="replace")
        expected = "" if path == ":memory:" else os.path.realpath(path)
        return db if (os.path.realpath(name) if name else "") == expected else None

    def get(self, db: int | None) -> int | None:
        if db is None or self._offset is None:
            return None
        offset = int(self._offset(db))
        return offset if offset >= 0 else None


_error_offsets = _ErrorOffsets()


class _Text:
    """One statement text: its kind, and its column names with the ``cursor.description`` they came from (which
    sqlite3 rebuilds on every run; comparing it costs a sixth of reading the names out of it again)."""

    __slots__ = ("columns", "description", "kind")

    def __init__(self, sql: str) -> None:
        words = sql.lstrip().split(None, 1)
        if words and words[0].upper() in _ROW_WORDS:
            self.kind = _ROWS
        else:
            self.kind = _FOREIGN_KEYS if "foreign_keys" in sql.lower() else _OTHER
        self.description: Any = None
        self.columns: tuple[str, ...] = ()


def sql_error(exc: sqlite3.Error, offset: int | None = None) -> SqlError:
    """A ``sqlite3`` exception as the backend-neutral ``SqlError`` (message, primary code name, offset)."""
    code = getattr(exc, "sqlite_errorcode", None)
    if code is None:  # raised by the sqlite3 module itself, e.g. a wrong number of bindings
        return SqlError(str(exc), "SQLITE_RANGE" if "binding" in str(exc) else "SQLITE_MISUSE")
    return SqlError(str(exc), _CODE_NAMES.get(code & 0xFF, "SQLITE_ERROR"), offset=offset)


@contextmanager
def map_sqlite_errors() -> Iterator[None]:
    """Translate ``sqlite3`` exceptions into ``SqlError`` at the backend's edge."""
    try:
        yield
    except sqlite3.Error as exc:
        raise sql_error(exc) from exc


def path_from_url(target: BackendTarget) -> Path | str:
    """The file for ``target``: embedded under the state dir, or the path of ``sqlite:///abs/path.db``."""
    if target.scheme == EMBEDDED:
        return target.embedded_path(".sqlite")
    parts = urlsplit(target.url or "")
    location = unquote(parts.netloc + parts.path)
    if location in (":memory:", "/:memory:"):
        return ":memory:"
    if not location:
        raise BackendError(f"PORTFLARE_{target.binding}={target.url}: no database path (sqlite:///path/to/db)")
    path = Path(location)
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


class SqliteD1Backend:
    """A D1 database in one SQLite file (see the module docstring for its guarantees)."""

    def __init__(self, connection: sqlite3.Connection, db: int | None = None) -> None:
        self._conn = connection
        self._db = db  # the sqlite3* handle, for error offsets; None when unavailable
        self.error_offsets = db is not None  # whether SQLite's errors carry " at offset <n>" here
        self._page_size = int(connection.execute("PRAGMA page_size").fetchone()[0])
        self._last_row_id = 0
        self._page_count = self._pages()
        self._pages_at = time.perf_counter()
        self._texts: dict[str, _Text] = {}
        # One cursor for every statement: ``conn.execute`` makes (and frees) a cursor per query, ~0.2 µs of a
        # ~3.5 µs point query. Each statement is read to its end, so the cursor holds no snapshot open.
        self._cursor = connection.cursor()

    @classmethod
    async def open(cls, target: BackendTarget) -> Self:
        return cls.connect(path_from_url(target))

    @classmethod
    def connect(cls, path: Path | str) -> Self:
        try:
            # isolation_level=None: no implicit transactions; we issue BEGIN/COMMIT for batches ourselves.
            conn = connect_wal(path, busy_timeout=BUSY_TIMEOUT_S, cached_statements=256)
            conn.execute("PRAGMA foreign_keys=ON")
        except sqlite3.Error as exc:
            raise BackendError(f"cannot open D1 database {path}: {exc}") from exc
        for limit, value in _LIMITS.items():
            conn.setlimit(limit, value)
        return cls(conn, _error_offsets.handle(conn, path))

    async def execute(self, statements: Sequence[Statement], *, atomic: bool) -> list[StatementResult]:
        conn = self._conn
        if not atomic:
            return self._run_all(statements)
        with map_sqlite_errors():
            # IMMEDIATE takes the write lock up front: a deferred transaction upgrading from read to write
            # in WAL mode can fail with SQLITE_BUSY at once instead of waiting for the busy timeout.
            conn.execute("BEGIN IMMEDIATE")
        try:
            results = self._run_all(statements)
            with map_sqlite_errors():
                conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        finally:
            if any(self._text(s.sql).kind == _FOREIGN_KEYS for s in statements):
                self._restore_foreign_keys()
        return results

    def _run_all(self, statements: Sequence[Statement]) -> list[StatementResult]:
        results = []
        for index, statement in enumerate(statements):
            try:
                results.append(self.run_now(statement.sql, statement.params))
            except SqlError as exc:
                exc.index = index
                raise
        return results

    def _text(self, sql: str) -> _Text:
        """What is known of one statement text (cached per text, as sqlite3 caches its compiled form)."""
        text = self._texts.get(sql)
        if text is None:
            if len(self._texts) >= _TEXTS_CACHED:
                self._texts.clear()
            text = self._texts[sql] = _Text(sql)
        return text

    def run_now(self, sql: str, params: tuple[SqlValue, ...]) -> StatementResult:
        start = time.perf_counter()
        columns, rows, changes, changed = self.rows_now(sql, params)
        return StatementResult(
            columns, rows, changes, self._last_row_id, len(rows), changes, (time.perf_counter() - start) * 1000.0,
            self._page_count * self._page_size, changed,
        )

    def rows_now(self, sql: str, params: tuple[SqlValue, ...]) -> RowsResult:
        conn = self._conn
        changes_before = conn.total_changes
        try:
            cursor = self._cursor.execute(sql, params)
            rows: list[tuple[SqlValue, ...]] = cursor.fetchall()
        except sqlite3.Error as exc:
            raise sql_error(exc, _error_offsets.get(self._db)) from exc
        text = self._texts.get(sql) or self._text(sql)
        description = cursor.description
        if description != text.description:  # first run, or the schema changed what `SELECT *` returns
            text.description = description
            text.columns = tuple([d[0] for d in description]) if description else ()
        changes = conn.total_changes - changes_before
        last_row_id = cursor.lastrowid
        previous_row_id = self._last_row_id
        if last_row_id is None:
            last_row_id = previous_row_id
        changed = changes != 0 or last_row_id != previous_row_id
        self._last_row_id = last_row_id
        kind = text.kind
        if kind != _ROWS:
            # DDL, PRAGMA, VACUUM...: may change the file without changing a row, so measure it every time.
            pages = self._pages()
            changed = changed or pages != self._page_count
            self._page_count = pages
            self._pages_at = time.perf_counter()
            if not conn.in_transaction and kind == _FOREIGN_KEYS:
                self._restore_foreign_keys()
        elif changes != 0:
            # A row statement changes the file only when it changes rows; re-measuring (a ~10 µs PRAGMA query,
            # a third of a 1-row INSERT) is done at most every SIZE_TTL_S, as the server backends do.
            now = time.perf_counter()
            if now - self._pages_at > SIZE_TTL_S:
                self._page_count = self._pages()
                self._pages_at = now
        return text.columns, rows, changes, changed

    def _pages(self) -> int:
        # In-use pages, as workerd's SqlStorage.databaseSize counts them (free pages are not data).
        return int(self._conn.execute(_IN_USE_PAGES).fetchone()[0])

    def _restore_foreign_keys(self) -> None:
        # D1 runs every request in a transaction, where `PRAGMA foreign_keys=OFF` is a no-op; outside one it
        # would stick to our shared connection, so turn enforcement back on.
        self._conn.execute("PRAGMA foreign_keys=ON")

    async def dump(self, *, tables: Sequence[str] = (), no_schema: bool = False,
                   no_data: bool = False) -> list[str]:
        def query(sql: str) -> tuple[tuple[str, ...], list[tuple[SqlValue, ...]]]:
            with map_sqlite_errors():
                cursor = self._conn.execute(sql)
                rows = cursor.fetchall()
            return tuple(d[0] for d in cursor.description or ()), rows

        # One read transaction, so the export is a consistent snapshot even while other processes write.
        with map_sqlite_errors():
            self._conn.execute("BEGIN")
        try:
            return list(dump_sql(query, tables=tables, no_schema=no_schema, no_data=no_data))
        finally:
            self._conn.execute("ROLLBACK")

    async def database_file(self) -> bytes:
        with map_sqlite_errors():
            image = bytearray(self._conn.serialize())  # a consistent snapshot, WAL content included
        # Our files are in WAL mode, which an image cannot be opened in without its -wal/-shm files; the
        # header's read/write versions (bytes 18-19) say "rollback journal" instead, as a copy needs.
        image[18:20] = b"\x01\x01"
        return bytes(image)

    async def size(self) -> int:
        with map_sqlite_errors():
            return self._pages() * self._page_size

    async def close(self) -> None:
        self._conn.close()

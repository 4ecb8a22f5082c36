"""D1 on MySQL or MariaDB (``PORTFLARE_DB=mysql://user:pass@host:3306/db?pool_size=5``), through aiomysql.

Each D1 database is a MySQL database of its own (``d1_<database_name>``, or ``?schema=NAME``), created with
a binary collation so that comparisons and ordering are SQLite's (case-sensitive, by code point). Sessions run
with UTC, strict mode, ``NO_AUTO_VALUE_ON_ZERO`` and ``FOUND_ROWS`` (``changes`` counts matched rows, as
SQLite does, not only the ones whose value changed).

MySQL commits DDL implicitly: a batch mixing DDL and writes is atomic only for its writes (docs/d1-backends.md).
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, Self
from urllib.parse import parse_qsl, unquote, urlsplit

import aiomysql  # type: ignore[import-untyped]
import pymysql
from pymysql.constants import CLIENT

from portflare.backends import BackendTarget, redact
from portflare.bindings.d1.base import SqlError, SqlValue
from portflare.bindings.d1.pinned import PinnedPool
from portflare.bindings.d1.server import (
    SCHEMA_TABLE,
    Outcome,
    ServerD1Backend,
    ServerUrl,
    schema_name,
    sqlite_json,
)
from portflare.bindings.d1.server_functions import install_mysql
from portflare.bindings.d1.shadow import Shadow
from portflare.bindings.d1.translate import MYSQL, Translation
from portflare.bindings.d1.translate_types import coerce_params
from portflare.errors import BackendError

SESSION = ("SET NAMES utf8mb4 COLLATE utf8mb4_bin, "
           "SESSION sql_mode = 'STRICT_ALL_TABLES,NO_AUTO_VALUE_ON_ZERO,NO_ENGINE_SUBSTITUTION', "
           "time_zone = '+00:00', group_concat_max_len = 4294967295"
           # MariaDB stops a recursive CTE after 1000 iterations and returns what it has, silently; SQLite has no
           # such limit. /*M! */ is run by MariaDB only (MySQL 8 has cte_max_recursion_depth, and raises).
           " /*M!, max_recursive_iterations = 4294967295 */")
_DUPLICATE = re.compile(r"Duplicate entry .* for key '(?:[^.']*\.)?([^']*)'")
_NO_TABLE = re.compile(r"Table '(?:[^.']*\.)?([^']*)' doesn't exist")
_NO_COLUMN = re.compile(r"Unknown column '([^']*)'")
_NULL = re.compile(r"Column '([^']*)' cannot be null")
_RECORDS = re.compile(rb"Records: (\d+)")
_CHECK = re.compile(r"(?:CONSTRAINT `|Check constraint ')(.*?)(?:` failed|' is violated)")


class QuietCursor(aiomysql.Cursor):  # type: ignore[misc]  # aiomysql ships no types
    """A cursor that does not turn server notes into Python warnings (``DROP TABLE IF EXISTS`` of a missing
    table notes it; SQLite says nothing), sparing the ``SHOW WARNINGS`` round trip too."""

    async def _show_warnings(self, conn: Any) -> None:
        return None


class MysqlD1Backend(ServerD1Backend):
    dialect = MYSQL

    def __init__(self, pool: aiomysql.Pool, size: int, shadow: Shadow, schema: str) -> None:
        super().__init__(PinnedPool(pool.acquire, self._release, _usable, size), shadow, schema)
        self._pool = pool

    @classmethod
    async def open(cls, target: BackendTarget) -> Self:
        url = ServerUrl.parse(target)
        parts = urlsplit(url.dsn)
        if parts.query:
            # aiomysql takes no URL options: one silently dropped (ssl=…) would change what the user asked for.
            names = ", ".join(sorted({name for name, _ in parse_qsl(parts.query, keep_blank_values=True)}))
            raise BackendError(f"PORTFLARE_{target.binding}={redact(target.url)}: the MySQL backend takes only "
                               f"the options pool_size and schema, not {names}")
        database = url.schema or schema_name(target.resource)
        options: dict[str, Any] = {
            "host": parts.hostname or "127.0.0.1", "port": parts.port or 3306,
            "user": unquote(parts.username or "root"), "password": unquote(parts.password or ""),
            "charset": "utf8mb4", "autocommit": True, "cursorclass": QuietCursor, "init_command": SESSION,
            "client_flag": CLIENT.FOUND_ROWS | CLIENT.MULTI_STATEMENTS,
        }
        quoted = "`" + database.replace("`", "``") + "`"
        try:
            conn = await aiomysql.connect(**options)
            try:
                async with conn.cursor() as cursor:
                    await cursor.execute(f"CREATE DATABASE IF NOT EXISTS {quoted} "
                                         "CHARACTER SET utf8mb4 COLLATE utf8mb4_bin")
                    await cursor.execute(f"CREATE TABLE IF NOT EXISTS {quoted}.{SCHEMA_TABLE} "
                                         "(seq BIGINT AUTO_INCREMENT PRIMARY KEY, `sql` LONGTEXT NOT NULL)")
                    await install_mysql(cursor, database)
                    await cursor.execute(f"SELECT seq, `sql` FROM {quoted}.{SCHEMA_TABLE} ORDER BY seq")
                    rows = await cursor.fetchall()
            finally:
                conn.close()
            pool = await aiomysql.create_pool(minsize=1, maxsize=url.pool_size, db=database, **options)
        except (OSError, pymysql.MySQLError) as exc:
            raise BackendError(f"PORTFLARE_{target.binding}={redact(target.url)}: cannot connect: {exc}") from exc
        backend = cls(pool, url.pool_size, Shadow(str(r[1]) for r in rows), database)
        backend._schema_seq = int(rows[-1][0]) if rows else 0
        return backend

    async def _release(self, conn: Any, broken: bool) -> None:
        if broken:
            # aiomysql would pool a connection cut mid-reply (a cancelled query) as it is: close it first.
            conn.close()
        await self._pool.release(conn)

    @asynccontextmanager
    async def transaction(self, conn: Any) -> AsyncIterator[Any]:
        await conn.begin()
        try:
            yield conn
        except BaseException:
            await conn.rollback()
            raise
        await conn.commit()

    async def run(self, conn: Any, translation: Translation, params: tuple[SqlValue, ...]) -> Outcome:
        args = tuple(params[i] for i in translation.params)
        if translation.coerce:  # values MySQL would misread as literals (see translate_types.coerce)
            args = coerce_params(args, translation.coerce)
        numbered = translation.kind == "insert" and self._shadow.catalog.table(translation.table or "") is not None
        sql = f"SET @pf_rowid = NULL; {translation.sql}; SELECT @pf_rowid" if numbered else translation.sql
        async with conn.cursor() as cursor:
            await cursor.execute(sql, args)
            if numbered:
                await cursor.nextset()
            columns = tuple(d[0] for d in cursor.description or ())
            rows = list(await cursor.fetchall()) if cursor.description else []
            rowcount, lastrowid = cursor.rowcount, cursor.lastrowid
            info = conn._result.message if translation.upsert_rows < 0 else None
            if numbered:
                await cursor.nextset()
                row = await cursor.fetchone()
                lastrowid = int(row[0]) if row and row[0] is not None else None
        extra_row_id = None
        if translation.extra_column:
            if rows and rows[-1][-1] is not None:
                extra_row_id = int(rows[-1][-1])
            columns, rows = columns[:-1], [r[:-1] for r in rows]
        if translation.json_columns:
            # Negative positions count from the row's end (they stand behind a * the translation can't count).
            width = len(columns)
            json_at = {p % width for p in translation.json_columns} if width else set()
            rows = [tuple(sqlite_json(v) if i in json_at else v for i, v in enumerate(r)) for r in rows]
        if translation.hide_rowid:
            keep = [i for i, c in enumerate(columns) if c != "rowid"]
            columns = tuple(columns[i] for i in keep)
            rows = [tuple(r[i] for i in keep) for r in rows]
        if translation.kind not in ("insert", "update", "delete"):
            return Outcome(columns, rows, 0, None)
        changes = max(rowcount, 0)
        if translation.upsert_rows and changes:
            # REPLACE / ON DUPLICATE KEY count a replaced row twice; from a SELECT, the server's info line counts
            # the rows ("Records: 3  Duplicates: 1  Warnings: 0").
            records = _RECORDS.search(info) if info else None
            changes = int(records.group(1)) if records else translation.upsert_rows
        last_row_id = extra_row_id
        if numbered:
            last_row_id = lastrowid  # @pf_rowid: the last row inserted, as last_insert_rowid()
        elif translation.kind == "insert" and changes and lastrowid:
            # MySQL reports the first generated id of a multi-row INSERT; SQLite the last one.
            extra = changes - 1 if translation.generated_rowid and not translation.upsert_rows else 0
            last_row_id = int(lastrowid) + extra
        return Outcome(columns if translation.returns_rows else (), rows if translation.returns_rows else [],
                       changes, last_row_id)

    async def run_script(self, conn: Any, sql: str) -> None:
        async with conn.cursor() as cursor:
            await cursor.execute(sql)

    async def record_ddl(self, conn: Any, sql: str) -> None:
        async with conn.cursor() as cursor:
            await cursor.execute(f"INSERT INTO {SCHEMA_TABLE} (`sql`) VALUES (%s)", (sql,))
            self.recorded(int(cursor.lastrowid or 0))

    async def schema_since(self, conn: Any, seq: int) -> list[tuple[int, str]]:
        async with conn.cursor() as cursor:
            await cursor.execute(f"SELECT seq, `sql` FROM {SCHEMA_TABLE} WHERE seq > %s ORDER BY seq", (seq,))
            return [(int(r[0]), str(r[1])) for r in await cursor.fetchall()]

    async def defer_foreign_keys(self, conn: Any) -> None:
        # InnoDB cannot defer a check, only skip it: the batch's foreign keys go unchecked (docs/d1-backends.md).
        await self.run_script(conn, "SET SESSION foreign_key_checks = 0")

    async def restore_foreign_keys(self, conn: Any) -> None:
        await self.run_script(conn, "SET SESSION foreign_key_checks = 1")

    async def measure_size(self, conn: Any) -> int:
        async with conn.cursor() as cursor:
            await cursor.execute("SELECT coalesce(sum(data_length + index_length), 0) FROM information_schema.tables "
                                 "WHERE table_schema = %s", (self.schema,))
            row = await cursor.fetchone()
        return int(row[0]) if row else 0

    async def sequences(self, conn: Any) -> list[tuple[str, int]]:
        found = []
        async with conn.cursor() as cursor:
            for table in self._shadow.catalog.tables.values():
                if table.autoincrement and table.rowid:
                    await cursor.execute("SELECT auto_increment FROM information_schema.tables "
                                         "WHERE table_schema = %s AND table_name = %s", (self.schema, table.name))
                    row = await cursor.fetchone()
                    found.append((table.name, int(row[0] or 1) - 1 if row else 0))
        return found

    def map_error(self, exc: Exception, translation: Translation) -> SqlError | None:
        if not isinstance(exc, pymysql.MySQLError) or len(exc.args) < 2:
            return None
        code, message = int(exc.args[0]), str(exc.args[1])
        table = self._shadow.catalog.table(translation.table or "")
        if code == 1062:
            match = _DUPLICATE.search(message)
            key = match.group(1) if match else ""
            columns: tuple[str, ...] = (key,)
            if table is not None:
                columns = next((u for u in table.unique if (key == "PRIMARY" and u == table.unique[0])
                                or (u and u[0].lower() == key.lower())), columns)
            name = table.name if table else translation.table or ""
            return SqlError(f"UNIQUE constraint failed: {', '.join(f'{name}.{c}' for c in columns)}",
                            "SQLITE_CONSTRAINT")
        if code in (1451, 1452, 1216, 1217):
            return SqlError("FOREIGN KEY constraint failed", "SQLITE_CONSTRAINT")
        if code == 1048:
            match = _NULL.search(message)
            return SqlError(f"NOT NULL constraint failed: {translation.table}.{match.group(1) if match else ''}",
                            "SQLITE_CONSTRAINT")
        if code in (3819, 4025):  # the constraint is named after SQLite's text of it (translate.name_checks)
            match = _CHECK.search(message)
            return SqlError(f"CHECK constraint failed: {match.group(1) if match else message}", "SQLITE_CONSTRAINT")
        if code == 1146:
            match = _NO_TABLE.search(message)
            return SqlError(f"no such table: {match.group(1) if match else message}")
        if code == 1054:
            match = _NO_COLUMN.search(message)
            return SqlError(f"no such column: {match.group(1) if match else message}")
        if code in (1366, 1264, 1292, 1265, 1406):
            return SqlError(f"datatype mismatch: {message}", "SQLITE_MISMATCH")
        return SqlError(message)

    async def close(self) -> None:
        await super().close()  # returns the pinned connection, which the pool's close waits for
        self._pool.close()
        await self._pool.wait_closed()


def _usable(conn: Any) -> bool:
    if conn.closed or conn.get_transaction_status():
        return False
    # The server closed it while it was idle (a KILL, wait_timeout): aiomysql's own pool checks the same.
    return not (conn._reader.at_eof() or conn._reader.exception())

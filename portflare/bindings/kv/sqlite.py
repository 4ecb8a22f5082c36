"""KV on SQLite: the embedded default, one file per namespace.

Calls run on the event loop thread, on purpose: a point read on a local SQLite file takes ~5 µs and a write in
WAL mode ~40 µs, while handing a call to a worker thread (``asyncio.to_thread``) costs ~50-100 µs of its own.
WAL and a busy timeout let several ``portflare serve`` processes share the file; a writer waiting on another
process's lock blocks this loop for at most the busy timeout.

Keys are TEXT in a UTF-8 database with SQLite's default BINARY collation, which compares with ``memcmp``:
exactly KV's lexicographic UTF-8 byte order, and the primary key index serves ranges in that order.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Sequence

from portflare.backends import BackendTarget, sqlite_path
from portflare.bindings.kv.base import Entry, ListedKey, is_live, storage_error
from portflare.sqlitefile import connect_wal

SCHEMA = """
CREATE TABLE IF NOT EXISTS kv (
    key TEXT PRIMARY KEY,
    value BLOB NOT NULL,
    expiration INTEGER,
    metadata TEXT
) WITHOUT ROWID;
"""
PURGE_EVERY = 1000  # writes between sweeps of expired rows


def prefix_end(prefix: str) -> str | None:
    """The smallest string above every string that starts with ``prefix`` (None: no upper bound).

    Code point order is UTF-8 byte order, so bumping the last code point gives the bound; U+10FFFF carries
    into the character before, and the surrogate block (not valid in UTF-8) is skipped.
    """
    chars = list(prefix)
    while chars:
        last = ord(chars.pop())
        if last < 0x10FFFF:
            nxt = last + 1
            chars.append(chr(0xE000 if 0xD800 <= nxt <= 0xDFFF else nxt))
            return "".join(chars)
    return None


class SqliteKVBackend:
    def __init__(self, connection: sqlite3.Connection) -> None:
        self._db = connection
        self._writes = 0

    @classmethod
    async def open(cls, target: BackendTarget) -> SqliteKVBackend:
        return cls.connect(str(sqlite_path(target)))

    @classmethod
    def connect(cls, path: str) -> SqliteKVBackend:
        db = connect_wal(path)
        db.executescript(SCHEMA)
        backend = cls(db)
        backend.purge_expired()
        return backend

    async def get(self, key: str, now: float) -> Entry | None:
        try:
            row = self._db.execute("SELECT value, expiration, metadata FROM kv WHERE key = ?", (key,)).fetchone()
            if row is None:
                return None
            if row[1] is not None and row[1] <= now:
                # Purge lazily; the expiration guard keeps a newer write by another process.
                self._db.execute("DELETE FROM kv WHERE key = ? AND expiration <= ?", (key, now))
                return None
        except sqlite3.Error as exc:
            raise storage_error("GET", exc) from exc
        return Entry(row[0], row[1], row[2])

    async def get_many(self, keys: Sequence[str], now: float) -> dict[str, Entry | None]:
        found: dict[str, Entry | None] = dict.fromkeys(keys)
        marks = ",".join("?" * len(keys))
        try:
            rows = self._db.execute(f"SELECT key, value, expiration, metadata FROM kv WHERE key IN ({marks})",
                                    tuple(keys)).fetchall()
        except sqlite3.Error as exc:
            raise storage_error("GET_BULK", exc) from exc
        for key, value, expiration, metadata in rows:
            if is_live(expiration, now):
                found[key] = Entry(value, expiration, metadata)
        return found

    async def put(self, key: str, value: bytes, expiration: int | None, metadata: str | None) -> None:
        try:
            self._db.execute("INSERT OR REPLACE INTO kv (key, value, expiration, metadata) VALUES (?, ?, ?, ?)",
                             (key, value, expiration, metadata))
            self._writes += 1
            if self._writes % PURGE_EVERY == 0:
                self.purge_expired()
        except sqlite3.Error as exc:
            raise storage_error("PUT", exc) from exc

    def purge_expired(self, now: float | None = None) -> int:
        """Delete rows whose expiration has passed (reads never return them either way)."""
        cursor = self._db.execute("DELETE FROM kv WHERE expiration IS NOT NULL AND expiration <= ?",
                                  (time.time() if now is None else now,))
        return cursor.rowcount

    async def delete(self, key: str) -> None:
        try:
            self._db.execute("DELETE FROM kv WHERE key = ?", (key,))
        except sqlite3.Error as exc:
            raise storage_error("DELETE", exc) from exc

    async def list_page(self, prefix: str, start_after: str | None, limit: int,
                        now: float) -> tuple[list[ListedKey], bool]:
        # A key range, not a filter, so listing a small prefix reads only that part of the index.
        if start_after is not None and start_after >= prefix:
            where, params = "key > ?", [start_after]
        else:
            where, params = "key >= ?", [prefix]
        end = prefix_end(prefix) if prefix else None
        if end is not None:
            where += " AND key < ?"
            params.append(end)
        try:
            rows = self._db.execute(
                f"SELECT key, expiration, metadata FROM kv WHERE {where} "
                "AND (expiration IS NULL OR expiration > ?) ORDER BY key LIMIT ?",
                (*params, now, limit + 1),
            ).fetchall()
        except sqlite3.Error as exc:
            raise storage_error("GET", exc) from exc
        keys = [ListedKey(key, expiration, metadata) for key, expiration, metadata in rows[:limit]]
        return keys, len(rows) > limit

    async def close(self) -> None:
        self._db.close()

"""KV on SQLite: the embedded default, one file per namespace.

Calls run on the event loop thread: a point read on a local SQLite file takes a few microseconds, far less
than a hop to a worker thread would cost. WAL and a busy timeout let several ``portflare serve`` processes
share the file. Keys are TEXT with SQLite's default BINARY collation, which compares UTF-8 bytes: exactly
KV's list order.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

from portflare.backends import BackendTarget, sqlite_path
from portflare.bindings.kv.base import Entry, ListedKey, is_live

SCHEMA = """
CREATE TABLE IF NOT EXISTS kv (
    key TEXT PRIMARY KEY,
    value BLOB NOT NULL,
    expiration INTEGER,
    metadata TEXT
) WITHOUT ROWID;
"""
PURGE_EVERY = 1000  # writes between sweeps of expired rows


class SqliteKVBackend:
    def __init__(self, connection: sqlite3.Connection) -> None:
        self._db = connection
        self._writes = 0

    @classmethod
    async def open(cls, target: BackendTarget) -> SqliteKVBackend:
        return cls.connect(str(sqlite_path(target)))

    @classmethod
    def connect(cls, path: str) -> SqliteKVBackend:
        db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        db.execute("PRAGMA busy_timeout = 5000")
        db.execute("PRAGMA journal_mode = WAL")
        db.execute("PRAGMA synchronous = NORMAL")
        db.executescript(SCHEMA)
        return cls(db)

    async def get(self, key: str, now: float) -> Entry | None:
        row = self._db.execute("SELECT value, expiration, metadata FROM kv WHERE key = ?", (key,)).fetchone()
        if row is None or not is_live(row[1], now):
            return None
        return Entry(bytes(row[0]), row[1], row[2])

    async def get_many(self, keys: Sequence[str], now: float) -> dict[str, Entry | None]:
        found: dict[str, Entry | None] = dict.fromkeys(keys)
        marks = ",".join("?" * len(keys))
        for key, value, expiration, metadata in self._db.execute(
            f"SELECT key, value, expiration, metadata FROM kv WHERE key IN ({marks})", tuple(keys)
        ):
            if is_live(expiration, now):
                found[key] = Entry(bytes(value), expiration, metadata)
        return found

    async def put(self, key: str, value: bytes, expiration: int | None, metadata: str | None) -> None:
        self._db.execute("INSERT OR REPLACE INTO kv (key, value, expiration, metadata) VALUES (?, ?, ?, ?)",
                         (key, value, expiration, metadata))
        self._writes += 1
        if self._writes % PURGE_EVERY == 0:
            self.purge_expired()

    def purge_expired(self, now: float | None = None) -> int:
        import time

        cursor = self._db.execute("DELETE FROM kv WHERE expiration IS NOT NULL AND expiration <= ?",
                                  (now if now is not None else time.time(),))
        return cursor.rowcount

    async def delete(self, key: str) -> None:
        self._db.execute("DELETE FROM kv WHERE key = ?", (key,))

    async def list_page(self, prefix: str, start_after: str | None, limit: int,
                        now: float) -> tuple[list[ListedKey], bool]:
        lower = max(prefix, start_after) if start_after is not None else prefix
        operator = ">" if start_after is not None and start_after >= prefix else ">="
        rows = self._db.execute(
            f"SELECT key, expiration, metadata FROM kv WHERE key {operator} ? AND substr(key, 1, ?) = ? "
            "AND (expiration IS NULL OR expiration > ?) ORDER BY key LIMIT ?",
            (lower, len(prefix), prefix, now, limit + 1),
        ).fetchall()
        keys = [ListedKey(key, expiration, metadata) for key, expiration, metadata in rows[:limit]]
        return keys, len(rows) > limit

    async def close(self) -> None:
        self._db.close()

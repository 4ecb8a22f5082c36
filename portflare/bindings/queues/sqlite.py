"""Queues on SQLite: the embedded default, durable across restarts, shared by the processes of one machine.

One row per message. ``visible_at`` is both the delivery delay and the lease: a leased row gets
``visible_at = now + lease`` and a ``lease`` token, so when its consumer dies the row simply becomes visible
again and the next ``receive`` takes it (with one more attempt counted). Leasing is one
``UPDATE ... WHERE seq IN (SELECT ... LIMIT n) RETURNING``: SQLite runs it under its write lock, so two
processes never lease the same row. Retry, release and extend name the lease token, so a consumer whose lease
ran out cannot disturb the consumer that took the message over. WAL and a busy timeout let ``portflare serve
--workers N`` processes share the file; calls run on the event loop thread (each is a few microseconds).
"""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Sequence
from typing import ClassVar

from portflare.backends import BackendTarget, sqlite_path
from portflare.bindings.queues.base import Delivery, OutgoingMessage, QueueStats
from portflare.sqlitefile import connect_wal

SCHEMA = """
CREATE TABLE IF NOT EXISTS messages (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    queue TEXT NOT NULL,
    id TEXT NOT NULL,
    timestamp_ms INTEGER NOT NULL,
    content_type TEXT NOT NULL,
    body BLOB NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    visible_at REAL NOT NULL,
    lease TEXT
);
CREATE INDEX IF NOT EXISTS messages_visible ON messages (queue, visible_at);
"""


def _receipt(seq: int, token: str) -> str:
    return f"{seq}:{token}"


def _parse(receipt: str) -> tuple[int, str]:
    seq, _, token = receipt.partition(":")
    return int(seq), token


class SqliteQueueBackend:
    blocks: ClassVar[bool] = False

    def __init__(self, connection: sqlite3.Connection, queue: str) -> None:
        self._db = connection
        self._queue = queue

    @classmethod
    async def open(cls, target: BackendTarget) -> SqliteQueueBackend:
        return cls.connect(str(sqlite_path(target)), target.resource)

    @classmethod
    def connect(cls, path: str, queue: str) -> SqliteQueueBackend:
        db = connect_wal(path, busy_timeout=10.0)  # a committed send survives a process kill
        db.executescript(SCHEMA)
        return cls(db, queue)

    async def send(self, messages: Sequence[OutgoingMessage], now: float) -> None:
        with self._db:  # one transaction: a batch is stored whole or not at all
            self._db.execute("BEGIN IMMEDIATE")
            self._db.executemany(
                "INSERT INTO messages (queue, id, timestamp_ms, content_type, body, visible_at) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                [(self._queue, m.id, m.timestamp_ms, m.content_type, m.body, now + m.delay) for m in messages])

    async def receive(self, limit: int, lease: float, now: float, wait: float = 0.0) -> list[Delivery]:
        token = uuid.uuid4().hex
        rows = self._db.execute(
            "UPDATE messages SET attempts = attempts + 1, visible_at = ?, lease = ? WHERE seq IN "
            "(SELECT seq FROM messages WHERE queue = ? AND visible_at <= ? ORDER BY visible_at, seq LIMIT ?) "
            "RETURNING seq, id, timestamp_ms, content_type, body, attempts",
            (now + lease, token, self._queue, now, limit)).fetchall()
        rows.sort()
        return [Delivery(_receipt(seq, token), id_, ts, ct, bytes(body), attempts)
                for seq, id_, ts, ct, body, attempts in rows]

    async def extend(self, deliveries: Sequence[Delivery], lease: float, now: float) -> None:
        self._db.executemany("UPDATE messages SET visible_at = ? WHERE seq = ? AND lease = ?",
                             [(now + lease, *_parse(d.receipt)) for d in deliveries])

    async def ack(self, deliveries: Sequence[Delivery]) -> None:
        self._db.executemany("DELETE FROM messages WHERE seq = ?", [(_parse(d.receipt)[0],) for d in deliveries])

    async def retry(self, retries: Sequence[tuple[Delivery, float]], now: float) -> None:
        self._db.executemany("UPDATE messages SET visible_at = ?, lease = NULL WHERE seq = ? AND lease = ?",
                             [(now + delay, *_parse(d.receipt)) for d, delay in retries])

    async def release(self, deliveries: Sequence[Delivery], now: float) -> None:
        self._db.executemany(
            "UPDATE messages SET visible_at = ?, lease = NULL, attempts = attempts - 1 WHERE seq = ? AND lease = ?",
            [(now, *_parse(d.receipt)) for d in deliveries])

    async def stats(self, now: float) -> QueueStats:
        ready, delayed, in_flight = self._db.execute(
            "SELECT coalesce(sum(visible_at <= ?), 0), coalesce(sum(visible_at > ? AND lease IS NULL), 0), "
            "coalesce(sum(visible_at > ? AND lease IS NOT NULL), 0) FROM messages WHERE queue = ?",
            (now, now, now, self._queue)).fetchone()
        return QueueStats(ready=ready, delayed=delayed, in_flight=in_flight)

    async def purge(self) -> int:
        return self._db.execute("DELETE FROM messages WHERE queue = ?", (self._queue,)).rowcount

    async def close(self) -> None:
        self._db.close()

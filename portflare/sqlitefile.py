"""Opening the SQLite files that embedded backends share between processes.

Every embedded store (D1, KV, R2's index, queues, cron claims, migrate targets) is one SQLite file in WAL mode
that several processes of one machine may open at once (``portflare serve --workers N``, a CLI beside a dev
server, two consumer nodes). Switching a fresh file to WAL needs an exclusive lock, and SQLite can answer
"database is locked" to that switch without calling the busy handler (it would otherwise risk a deadlock with
a reader of the same file), so two processes opening one new file at the same moment can fail. The switch is
retried here until the busy timeout has passed; once a file is in WAL it stays so and the retry never runs.
"""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

DEFAULT_BUSY_TIMEOUT_S = 5.0
_RETRY_PAUSE_S = 0.005


def connect_wal(path: str | Path, *, busy_timeout: float = DEFAULT_BUSY_TIMEOUT_S,
                cached_statements: int = 128) -> sqlite3.Connection:
    """An autocommit connection (we issue BEGIN ourselves) in WAL mode with ``synchronous=NORMAL``.

    WAL + NORMAL: a committed transaction survives the process being killed; only a power loss may drop the
    last commits. ``busy_timeout`` is how long a statement waits for another process's lock.
    """
    db = sqlite3.connect(path, timeout=busy_timeout, isolation_level=None, check_same_thread=False,
                         cached_statements=cached_statements)
    try:
        deadline = time.monotonic() + busy_timeout
        while True:
            try:
                db.execute("PRAGMA journal_mode = WAL")
                break
            except sqlite3.OperationalError as exc:
                if not _is_busy(exc) or time.monotonic() >= deadline:
                    raise
                time.sleep(_RETRY_PAUSE_S)
        db.execute("PRAGMA synchronous = NORMAL")
    except BaseException:
        db.close()
        raise
    return db


def _is_busy(exc: sqlite3.OperationalError) -> bool:
    code = getattr(exc, "sqlite_errorcode", None)
    if code is not None:
        return (code & 0xFF) in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)
    return "locked" in str(exc) or "busy" in str(exc)

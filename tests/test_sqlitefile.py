"""Several processes opening one new SQLite file at once (serve --workers N, two consumer nodes)."""

from __future__ import annotations

import multiprocessing
import sqlite3
from pathlib import Path

from portflare.sqlitefile import connect_wal

PROCESSES = 6
ROUNDS = 25


def _open(path: str, barrier: multiprocessing.synchronize.Barrier, results: multiprocessing.Queue[str]) -> None:
    barrier.wait()
    try:
        db = connect_wal(path)
        db.executescript("CREATE TABLE IF NOT EXISTS t (x); INSERT INTO t VALUES (1);")
        db.close()
        results.put("ok")
    except sqlite3.Error as exc:
        results.put(repr(exc))


def test_processes_racing_to_open_a_new_file_all_succeed(tmp_path: Path) -> None:
    # A plain "PRAGMA journal_mode = WAL" after a busy timeout failed a few times in these rounds with
    # "database is locked": SQLite refuses the switch without waiting when a reader holds the file.
    ctx = multiprocessing.get_context("fork")
    failures: list[str] = []
    for round_ in range(ROUNDS):
        path = str(tmp_path / f"race{round_}.sqlite")
        barrier, results = ctx.Barrier(PROCESSES), ctx.Queue()
        procs = [ctx.Process(target=_open, args=(path, barrier, results)) for _ in range(PROCESSES)]
        for proc in procs:
            proc.start()
        outcomes = [results.get(timeout=30) for _ in procs]
        for proc in procs:
            proc.join(timeout=30)
        failures += [o for o in outcomes if o != "ok"]
        with sqlite3.connect(path) as db:
            assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)
            assert db.execute("SELECT count(*) FROM t").fetchone() == (PROCESSES,)
    assert failures == []

"""D1 binding overhead on the embedded SQLite backend: point SELECT and single-row INSERT, through
``env.DB`` versus raw ``sqlite3`` on an identically configured file. Prints µs per operation and the ratio.

    .venv/bin/python bench/d1_bench.py [N]
"""

from __future__ import annotations

import asyncio
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

from portflare.backends import BackendTarget
from portflare.bindings.d1 import open_binding

ROWS = 1000


def _raw(path: Path, n: int) -> tuple[float, float]:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("PRAGMA foreign_keys=ON")
    conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT)")
    conn.executemany("INSERT INTO t (name) VALUES (?)", [(f"n{i}",) for i in range(ROWS)])
    start = time.perf_counter()
    for i in range(n):
        conn.execute("SELECT id, name FROM t WHERE id = ?", (i % ROWS + 1,)).fetchone()
    select = (time.perf_counter() - start) / n
    start = time.perf_counter()
    for i in range(n):
        conn.execute("INSERT INTO t (name) VALUES (?)", (f"x{i}",))
    insert = (time.perf_counter() - start) / n
    conn.close()
    return select, insert


async def _binding(state: Path, n: int) -> tuple[float, float]:
    db = await open_binding(BackendTarget(kind="d1", binding="DB", resource="bench", state_dir=state))
    try:
        await db.exec("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT)")
        await db.batch([db.prepare("INSERT INTO t (name) VALUES (?)").bind(f"n{i}") for i in range(ROWS)])
        stmt = db.prepare("SELECT id, name FROM t WHERE id = ?")
        start = time.perf_counter()
        for i in range(n):
            await stmt.bind(i % ROWS + 1).first()
        select = (time.perf_counter() - start) / n
        insert_stmt = db.prepare("INSERT INTO t (name) VALUES (?)")
        start = time.perf_counter()
        for i in range(n):
            await insert_stmt.bind(f"x{i}").run()
        insert = (time.perf_counter() - start) / n
    finally:
        await db._aclose()
    return select, insert


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 20_000
    with tempfile.TemporaryDirectory() as tmp:
        raw_select, raw_insert = _raw(Path(tmp) / "raw.sqlite", n)
        d1_select, d1_insert = asyncio.run(_binding(Path(tmp) / "state", n))
    print(f"{'':16}{'raw sqlite3':>14}{'env.DB':>14}{'ratio':>8}")
    for name, raw, d1 in (("point SELECT", raw_select, d1_select), ("1-row INSERT", raw_insert, d1_insert)):
        print(f"{name:16}{raw * 1e6:>11.1f} µs{d1 * 1e6:>11.1f} µs{d1 / raw:>7.1f}x")


if __name__ == "__main__":
    main()

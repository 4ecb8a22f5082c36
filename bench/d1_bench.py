"""D1 binding overhead: point SELECT and single-row INSERT through ``env.DB`` versus the raw driver.

* SQLite (embedded backend) versus raw ``sqlite3`` on an identically configured file;
* PostgreSQL (``postgres://`` backend) versus raw ``asyncpg`` on the same server, in a scratch schema.

Prints µs per operation and the ratios side by side. PostgreSQL is skipped when it is not reachable.

    .venv/bin/python bench/d1_bench.py [N] [POSTGRES_URL]
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
from portflare.bindings.d1.server import schema_name

POSTGRES_URL = "postgres://postgres@127.0.0.1:5432/test"

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


async def _raw_postgres(url: str, n: int) -> tuple[float, float]:
    import asyncpg

    conn = await asyncpg.connect(url)
    try:
        await conn.execute("DROP SCHEMA IF EXISTS d1_bench_raw CASCADE; CREATE SCHEMA d1_bench_raw; "
                           "SET search_path = d1_bench_raw")
        await conn.execute("CREATE TABLE t (id BIGSERIAL PRIMARY KEY, name TEXT)")
        await conn.executemany("INSERT INTO t (name) VALUES ($1)", [(f"n{i}",) for i in range(ROWS)])
        start = time.perf_counter()
        for i in range(n):
            await conn.fetchrow("SELECT id, name FROM t WHERE id = $1", i % ROWS + 1)
        select = (time.perf_counter() - start) / n
        start = time.perf_counter()
        for i in range(n):
            await conn.fetchval("INSERT INTO t (name) VALUES ($1) RETURNING id", f"x{i}")
        insert = (time.perf_counter() - start) / n
        await conn.execute("DROP SCHEMA d1_bench_raw CASCADE")
    finally:
        await conn.close()
    return select, insert


async def _binding(state: Path, n: int, url: str | None = None) -> tuple[float, float]:
    db = await open_binding(BackendTarget(kind="d1", binding="DB", resource="bench", state_dir=state, url=url))
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
        if url:
            import asyncpg

            conn = await asyncpg.connect(url)
            await conn.execute(f"DROP SCHEMA IF EXISTS {schema_name('bench')} CASCADE")
            await conn.close()
    return select, insert


def _postgres(url: str, n: int) -> tuple[tuple[float, float], tuple[float, float]] | None:
    try:
        raw = asyncio.run(_raw_postgres(url, n))
    except OSError as exc:
        print(f"(PostgreSQL at {url} not reachable: {exc}; skipped)")
        return None
    with tempfile.TemporaryDirectory() as tmp:
        return raw, asyncio.run(_binding(Path(tmp), n, url))


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 20_000
    url = sys.argv[2] if len(sys.argv) > 2 else POSTGRES_URL
    with tempfile.TemporaryDirectory() as tmp:
        raw_select, raw_insert = _raw(Path(tmp) / "raw.sqlite", n)
        d1_select, d1_insert = asyncio.run(_binding(Path(tmp) / "state", n))
    postgres = _postgres(url, max(n // 4, 1))
    header = f"{'':14}{'raw sqlite3':>13}{'env.DB':>11}{'ratio':>7}"
    if postgres:
        header += f"   {'raw asyncpg':>13}{'env.DB':>11}{'ratio':>7}"
    print(header)
    rows = [("point SELECT", raw_select, d1_select, 0), ("1-row INSERT", raw_insert, d1_insert, 1)]
    for name, raw, d1, index in rows:
        line = f"{name:14}{raw * 1e6:>10.1f} µs{d1 * 1e6:>8.1f} µs{d1 / raw:>6.1f}x"
        if postgres:
            pg_raw, pg_d1 = postgres[0][index], postgres[1][index]
            line += f"   {pg_raw * 1e6:>10.1f} µs{pg_d1 * 1e6:>8.1f} µs{pg_d1 / pg_raw:>6.1f}x"
        print(line)


if __name__ == "__main__":
    main()

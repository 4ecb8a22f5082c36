"""``portflare migrate data`` PostgreSQL → SQLite (D1) throughput, next to a hand-rolled baseline in the same run.

Table: N rows (default 1,000,000) x 6 columns (bigint PK, int, text, double, timestamptz, boolean).

* portflare: ``copy_tables`` — keyset batches through asyncpg, timestamps/booleans converted to unix seconds
  and 0/1, batch + checkpoint per transaction, FK-ordered, resumable.
* baseline: ``psql -c "\\copy (SELECT ... epoch, ::int) TO STDOUT CSV"`` piped into Python's ``csv`` reader and
  ``sqlite3.executemany`` in one transaction: the server does the conversions, no checkpoints, not resumable.

    .venv/bin/python bench/migrate_bench.py [N] [--url postgresql://postgres@127.0.0.1:5432/test]
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import io
import sqlite3
import subprocess
import tempfile
import time
from pathlib import Path

import asyncpg

from portflare.migrate.data import copy_tables
from portflare.migrate.endpoint import open_endpoint

SCHEMA = "pf_migrate_bench"


async def _prepare(url: str, rows: int) -> None:
    conn = await asyncpg.connect(url)
    try:
        exists = await conn.fetchval(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = $1 AND table_name = 'events'",
            SCHEMA)
        if exists and await conn.fetchval(f"SELECT count(*) FROM {SCHEMA}.events") == rows:
            return
        await conn.execute(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE; CREATE SCHEMA {SCHEMA}")
        await conn.execute(f"""
            CREATE TABLE {SCHEMA}.events (id bigint PRIMARY KEY, user_id integer NOT NULL, name text NOT NULL,
                score double precision, created_at timestamptz NOT NULL, active boolean NOT NULL);
            INSERT INTO {SCHEMA}.events SELECT g, g % 5000, 'event-' || g, g / 7.0,
                timestamptz '2024-01-01 00:00:00+00' + g * interval '1 second', g % 3 = 0
            FROM generate_series(1, {rows}) g;
            ANALYZE {SCHEMA}.events;""")
    finally:
        await conn.close()


async def _portflare(url: str, path: Path) -> tuple[int, float]:
    source = await open_endpoint(url, schema=SCHEMA)
    target = await open_endpoint(f"sqlite:///{path}")
    try:
        start = time.perf_counter()
        report = await copy_tables(source, target)
        return report.rows, time.perf_counter() - start
    finally:
        await source.close()
        await target.close()


def _baseline(url: str, path: Path) -> tuple[int, float]:
    start = time.perf_counter()
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("CREATE TABLE events (id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL, name TEXT NOT NULL, "
                 "score REAL, created_at INTEGER NOT NULL, active INTEGER NOT NULL)")
    query = (f"\\copy (SELECT id, user_id, name, score, extract(epoch FROM created_at)::bigint, active::int "
             f"FROM {SCHEMA}.events ORDER BY id) TO STDOUT CSV")
    psql = subprocess.Popen(["psql", url, "-X", "-q", "-c", query], stdout=subprocess.PIPE)
    assert psql.stdout is not None
    reader = csv.reader(io.TextIOWrapper(psql.stdout, encoding="utf-8", newline=""))
    conn.execute("BEGIN")
    cursor = conn.executemany("INSERT INTO events VALUES (?, ?, ?, ?, ?, ?)",
                              ((r[0], r[1], r[2], r[3] or None, r[4], r[5]) for r in reader))
    conn.execute("COMMIT")
    if psql.wait() != 0:
        raise SystemExit("psql failed")
    rows = cursor.rowcount
    conn.close()
    return rows, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("rows", nargs="?", type=int, default=1_000_000)
    parser.add_argument("--url", default="postgresql://postgres@127.0.0.1:5432/test")
    args = parser.parse_args()
    asyncio.run(_prepare(args.url, args.rows))
    with tempfile.TemporaryDirectory() as tmp:
        base_rows, base_s = _baseline(args.url, Path(tmp) / "baseline.sqlite")
        ours_rows, ours_s = asyncio.run(_portflare(args.url, Path(tmp) / "portflare.sqlite"))
    base_rate, ours_rate = base_rows / base_s, ours_rows / ours_s
    print(f"rows: {args.rows:,} x 6 columns, PostgreSQL -> SQLite")
    print(f"baseline  psql \\copy CSV | sqlite3.executemany : {base_rows:>9,} rows  {base_s:6.2f} s  "
          f"{base_rate:>10,.0f} rows/s")
    print(f"portflare migrate data (asyncpg, checkpoints) : {ours_rows:>9,} rows  {ours_s:6.2f} s  "
          f"{ours_rate:>10,.0f} rows/s")
    print(f"ratio portflare/baseline: {ours_rate / base_rate:.2f}x; goal >= 100,000 rows/s: "
          f"{'met' if ours_rate >= 100_000 else 'NOT met'}")


if __name__ == "__main__":
    main()

"""``portflare migrate data`` throughput both ways, next to other tools doing the same copy in the same run.

Table: N rows (default 1,000,000) x 6 columns (bigint PK, int, text, double, timestamptz, boolean).

PostgreSQL -> SQLite (D1):

* portflare: ``copy_tables`` -- keyset batches through asyncpg, timestamps/booleans converted to unix seconds
  and 0/1 by the server, batch + checkpoint per transaction, resumable.
* baseline: ``psql -c "\\copy (SELECT ... epoch, ::int) TO STDOUT CSV"`` piped into Python's ``csv`` reader and
  ``sqlite3.executemany`` in one transaction: the server does the conversions, no checkpoints, not resumable.

SQLite (D1) -> PostgreSQL, from the file portflare just wrote (D1's shape: INTEGER unix seconds, 0/1 booleans):

* portflare: ``copy_tables`` -- creates the table from the D1 schema (boolean from the CHECK, bigint
  timestamps), binary ``COPY`` per batch with its checkpoint, resumable.
* pgloader (Debian package ``pgloader``): its defaults for a SQLite source (create table, 4 COPY threads,
  indexes built after the load). Skipped, with the command to install it, when it is not on PATH.
* baseline: ``sqlite3 -csv "SELECT ..." | psql -c "\\copy ... FROM STDIN CSV"`` into a table created by hand.

Each round runs every contender once, one after the other; ratios are per round, and ``--rounds N`` repeats
the whole comparison (the machine is shared: read the range, not one number).

    .venv/bin/python bench/migrate_bench.py [N] [--rounds 3] [--url postgresql://postgres@127.0.0.1:5432/test]
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import io
import shutil
import sqlite3
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import asyncpg

from portflare.migrate.data import copy_tables
from portflare.migrate.endpoint import open_endpoint

SCHEMA = "pf_migrate_bench"
BACK = {"portflare": f"{SCHEMA}_back", "pgloader": f"{SCHEMA}_pgloader", "csv": f"{SCHEMA}_csv"}
PGLOADER_MISSING = ("pgloader is not installed: `sudo apt-get install pgloader` (Debian/Ubuntu), "
                    "`brew install pgloader` (macOS); the SQLite -> PostgreSQL ratio against it is skipped")


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


async def _fresh_schema(url: str, name: str, ddl: str = "") -> None:
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(f"DROP SCHEMA IF EXISTS {name} CASCADE; CREATE SCHEMA {name}; {ddl}")
    finally:
        await conn.close()


async def _count(url: str, schema: str) -> int:
    conn = await asyncpg.connect(url)
    try:
        return int(await conn.fetchval(f"SELECT count(*) FROM {schema}.events"))
    finally:
        await conn.close()


async def _portflare(source_url: str, target_url: str, **schemas: str) -> tuple[int, float]:
    source = await open_endpoint(source_url, schema=schemas.get("source"))
    target = await open_endpoint(target_url, schema=schemas.get("target"))
    try:
        start = time.perf_counter()
        report = await copy_tables(source, target)
        return report.rows, time.perf_counter() - start
    finally:
        await source.close()
        await target.close()


def _psql_to_sqlite(url: str, path: Path) -> tuple[int, float]:
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


def _pgloader(url: str, source: Path, workdir: Path) -> tuple[int, float]:
    asyncio.run(_fresh_schema(url, BACK["pgloader"]))
    command = workdir / "load.pgloader"
    command.write_text(f"LOAD DATABASE FROM sqlite://{source} INTO {url}\n"
                       f"  SET search_path TO '{BACK['pgloader']}'\n"
                       "  INCLUDING ONLY TABLE NAMES LIKE 'events';\n")
    start = time.perf_counter()
    done = subprocess.run(["pgloader", "--quiet", str(command)], capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"pgloader failed:\n{done.stdout}\n{done.stderr}")
    return asyncio.run(_count(url, BACK["pgloader"])), seconds


def _sqlite3_to_psql(url: str, source: Path) -> tuple[int, float]:
    asyncio.run(_fresh_schema(url, BACK["csv"], f"CREATE TABLE {BACK['csv']}.events (id bigint PRIMARY KEY, "
                              "user_id bigint NOT NULL, name text NOT NULL, score double precision, "
                              "created_at bigint NOT NULL, active boolean NOT NULL)"))
    start = time.perf_counter()
    dump = subprocess.Popen(["sqlite3", "-csv", str(source),
                             "SELECT id, user_id, name, score, created_at, active FROM events"],
                            stdout=subprocess.PIPE)
    load = subprocess.run(["psql", url, "-X", "-q", "-c", f"\\copy {BACK['csv']}.events FROM STDIN CSV"],
                          stdin=dump.stdout, capture_output=True, text=True)
    if dump.wait() != 0 or load.returncode != 0:
        raise SystemExit(f"sqlite3 | psql failed: {load.stderr}")
    seconds = time.perf_counter() - start
    return asyncio.run(_count(url, BACK["csv"])), seconds


def _line(label: str, rows: int, seconds: float) -> float:
    rate = rows / seconds
    print(f"  {label:<50} {rows:>9,} rows  {seconds:6.2f} s  {rate:>10,.0f} rows/s")
    return rate


def _round(url: str, tmp: Path, use_pgloader: bool, ratios: dict[str, list[float]],
           forward_rates: list[float]) -> None:
    forward = tmp / "portflare.sqlite"
    for path in tmp.glob("*.sqlite*"):
        path.unlink()
    print("PostgreSQL -> SQLite")
    base = _line("baseline  psql \\copy CSV | sqlite3.executemany", *_psql_to_sqlite(url, tmp / "baseline.sqlite"))
    ours = _line("portflare migrate data (asyncpg, checkpoints)",
                 *asyncio.run(_portflare(url, f"sqlite:///{forward}", source=SCHEMA)))
    ratios["portflare / psql|sqlite3 (PG -> SQLite)"].append(ours / base)
    forward_rates.append(ours)
    print("SQLite -> PostgreSQL (from the file above)")
    runs: list[tuple[str, str, Callable[[], tuple[int, float]]]] = [
        ("csv", "baseline  sqlite3 -csv | psql \\copy FROM STDIN", lambda: _sqlite3_to_psql(url, forward))]
    if use_pgloader:
        runs.append(("pgloader", "pgloader (defaults for a SQLite source)", lambda: _pgloader(url, forward, tmp)))
    rates = {name: _line(label, *run()) for name, label, run in runs}
    asyncio.run(_fresh_schema(url, BACK["portflare"]))
    ours = _line("portflare migrate data (binary COPY, checkpoints)",
                 *asyncio.run(_portflare(f"sqlite:///{forward}", url, target=BACK["portflare"])))
    ratios["portflare / sqlite3|psql (SQLite -> PG)"].append(ours / rates["csv"])
    if use_pgloader:
        ratios["portflare / pgloader (SQLite -> PG)"].append(ours / rates["pgloader"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("rows", nargs="?", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=1, help="repeat the whole comparison (default 1)")
    parser.add_argument("--url", default="postgresql://postgres@127.0.0.1:5432/test")
    args = parser.parse_args()
    use_pgloader = shutil.which("pgloader") is not None
    asyncio.run(_prepare(args.url, args.rows))
    print(f"rows: {args.rows:,} x 6 columns")
    ratios: dict[str, list[float]] = {"portflare / psql|sqlite3 (PG -> SQLite)": [],
                                      "portflare / sqlite3|psql (SQLite -> PG)": []}
    if use_pgloader:
        ratios["portflare / pgloader (SQLite -> PG)"] = []
    forward_rates: list[float] = []
    try:
        with tempfile.TemporaryDirectory() as tmp:
            for n in range(args.rounds):
                if args.rounds > 1:
                    print(f"-- round {n + 1}/{args.rounds}")
                _round(args.url, Path(tmp), use_pgloader, ratios, forward_rates)
    finally:
        asyncio.run(_drop(args.url))
    print("ratios (rows/s over rows/s, > 1 means portflare is faster):")
    for name, values in ratios.items():
        spread = f"{min(values):.2f}x" + (f" - {max(values):.2f}x" if len(values) > 1 else "")
        print(f"  {name:<44} {spread}")
    goal = "met" if min(forward_rates) >= 100_000 else "NOT met"
    print(f"goal >= 100,000 rows/s PostgreSQL -> SQLite: {goal}")
    if not use_pgloader:
        print(PGLOADER_MISSING)


async def _drop(url: str) -> None:
    conn = await asyncpg.connect(url)
    try:
        for schema in BACK.values():
            await conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
    finally:
        await conn.close()


if __name__ == "__main__":
    main()

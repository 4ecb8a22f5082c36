"""D1 binding overhead: point SELECT and single-row INSERT through ``env.DB`` versus the raw driver.

* SQLite (embedded backend) versus raw ``sqlite3`` on an identically configured file (WAL, ``synchronous
  =NORMAL``, foreign keys on, the same table);
* PostgreSQL (``postgres://`` backend) versus raw ``asyncpg`` on one connection to the same server, running
  the very statements the binding sends (its translation of the SQLite SQL) on the binding's own table, so
  both sides do the same work in the database (the table's rowid trigger included).

Both sides bind the same parameters and materialise comparable results: the binding a row object (``first()``)
or its meta (``run()``); the raw side all rows of the result, addressable by column name (``sqlite3.Row``,
asyncpg ``Record``), and the inserted row's id. Neither uses a driver shortcut the other lacks (``fetchone``
or ``fetchrow`` would stop after one row; the binding, as D1, runs the statement to the end).

Both sides run in one process and one event loop, in alternating blocks (raw, binding, binding, raw, ...), so
load from other processes hits both alike. Prints the median µs per operation of each side and the median of
the per-round ratios, side by side. PostgreSQL is skipped when it is not reachable.

    .venv/bin/python bench/d1_bench.py [N] [POSTGRES_URL]
"""

from __future__ import annotations

import asyncio
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from portflare.backends import BackendTarget
from portflare.bindings.d1 import D1Database, open_binding
from portflare.bindings.d1.server import ServerD1Backend, schema_name
from portflare.sqlitefile import connect_wal

POSTGRES_URL = "postgres://postgres@127.0.0.1:5432/test"

ROWS = 1000
ROUNDS = 20
OPS = ("point SELECT", "1-row INSERT")
SELECT = "SELECT id, name FROM t WHERE id = ?"
INSERT = "INSERT INTO t (name) VALUES (?)"

# One timed block: runs operations [start, stop) and returns nothing; the harness times it.
Block = Callable[[int, int], Awaitable[None]]


class Measured:
    """Per-round µs/op for the raw driver and the binding, for each operation."""

    def __init__(self) -> None:
        self.raw: dict[str, list[float]] = {op: [] for op in OPS}
        self.d1: dict[str, list[float]] = {op: [] for op in OPS}

    def cells(self, op: str) -> tuple[float, float, float]:
        """(median raw µs, median binding µs, median of the paired per-round ratios)."""
        raw, d1 = self.raw[op], self.d1[op]
        ratios = [b / a for a, b in zip(raw, d1, strict=True)]
        return statistics.median(raw), statistics.median(d1), statistics.median(ratios)


async def _time(block: Block, start: int, stop: int) -> float:
    began = time.perf_counter()
    await block(start, stop)
    return (time.perf_counter() - began) / (stop - start) * 1e6


async def _alternate(n: int, raw: dict[str, Block], d1: dict[str, Block]) -> Measured:
    measured = Measured()
    size = max(n // ROUNDS, 1)
    for op in OPS:  # warm up both sides (statement caches, plans) outside the timed blocks
        await raw[op](0, min(size, 100))
        await d1[op](0, min(size, 100))
    for round_ in range(ROUNDS):
        start, stop = round_ * size, (round_ + 1) * size
        for op in OPS:
            if round_ % 2:
                measured.d1[op].append(await _time(d1[op], start, stop))
                measured.raw[op].append(await _time(raw[op], start, stop))
            else:
                measured.raw[op].append(await _time(raw[op], start, stop))
                measured.d1[op].append(await _time(d1[op], start, stop))
    return measured


def _binding_blocks(db: D1Database) -> dict[str, Block]:
    select = db.prepare(SELECT)
    insert = db.prepare(INSERT)

    async def selects(start: int, stop: int) -> None:
        for i in range(start, stop):
            await select.bind(i % ROWS + 1).first()

    async def inserts(start: int, stop: int) -> None:
        for i in range(start, stop):
            _ = (await insert.bind(f"x{i}").run()).meta.last_row_id

    return {"point SELECT": selects, "1-row INSERT": inserts}


async def _open_binding(state: Path, url: str | None = None) -> D1Database:
    db = await open_binding(BackendTarget(kind="d1", binding="DB", resource="bench", state_dir=state, url=url))
    await db.exec("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT)")
    await db.batch([db.prepare("INSERT INTO t (name) VALUES (?)").bind(f"n{i}") for i in range(ROWS)])
    return db


async def _sqlite(tmp: Path, n: int) -> Measured:
    conn = connect_wal(tmp / "raw.sqlite")
    conn.execute("PRAGMA foreign_keys=ON")
    conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT)")
    conn.executemany(INSERT, [(f"n{i}",) for i in range(ROWS)])
    conn.row_factory = sqlite3.Row

    # Raw blocks are coroutines too, so both sides pay the same harness cost; the loop inside is plain sqlite3.
    async def selects(start: int, stop: int) -> None:
        for i in range(start, stop):
            _ = conn.execute(SELECT, (i % ROWS + 1,)).fetchall()[0]

    async def inserts(start: int, stop: int) -> None:
        for i in range(start, stop):
            _ = conn.execute(INSERT, (f"x{i}",)).lastrowid

    db = await _open_binding(tmp / "state")
    try:
        return await _alternate(n, {"point SELECT": selects, "1-row INSERT": inserts}, _binding_blocks(db))
    finally:
        await db._aclose()
        conn.close()


async def _postgres(tmp: Path, url: str, n: int) -> Measured | None:
    import asyncpg

    try:
        conn: Any = await asyncpg.connect(url)
    except OSError as exc:
        print(f"(PostgreSQL at {url} not reachable: {exc}; skipped)")
        return None
    db = None
    schema = schema_name("bench")
    try:
        await conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        db = await _open_binding(tmp, url)
        backend = db.backend
        assert isinstance(backend, ServerD1Backend)
        # The raw side runs what the binding sends, on the binding's table.
        select, insert = backend._translate(SELECT).sql, backend._translate(INSERT).sql
        print(f"(PostgreSQL statements: {select!r}, {insert!r})")
        await conn.execute(f"SET search_path = {schema}")

        async def selects(start: int, stop: int) -> None:
            for i in range(start, stop):
                _ = (await conn.fetch(select, i % ROWS + 1))[0]

        async def inserts(start: int, stop: int) -> None:
            for i in range(start, stop):
                _ = (await conn.fetch(insert, f"x{i}"))[-1][0]

        return await _alternate(n, {"point SELECT": selects, "1-row INSERT": inserts}, _binding_blocks(db))
    finally:
        if db is not None:
            await db._aclose()
        await conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        await conn.close()


async def _main(n: int, url: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        lite = await _sqlite(Path(tmp), n)
    with tempfile.TemporaryDirectory() as tmp:
        postgres = await _postgres(Path(tmp), url, max(n // 4, ROUNDS))
    header = f"{'':14}{'raw sqlite3':>13}{'env.DB':>11}{'ratio':>7}"
    if postgres:
        header += f"   {'raw asyncpg':>13}{'env.DB':>11}{'ratio':>7}"
    print(header)
    for op in OPS:
        raw, d1, ratio = lite.cells(op)
        line = f"{op:14}{raw:>10.1f} µs{d1:>8.1f} µs{ratio:>6.2f}x"
        if postgres:
            raw, d1, ratio = postgres.cells(op)
            line += f"   {raw:>10.1f} µs{d1:>8.1f} µs{ratio:>6.2f}x"
        print(line)
    print(f"(medians over {ROUNDS} alternating rounds; ratio = median of the per-round binding/raw ratios)")


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 20_000
    url = sys.argv[2] if len(sys.argv) > 2 else POSTGRES_URL
    asyncio.run(_main(n, url))


if __name__ == "__main__":
    main()

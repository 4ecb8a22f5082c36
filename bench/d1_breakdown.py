"""Where the D1 binding's time goes on the embedded backend: the per-call breakdown behind d1_bench's ratios.

For a point SELECT (``first()``) and a one-row INSERT (``run()`` and ``meta.last_row_id``) on the tables
``d1_bench.py`` builds, it times the raw ``sqlite3`` call, then the same statement through each layer of the
binding in turn (the backend's cursor, the backend's bookkeeping, D1's checks, the public method, ``bind``),
and prints each layer's increment in µs and as a share of the raw call. The INSERT's layers are timed inside
one open transaction on each side, since a commit's jitter (WAL appends, checkpoints) would drown sub-µs
increments; their shares are still of the committed raw INSERT, timed first. Each figure is the best of
several interleaved blocks with the loop's own cost subtracted; layers are reached through private names,
so this is a profiling aid that follows the code, not a contract. Usage::

    .venv/bin/python bench/d1_breakdown.py [N]
"""

from __future__ import annotations

import asyncio
import sqlite3
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from d1_bench import INSERT, ROWS, SELECT, _open_binding

from portflare.bindings.d1.sqlite import SqliteD1Backend
from portflare.sqlitefile import connect_wal

BLOCKS = 9
Step = tuple[str, Callable[[], Any]]


async def _loop(n: int, step: Callable[[], Any]) -> None:
    for _ in range(n):
        result = step()
        if asyncio.iscoroutine(result):
            result = await result
            if isinstance(result, dict) and "meta" in result:
                _ = result.meta.last_row_id


async def _best(n: int, steps: list[Step]) -> list[float]:
    """Best µs per call of each step, minus the loop's own cost, over interleaved blocks."""
    best = [float("inf")] * len(steps)
    empty = float("inf")
    for _ in range(BLOCKS):
        began = time.perf_counter()
        await _loop(n, lambda: None)
        empty = min(empty, (time.perf_counter() - began) / n * 1e6)
        for index, (_, step) in enumerate(steps):
            began = time.perf_counter()
            await _loop(n, step)
            best[index] = min(best[index], (time.perf_counter() - began) / n * 1e6)
    return [b - empty for b in best]


def _print_layers(steps: list[Step], times: list[float], raw: float) -> None:
    """The first step is the raw call; each later line is what one more layer adds, in µs and as a share of ``raw``."""
    for index in range(1, len(steps)):
        added = times[index] - times[index - 1]
        print(f"  {'+ ' if added >= 0 else '  '}{steps[index][0]:48}{added:>+7.2f}{added / raw:>+8.2f}")


async def _selects(n: int, steps: list[Step]) -> None:
    times = await _best(n, steps)
    raw = times[0]
    print(f"{'point SELECT, per call':52}{'µs':>7}{'x raw':>8}")
    print(f"  {steps[0][0]:50}{raw:>7.2f}{1:>8.2f}")
    _print_layers(steps, times, raw)
    print(f"  = {'env.DB':48}{times[-1]:>7.2f}{times[-1] / raw:>8.2f}")


async def _inserts(n: int, steps: list[Step], open_transactions: Callable[[], None]) -> None:
    committed = await _best(n, [steps[0], steps[-1]])
    raw = committed[0]
    print(f"{'1-row INSERT, per call':52}{'µs':>7}{'x raw':>8}")
    print(f"  {steps[0][0] + ', committed':50}{raw:>7.2f}{1:>8.2f}")
    print(f"  {'env.DB, committed':50}{committed[1]:>7.2f}{committed[1] / raw:>8.2f}")
    open_transactions()
    times = await _best(n, steps)
    print(f"  the difference, layer by layer, timed in an open transaction (raw: {times[0]:.2f} µs there):")
    _print_layers(steps, times, raw)


async def _main(n: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        raw = connect_wal(Path(tmp) / "raw.sqlite")
        raw.execute("PRAGMA foreign_keys=ON")
        raw.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT)")
        raw.executemany(INSERT, [(f"n{i}",) for i in range(ROWS)])
        raw.row_factory = sqlite3.Row
        db = await _open_binding(Path(tmp) / "state")
        backend = db.backend
        assert isinstance(backend, SqliteD1Backend)
        cursor = backend._cursor
        select, insert = db.prepare(SELECT), db.prepare(INSERT)
        bound_select, bound_insert = select.bind(5), insert.bind("x")
        selects: list[Step] = [
            ("raw sqlite3: conn.execute, fetchall, Row", lambda: raw.execute(SELECT, (5,)).fetchall()[0]),
            ("the same on the backend's reused cursor", lambda: cursor.execute(SELECT, (5,)).fetchall()),
            ("backend bookkeeping (rows_now)", lambda: backend.rows_now(SELECT, (5,))),
            ("D1's checks, bookmark (_rows_now)", lambda: db._rows_now(bound_select)),
            ("first(): coroutine, JS-shaped row", bound_select.first),
            ("bind(): new statement, value types", lambda: select.bind(5).first()),
        ]
        inserts: list[Step] = [
            ("raw sqlite3: conn.execute, lastrowid", lambda: raw.execute(INSERT, ("x",)).lastrowid),
            ("the same on the backend's reused cursor", lambda: cursor.execute(INSERT, ("x",)).fetchall()),
            ("backend bookkeeping (rows_now)", lambda: backend.rows_now(INSERT, ("x",))),
            ("timing, StatementResult (run_now)", lambda: backend.run_now(INSERT, ("x",))),
            ("D1's checks, bookmark (_run_now)", lambda: db._run_now(bound_insert)),
            ("run(): coroutine, {success, meta, results}", bound_insert.run),
            ("bind(): new statement, value types", lambda: insert.bind("x").run()),
        ]
        def open_transactions() -> None:
            raw.execute("BEGIN")
            backend._conn.execute("BEGIN")

        try:
            await _selects(n, selects)
            await _inserts(max(n // 4, 1), inserts, open_transactions)
        finally:
            await db._aclose()
            raw.close()
    print(f"(best of {BLOCKS} interleaved blocks of {n} calls, {max(n // 4, 1)} for INSERTs; loop cost subtracted)")


def main() -> None:
    asyncio.run(_main(int(sys.argv[1]) if len(sys.argv) > 1 else 50_000))


if __name__ == "__main__":
    main()

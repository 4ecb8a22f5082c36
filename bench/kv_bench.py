"""KV through the binding vs the raw client on the same store, side by side in one process.

    python bench/kv_bench.py [--n 5000] [--redis redis://127.0.0.1:6379/15] [--skip-redis]

For each operation it prints ops/s through ``env.KV`` (validation, options, decoding, backend) and through the
bare driver, and the ratio of time per op (binding/raw; 1.00 = no overhead). Two raw references for Redis:
plain ``GET``/``SET`` (the floor) and the same layout by hand (``HMGET``; ``HSET``+``ZADD`` in one
MULTI/EXEC); puts also against a one-line Lua ``SET`` through redis-py's ``Script`` (what a script call alone
costs; the binding's writes are scripts so that value, expiry and index change atomically). SQLite also shows
what a thread hop per call would cost. Loopback only; every loop is bounded by ``--n`` and stops early after
``--max-seconds``. The operations run in alternating blocks and each time is the median block, so a burst of
load from other processes shifts one block, not the ratio.
"""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
import statistics
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path

import redis.asyncio as aioredis

from portflare.backends import BackendTarget
from portflare.bindings.kv import open_binding

VALUE = "x" * 100


Op = Callable[[int], Awaitable[object]]
BLOCK = 250


async def timed(n: int, op: Op, max_seconds: float) -> float:
    """Seconds per op, over up to n ops (after a warm-up)."""
    return (await compare(n, [op], max_seconds))[0]


async def compare(n: int, ops: list[Op], max_seconds: float) -> list[float]:
    """Seconds per op for each of ``ops``, run in alternating blocks so that drift in machine load (noisy on
    small shared machines) hits all of them alike; the median block counts."""
    for op in ops:
        for i in range(min(n, 200)):
            await op(i)
    blocks: list[list[float]] = [[] for _ in ops]
    done = 0
    deadline = time.perf_counter() + max_seconds * len(ops)
    while done < n and time.perf_counter() < deadline:
        block = range(done, min(done + BLOCK, n))
        for index, op in enumerate(ops):
            start = time.perf_counter()
            for i in block:
                await op(i)
            blocks[index].append((time.perf_counter() - start) / len(block))
        done = block.stop
    return [statistics.median(spent) for spent in blocks]


def report(name: str, binding: float, raw: float, raw_name: str = "raw") -> None:
    print(f"{name:<26} binding {1 / binding:>9,.0f} ops/s   {raw_name:<14} {1 / raw:>9,.0f} ops/s   "
          f"ratio {binding / raw:5.2f}x")


async def bench_sqlite(n: int, max_seconds: float) -> None:
    state = Path(tempfile.mkdtemp())
    kv = await open_binding(BackendTarget("kv", "KV", "bench", state))
    db = sqlite3.connect(state / "raw.sqlite", isolation_level=None, check_same_thread=False)
    db.execute("PRAGMA journal_mode = WAL")
    db.execute("PRAGMA synchronous = NORMAL")
    db.execute("CREATE TABLE kv (key TEXT PRIMARY KEY, value BLOB, expiration INTEGER, metadata TEXT) WITHOUT ROWID")
    data = VALUE.encode()

    async def raw_put(i: int) -> None:
        db.execute("INSERT OR REPLACE INTO kv VALUES (?, ?, NULL, NULL)", (f"k{i}", data))

    async def raw_get(i: int) -> object:
        return db.execute("SELECT value, expiration, metadata FROM kv WHERE key = ?", (f"k{i}",)).fetchone()

    def get_sync(i: int) -> object:
        return db.execute("SELECT value, expiration, metadata FROM kv WHERE key = ?", (f"k{i}",)).fetchone()

    try:
        report("sqlite put (100 B)", *await compare(n, [lambda i: kv.put(f"k{i}", VALUE), raw_put], max_seconds),
               "sqlite3")
        report("sqlite get (100 B)", *await compare(n, [lambda i: kv.get(f"k{i}"), raw_get], max_seconds),
               "sqlite3")
        hop = await timed(n, lambda i: asyncio.to_thread(get_sync, i), max_seconds)
        print(f"{'':<26} (sqlite3 get through asyncio.to_thread: {1 / hop:,.0f} ops/s: why we do not hop)")
    finally:
        await kv._aclose()
        db.close()


async def bench_redis(n: int, url: str, max_seconds: float) -> None:
    namespace = f"bench-{uuid.uuid4().hex}"
    kv = await open_binding(BackendTarget("kv", "KV", namespace, Path(tempfile.mkdtemp()), url))
    raw = aioredis.Redis.from_url(url)
    own = f"raw:{namespace}"

    lua_set = raw.register_script("return redis.call('SET', KEYS[1], ARGV[1])")

    async def hand_put(i: int) -> None:
        async with raw.pipeline(transaction=True) as pipe:
            pipe.hset(f"{own}:v:k{i}", mapping={"v": VALUE, "m": "|"})
            pipe.zadd(f"{own}:idx", {f"k{i}": 0})
            await pipe.execute()

    try:
        put_b, put_set, put_lua, put_hand = await compare(
            n, [lambda i: kv.put(f"k{i}", VALUE), lambda i: raw.set(f"{own}:s:k{i}", VALUE),
                lambda i: lua_set(keys=[f"{own}:l:k{i}"], args=[VALUE]), hand_put], max_seconds)
        report("redis put (100 B)", put_b, put_set, "raw SET")
        report("", put_b, put_lua, "raw Lua SET")
        report("", put_b, put_hand, "raw HSET+ZADD")
        get_b, get_plain, get_hand = await compare(
            n, [lambda i: kv.get(f"k{i}"), lambda i: raw.get(f"{own}:s:k{i}"),
                lambda i: raw.hmget(f"{own}:v:k{i}", ["v", "m"])], max_seconds)
        report("redis get (100 B)", get_b, get_plain, "raw GET")
        report("", get_b, get_hand, "raw HMGET")
        list_b = await timed(max(n // 50, 10), lambda i: kv.list(limit=100), max_seconds)
        print(f"{'redis list (100 keys)':<26} binding {1 / list_b:>9,.0f} ops/s")
    finally:
        await kv._backend.clear()  # type: ignore[attr-defined]
        async for key in raw.scan_iter(match=f"{own}:*"):
            await raw.delete(key)
        await kv._aclose()
        await raw.aclose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=5000, help="ops per measurement (default 5000)")
    parser.add_argument("--max-seconds", type=float, default=5.0, help="cap per measurement (default 5 s)")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/15")
    parser.add_argument("--skip-redis", action="store_true")
    args = parser.parse_args()
    asyncio.run(bench_sqlite(args.n, args.max_seconds))
    if not args.skip_redis:
        asyncio.run(bench_redis(args.n, args.redis, args.max_seconds))


if __name__ == "__main__":
    main()

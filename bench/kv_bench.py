"""KV through the binding vs the raw client on the same store, side by side in one process.

    python bench/kv_bench.py [--n 5000] [--redis redis://127.0.0.1:6379/15]

Prints ops/s for each and the ratio binding/raw (time per op; 1.00 = no overhead). Loopback only, bounded by --n.
"""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path

import redis.asyncio as aioredis

from portflare.backends import BackendTarget
from portflare.bindings.kv import open_binding


async def timed(n: int, op: Callable[[int], Awaitable[object]]) -> float:
    for i in range(min(n, 200)):  # warm up connections and caches
        await op(i)
    start = time.perf_counter()
    for i in range(n):
        await op(i)
    return time.perf_counter() - start


def report(name: str, n: int, binding: float, raw: float) -> None:
    print(f"{name:<28} binding {n / binding:>9,.0f} ops/s   raw {n / raw:>9,.0f} ops/s   ratio {binding / raw:5.2f}x")


async def bench_redis(n: int, url: str) -> None:
    namespace = f"bench-{uuid.uuid4().hex}"
    kv = await open_binding(BackendTarget("kv", "KV", namespace, Path(tempfile.mkdtemp()), url))
    raw = aioredis.Redis.from_url(url)
    value = "x" * 100
    try:
        put_b = await timed(n, lambda i: kv.put(f"k{i}", value))
        # the raw reference does what a careful hand-written Redis KV must: value + metadata + index, atomically
        async def raw_put(i: int) -> None:
            async with raw.pipeline(transaction=True) as pipe:
                pipe.delete(f"raw:{namespace}:v:k{i}")
                pipe.hset(f"raw:{namespace}:v:k{i}", mapping={"value": value})
                pipe.zadd(f"raw:{namespace}:idx", {f"k{i}": 0})
                await pipe.execute()
        put_r = await timed(n, raw_put)
        report("redis put (100 B)", n, put_b, put_r)
        get_b = await timed(n, lambda i: kv.get(f"k{i}"))
        get_r = await timed(n, lambda i: raw.hmget(f"raw:{namespace}:v:k{i}", ["value", "expiration", "metadata"]))
        report("redis get (100 B)", n, get_b, get_r)
        get_plain = await timed(n, lambda i: raw.get(f"plain:{i}"))
        report("redis get vs plain GET", n, get_b, get_plain)
    finally:
        await kv._backend.clear()  # type: ignore[attr-defined]
        async for key in raw.scan_iter(match=f"raw:{namespace}:*"):
            await raw.delete(key)
        await kv._aclose()
        await raw.aclose()


async def bench_sqlite(n: int) -> None:
    state = Path(tempfile.mkdtemp())
    kv = await open_binding(BackendTarget("kv", "KV", "bench", state))
    db = sqlite3.connect(state / "raw.sqlite", isolation_level=None)
    db.execute("PRAGMA journal_mode = WAL")
    db.execute("PRAGMA synchronous = NORMAL")
    db.execute("CREATE TABLE kv (key TEXT PRIMARY KEY, value BLOB, expiration INTEGER, metadata TEXT) WITHOUT ROWID")
    value = "x" * 100

    async def raw_put(i: int) -> None:
        db.execute("INSERT OR REPLACE INTO kv VALUES (?, ?, NULL, NULL)", (f"k{i}", value.encode()))

    async def raw_get(i: int) -> object:
        return db.execute("SELECT value, expiration, metadata FROM kv WHERE key = ?", (f"k{i}",)).fetchone()

    put_b = await timed(n, lambda i: kv.put(f"k{i}", value))
    put_r = await timed(n, raw_put)
    report("sqlite put (100 B)", n, put_b, put_r)
    get_b = await timed(n, lambda i: kv.get(f"k{i}"))
    get_r = await timed(n, raw_get)
    report("sqlite get (100 B)", n, get_b, get_r)
    await kv._aclose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=5000)
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/15")
    args = parser.parse_args()
    asyncio.run(bench_sqlite(args.n))
    asyncio.run(bench_redis(args.n, args.redis))


if __name__ == "__main__":
    main()

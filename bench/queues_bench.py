"""Queue throughput, send → consumer → ack, through portflare vs a raw Redis Streams loop, side by side.

    python bench/queues_bench.py [--n 5000] [--redis redis://127.0.0.1:6379/15] [--skip-redis]

Each run sends ``--n`` messages while one consumer in the same process takes them (batches of up to 100) and
acks them; the clock stops when every message is acked. Two producer shapes: ``sendBatch`` of 100 and one
``send`` per message (what most Workers do). The reference is the bare Redis Streams loop portflare's Redis
backend is built on: ``XADD`` (pipelined by 100, or one by one), ``XREADGROUP COUNT 100``, ``XACK``+``XDEL`` per
batch. The ratio is portflare's rate over the reference's (1.00 = no overhead). Loopback only; each run stops
after ``--max-seconds``.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
import uuid
from pathlib import Path

import redis.asyncio as aioredis

from portflare.backends import BackendTarget
from portflare.bindings.queues import open_backend, open_binding
from portflare.bindings.queues.batch import MessageBatch
from portflare.config import QueueConsumer
from portflare.runtime.consumers import Consumer

BATCH = 100


async def portflare_rate(url: str | None, state: Path, n: int, single: bool, max_seconds: float) -> float:
    name = f"bench-{uuid.uuid4().hex[:8]}"
    target = BackendTarget(kind="queues", binding="Q", resource=name, state_dir=state, url=url)
    producer = await open_binding(target)
    backend = await open_backend(target)
    seen = 0
    all_seen = asyncio.Event()

    async def handler(batch: MessageBatch) -> None:
        nonlocal seen
        seen += len(batch.messages)
        if seen >= n:
            all_seen.set()

    settings = QueueConsumer(queue=name, max_batch_size=BATCH, max_batch_timeout=0.01, max_concurrency=4)
    consumer = Consumer(settings, backend, handler, poll=0.002)
    task = asyncio.create_task(consumer.run())
    start = time.perf_counter()
    try:
        if single:
            for i in range(n):
                await producer.send({"n": i})
        else:
            for first in range(0, n, BATCH):
                await producer.sendBatch([{"body": {"n": i}} for i in range(first, min(n, first + BATCH))])
        await asyncio.wait_for(all_seen.wait(), max_seconds)
        for _ in range(int(max_seconds * 1000)):  # the last acks follow the last handler call
            if not (await backend.stats(time.time())).depth:
                break
            await asyncio.sleep(0.001)
        elapsed = time.perf_counter() - start
    finally:
        consumer.stop()
        task.cancel()
        await asyncio.wait([task], timeout=5)
        if url:
            await backend.clear()  # type: ignore[attr-defined]
        await backend.close()
        await producer._aclose()
    return n / elapsed


async def raw_redis_rate(url: str, n: int, single: bool, max_seconds: float) -> float:
    r = aioredis.Redis.from_url(url)
    stream = f"bench-raw-{uuid.uuid4().hex[:8]}"
    await r.xgroup_create(stream, "g", id="0", mkstream=True)

    async def produce() -> None:
        if single:
            for i in range(n):
                await r.xadd(stream, {"body": f'{{"n":{i}}}'})
            return
        for first in range(0, n, BATCH):
            async with r.pipeline(transaction=True) as pipe:
                for i in range(first, min(n, first + BATCH)):
                    pipe.xadd(stream, {"body": f'{{"n":{i}}}'})
                await pipe.execute()

    async def consume() -> None:
        acked = 0
        while acked < n:
            reply = await r.xreadgroup("g", "c", {stream: ">"}, count=BATCH, block=100)
            ids = [entry_id for _, entries in reply or [] for entry_id, _ in entries]
            if ids:
                async with r.pipeline(transaction=True) as pipe:
                    pipe.xack(stream, "g", *ids)
                    pipe.xdel(stream, *ids)
                    await pipe.execute()
                acked += len(ids)

    start = time.perf_counter()
    try:
        await asyncio.wait_for(asyncio.gather(produce(), consume()), max_seconds)
        return n / (time.perf_counter() - start)
    finally:
        await r.delete(stream)
        await r.aclose()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=5000)
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/15")
    parser.add_argument("--skip-redis", action="store_true")
    parser.add_argument("--max-seconds", type=float, default=60.0)
    args = parser.parse_args()
    print(f"{args.n} messages, send → consume → ack, one process, loopback\n")
    print(f"{'producer':<12}{'backend':<22}{'msg/s':>10}{'vs raw Redis Streams':>24}")
    with tempfile.TemporaryDirectory() as tmp:
        for single, shape in ((False, "sendBatch"), (True, "send")):
            raw = None if args.skip_redis else await raw_redis_rate(args.redis, args.n, single, args.max_seconds)
            rows = [("raw Redis Streams", raw)] if raw else []
            if not args.skip_redis:
                rows.append(("portflare Redis", await portflare_rate(args.redis, Path(tmp), args.n, single,
                                                                     args.max_seconds)))
            rows.append(("portflare SQLite", await portflare_rate(None, Path(tmp), args.n, single, args.max_seconds)))
            for backend, rate in rows:
                assert rate is not None
                ratio = f"{rate / raw:.2f}" if raw else "-"
                print(f"{shape:<12}{backend:<22}{rate:>10,.0f}{ratio:>24}")
            print()


if __name__ == "__main__":
    asyncio.run(main())

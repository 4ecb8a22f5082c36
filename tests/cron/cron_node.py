"""A cron node for the multi-process test: ``python -m tests.cron.cron_node STORE LOG START REAL0 SPEED SECONDS``.

STORE is a SQLite path or a ``redis://`` URL (with ``#<worker>`` naming the Worker). The node runs a
``CronScheduler`` for ``* * * * *`` on an accelerated clock (``START + (time.time() - REAL0) * SPEED``, the same in
every node) for SECONDS real seconds and appends ``<pid> <scheduledTime>`` to LOG for each tick it fires.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from pathlib import Path

from portflare.bindings.kv.redis import client_from_url
from portflare.runtime.cron import CronScheduler, CronStore, RedisCronStore, SqliteCronStore
from portflare.runtime.scheduled import ScheduledController


async def main() -> None:
    store_arg, log, start, real0, speed, seconds = sys.argv[1:7]
    store: CronStore
    if store_arg.startswith("redis://"):
        url, _, worker = store_arg.partition("#")
        store = RedisCronStore(client_from_url(url), worker)
    else:
        store = SqliteCronStore(store_arg)

    def clock() -> float:
        return float(start) + (time.time() - float(real0)) * float(speed)

    async def sleep(fake_seconds: float) -> None:
        await asyncio.sleep(fake_seconds / float(speed))

    def record(line: str) -> None:
        with Path(log).open("a") as f:
            f.write(line)

    async def handler(controller: ScheduledController) -> None:
        record(f"{os.getpid()} {int(controller.scheduledTime)}\n")

    scheduler = CronScheduler(["* * * * *"], store, handler, clock=clock, sleep=sleep)
    task = asyncio.create_task(scheduler.run())
    await asyncio.sleep(float(seconds))
    scheduler.stop()
    task.cancel()
    await asyncio.wait([task, *scheduler.running], timeout=5)
    await store.close()


if __name__ == "__main__":
    asyncio.run(main())

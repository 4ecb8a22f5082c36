"""A consumer node for the multi-process tests: ``python -m tests.queues.consumer_node QUEUE LOG [options]``.

Runs one ``Consumer`` on QUEUE (Redis with ``--url``, else SQLite under ``--state-dir``) and appends a line to
LOG per event: ``begin <pid> <id>:<attempts> ...`` when a batch starts, ``done <pid> <id> ...`` when it ends.
With ``--hang-on-batch N`` the N-th batch hangs after its ``begin`` line, for the test to SIGKILL the process.
"""

from __future__ import annotations

import argparse
import asyncio
import os
from pathlib import Path

from portflare.backends import BackendTarget
from portflare.bindings.queues import open_backend
from portflare.bindings.queues.batch import MessageBatch
from portflare.config import QueueConsumer
from portflare.runtime.consumers import Consumer


def log_line(path: Path, line: str) -> None:
    with path.open("a") as f:  # one write per line, O_APPEND: lines from several processes never interleave
        f.write(line + "\n")
        f.flush()


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("queue")
    parser.add_argument("log", type=Path)
    parser.add_argument("--url", default=None)
    parser.add_argument("--state-dir", type=Path, default=Path("."))
    parser.add_argument("--lease", type=float, default=1.0)
    parser.add_argument("--hang-on-batch", type=int, default=0)
    parser.add_argument("--work", type=float, default=0.01)
    parser.add_argument("--concurrency", type=int, default=None)
    args = parser.parse_args()
    pid = os.getpid()
    batches = 0

    async def handler(batch: MessageBatch) -> None:
        nonlocal batches
        batches += 1
        log_line(args.log, f"begin {pid} " + " ".join(f"{m.id}:{m.attempts}" for m in batch.messages))
        if batches == args.hang_on_batch:
            await asyncio.sleep(3600)  # killed here, mid-batch
        await asyncio.sleep(args.work)
        log_line(args.log, f"done {pid} " + " ".join(m.id for m in batch.messages))

    target = BackendTarget(kind="queues", binding="Q", resource=args.queue, state_dir=args.state_dir, url=args.url)
    backend = await open_backend(target)
    settings = QueueConsumer(queue=args.queue, max_batch_size=10, max_batch_timeout=0.1,
                             max_concurrency=args.concurrency)
    log_line(args.log, f"ready {pid}")
    await Consumer(settings, backend, handler, lease=args.lease, poll=0.01).run()


if __name__ == "__main__":
    asyncio.run(main())

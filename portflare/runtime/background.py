"""``run_background``: the queue consumers and the cron scheduler of one Worker process, as one context.

The HTTP host enters it in its lifespan, after the env is open and the Worker loaded::

    async with run_background(config, env, state_dir, queue_handler, scheduled_handler):
        ...  # serve

``queue_handler(batch)`` and ``scheduled_handler(controller)`` are coroutines that already close over the
Worker's env and ctx (either may be None when the Worker lacks that handler). Every process of every node may
run this: queue leases and cron claims make sure each message and each tick is handled by one of them. On exit
the consumers stop taking messages, running batches and cron runs get ``shutdown_grace`` seconds to finish,
then are cancelled (their messages come back when their leases run out), and the backends close.

Backends: each consumer's queue (and dead-letter queue) by ``PORTFLARE_QUEUE_<NAME>`` (or a producer binding's
``PORTFLARE_<BINDING>``: see ``portflare.bindings.queues``); cron claims by ``PORTFLARE_CRON``, keyed by the
Worker's name. Unset: SQLite files under ``state_dir``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from portflare.backends import BackendTarget, backend_url
from portflare.bindings.queues import open_backend, queue_target
from portflare.config import Config
from portflare.runtime.consumers import Consumer, QueueHandler, backoff
from portflare.runtime.cron import CronScheduler, ScheduledHandler, open_cron_store, parse_cron

log = logging.getLogger("portflare.background")

SHUTDOWN_GRACE = 25.0  # within the host's 30 s waitUntil grace
CRON_BINDING = "CRON"  # PORTFLARE_CRON


@dataclass
class Background:
    consumers: list[Consumer] = field(default_factory=list)
    scheduler: CronScheduler | None = None
    tasks: list[asyncio.Task[None]] = field(default_factory=list)


async def _supervise(name: str, run: Callable[[], Awaitable[None]]) -> None:
    """Run a loop forever; if it fails (a backend went away), log and start it again after a backoff."""
    failures = 0
    while True:
        try:
            await run()
            return
        except Exception:
            failures += 1
            log.exception("%s stopped; restarting in %.1fs", name, backoff(failures))
            await asyncio.sleep(backoff(failures))


async def _stop(background: Background, grace: float) -> None:
    tasks, scheduler = background.tasks, background.scheduler
    loops: list[Consumer | CronScheduler] = [*background.consumers, *([scheduler] if scheduler else [])]
    for loop in loops:
        loop.stop()
    for task in tasks:
        task.cancel()  # consumers stop receiving, then wait for their running batches
    pending = [*tasks, *(scheduler.running if scheduler else ())]
    if not pending:
        return
    _, late = await asyncio.wait(pending, timeout=grace)
    if late:
        log.warning("%d queue batch(es)/cron run(s) still running after %.0fs: cancelled", len(late), grace)
        for task in late:
            task.cancel()
        await asyncio.wait(late, timeout=5)


@asynccontextmanager
async def run_background(config: Config, env: Any, state_dir: Path, queue_handler: QueueHandler | None,
                         scheduled_handler: ScheduledHandler | None, *, environ: Mapping[str, str] | None = None,
                         shutdown_grace: float = SHUTDOWN_GRACE, **loop_options: Any) -> AsyncIterator[Background]:
    """Consume ``config.queue_consumers`` and fire ``config.crons`` while the context is open.

    ``env`` is accepted for the host's convenience and not used (the handlers carry it). ``loop_options``
    (``lease``, ``poll``, ``clock``) tune the consumers, for tests.
    """
    background = Background()
    async with AsyncExitStack() as stack:
        if config.queue_consumers and queue_handler is None:
            log.warning("queue consumers are configured (%s) but the Worker has no queue handler: their messages "
                        "wait", ", ".join(c.queue for c in config.queue_consumers))
        for settings in config.queue_consumers:
            if queue_handler is None:
                break
            backend = await open_backend(queue_target(settings.queue, state_dir, producers=config.queue_producers,
                                                      environ=environ))
            stack.push_async_callback(backend.close)
            dead_letter = None
            if settings.dead_letter_queue:
                dead_letter = await open_backend(queue_target(settings.dead_letter_queue, state_dir,
                                                              producers=config.queue_producers, environ=environ))
                stack.push_async_callback(dead_letter.close)
            background.consumers.append(Consumer(settings, backend, queue_handler, dead_letter=dead_letter,
                                                 **loop_options))
        if config.crons and scheduled_handler is None:
            log.warning("cron triggers are configured (%s) but the Worker has no scheduled handler",
                        ", ".join(config.crons))
        if config.crons and scheduled_handler is not None:
            for cron in config.crons:
                parse_cron(cron)  # a bad expression fails startup, as wrangler deploy would refuse it
            store = await open_cron_store(BackendTarget(kind="cron", binding=CRON_BINDING, resource=config.name,
                                                        state_dir=state_dir, url=backend_url(CRON_BINDING, environ)))
            stack.push_async_callback(store.close)
            background.scheduler = CronScheduler(config.crons, store, scheduled_handler)
        for consumer in background.consumers:
            background.tasks.append(asyncio.create_task(_supervise(f"queue consumer {consumer.settings.queue}",
                                                                   consumer.run)))
        if background.scheduler is not None:
            background.tasks.append(asyncio.create_task(_supervise("cron scheduler", background.scheduler.run)))
        stack.push_async_callback(_stop, background, shutdown_grace)
        yield background

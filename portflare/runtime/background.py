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
``PORTFLARE_<BINDING>``: see ``portflare.bindings.queues``); cron claims by ``PORTFLARE_CRON``, else the Redis a
queue of the Worker is on (``cron_store_url``), keyed by the Worker's name. Unset: SQLite files under
``state_dir``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from portflare.backends import REDIS_SCHEMES, BackendTarget, backend_url, env_var_for, redact
from portflare.bindings.queues import open_backend, queue_binding_name, queue_names, queue_target, queue_url
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


def cron_store_url(config: Config, environ: Mapping[str, str] | None = None) -> str | None:
    """Where this Worker's cron ticks are claimed: a URL, or None for the embedded SQLite file.

    ``PORTFLARE_CRON`` if set. Else the Redis (or Valkey) one of the Worker's queues is on: nodes that share a
    queue are a cluster, and with a claim file each on its own disk every node would fire every tick. Else
    SQLite, which serves the processes of one machine; if other bindings are on shared servers (several
    nodes are likely then), say that each node would fire every tick.
    """
    url = backend_url(CRON_BINDING, environ)
    if url is not None:
        return url
    for queue in queue_names(config):
        url = queue_url(queue, config.queue_producers, environ)
        if url is not None and urlsplit(url).scheme.lower() in REDIS_SCHEMES:
            log.info("cron: ticks are claimed in %s, where queue '%s' is (set %s to choose another store)",
                     redact(url), queue, env_var_for(CRON_BINDING))
            return url
    shared = _shared_backends(config, environ)
    if shared:
        log.warning("cron: ticks are claimed in a SQLite file on this machine, but %s %s a shared server: if "
                    "several nodes run this Worker, every node fires every tick. Set %s=redis://... (a Redis every "
                    "node reaches) to fire each tick once across nodes.", ", ".join(shared),
                    "puts a binding on" if len(shared) == 1 else "put bindings on", env_var_for(CRON_BINDING))
    return None


def _shared_backends(config: Config, environ: Mapping[str, str] | None) -> list[str]:
    """The ``PORTFLARE_<BINDING>`` variables that put a KV, D1, R2 or queue binding on a server (not SQLite)."""
    bindings = [*(b.binding for b in config.kv_namespaces), *(b.binding for b in config.d1_databases),
                *(b.binding for b in config.r2_buckets), *(p.binding for p in config.queue_producers),
                *(queue_binding_name(q) for q in queue_names(config))]
    return [env_var_for(b) for b in dict.fromkeys(bindings)
            if (url := backend_url(b, environ)) is not None and urlsplit(url).scheme.lower() != "sqlite"]


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
                                                        state_dir=state_dir, url=cron_store_url(config, environ)))
            stack.push_async_callback(store.close)
            background.scheduler = CronScheduler(config.crons, store, scheduled_handler)
        for consumer in background.consumers:
            background.tasks.append(asyncio.create_task(_supervise(f"queue consumer {consumer.settings.queue}",
                                                                   consumer.run)))
        if background.scheduler is not None:
            background.tasks.append(asyncio.create_task(_supervise("cron scheduler", background.scheduler.run)))
        stack.push_async_callback(_stop, background, shutdown_grace)
        yield background

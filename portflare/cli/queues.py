"""``portflare queues ...``: look into and manage the queues a Worker's config names, on their real backends.

Each queue is opened exactly as the running Worker opens it (``PORTFLARE_QUEUE_<NAME>``, or a producer binding's
``PORTFLARE_<BINDING>``; unset: the embedded SQLite file under the state directory), so these commands see
and change what every node sees.
"""

from __future__ import annotations

import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import click

from portflare.backends import redact
from portflare.bindings.queues import open_backend, queue_names, queue_target
from portflare.bindings.queues.base import QueueBackend, QueueStats
from portflare.cli.common import cli_errors, load, project_options, run, state_dir
from portflare.config import Config
from portflare.errors import ConfigError

REDRIVE_BATCH = 100
REDRIVE_LEASE = 60.0


@click.group()
def queues() -> None:
    """Inspect and manage Queues (as ``wrangler queues``)."""


def _check(config: Config, name: str) -> None:
    if name not in queue_names(config):
        known = ", ".join(queue_names(config)) or "none"
        raise ConfigError(f"{config.path}: no queue named '{name}' (configured: {known})")


@asynccontextmanager
async def _opened(config: Config, name: str, persist_to: str | None) -> AsyncIterator[tuple[QueueBackend, str]]:
    target = queue_target(name, state_dir(config, persist_to), producers=config.queue_producers)
    backend = await open_backend(target)
    try:
        yield backend, (redact(target.url) if target.url else "embedded (SQLite)")
    finally:
        await backend.close()


async def _stats(config: Config, name: str, persist_to: str | None) -> tuple[QueueStats, str]:
    async with _opened(config, name, persist_to) as (backend, where):
        return await backend.stats(time.time()), where


@queues.command("list")
@project_options
@cli_errors
def list_(config_path: str, env_name: str | None, persist_to: str | None, local: bool) -> None:
    """Every queue in the config, with its producers, consumer and depth."""
    config = load(config_path, env_name)
    names = queue_names(config)
    if not names:
        click.echo("No queues in the config.", err=True)
        return
    rows = [("QUEUE", "PRODUCERS", "CONSUMER", "MESSAGES", "IN FLIGHT", "BACKEND")]
    for name in names:
        stats, where = run(_stats(config, name, persist_to))
        producers = ",".join(p.binding for p in config.queue_producers if p.queue == name) or "-"
        consumer = "yes" if any(c.queue == name for c in config.queue_consumers) else "-"
        rows.append((name, producers, consumer, str(stats.depth), str(stats.in_flight), where))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        click.echo("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())


@queues.command("info")
@click.argument("name")
@project_options
@cli_errors
def info(name: str, config_path: str, env_name: str | None, persist_to: str | None, local: bool) -> None:
    """Depth, in-flight and dead-letter depth of queue NAME."""
    config = load(config_path, env_name)
    _check(config, name)
    stats, where = run(_stats(config, name, persist_to))
    lines: list[tuple[str, Any]] = [
        ("Queue", name), ("Backend", where), ("Messages", stats.depth), ("  ready", stats.ready),
        ("  delayed", stats.delayed), ("  in flight", stats.in_flight),
        ("Producers", ", ".join(p.binding for p in config.queue_producers if p.queue == name) or "none"),
    ]
    consumer = next((c for c in config.queue_consumers if c.queue == name), None)
    if consumer is None:
        lines.append(("Consumer", "none"))
    else:
        lines.append(("Consumer", f"max_batch_size={consumer.max_batch_size} max_batch_timeout="
                                  f"{consumer.max_batch_timeout:g}s max_retries={consumer.max_retries} "
                                  f"retry_delay={consumer.retry_delay}s max_concurrency="
                                  f"{consumer.max_concurrency or 'auto'}"))
        if consumer.dead_letter_queue:
            dlq, _ = run(_stats(config, consumer.dead_letter_queue, persist_to))
            lines.append(("Dead-letter queue", f"{consumer.dead_letter_queue} ({dlq.depth} messages)"))
    for label, value in lines:
        click.echo(f"{label + ':':<19}{value}")


@queues.command("purge")
@click.argument("name")
@click.option("--force", "-y", is_flag=True, help="Do not ask to type the queue's name first.")
@project_options
@cli_errors
def purge(name: str, force: bool, config_path: str, env_name: str | None, persist_to: str | None,
          local: bool) -> None:
    """Delete every message of queue NAME (ready, delayed and in flight)."""
    config = load(config_path, env_name)
    _check(config, name)
    if not force:
        # wrangler's prompt and check: the queue's name must be typed (or piped in), not just "y".
        typed = click.prompt(f"This operation will permanently delete all the messages in Queue {name}. Type "
                             f"{name} to proceed.", default="", show_default=False, err=True)
        if typed.strip() != name:
            click.secho("✘ Incorrect queue name provided. Skipping purge operation", fg="red", err=True)
            sys.exit(1)

    async def go() -> int:
        async with _opened(config, name, persist_to) as (backend, _):
            return await backend.purge()

    count = run(go())
    click.echo(f"Purged Queue '{name}' ({count} message{'' if count == 1 else 's'}).", err=True)


async def redrive_messages(source: QueueBackend, destination: QueueBackend) -> int:
    """Move every deliverable message of ``source`` into ``destination`` (same id and timestamp, attempts
    afresh). Leased like a consumer would, stored in the destination before it is deleted from the source: a
    crash halfway duplicates, never loses."""
    moved = 0
    while True:
        now = time.time()
        batch = await source.receive(REDRIVE_BATCH, REDRIVE_LEASE, now)
        if not batch:
            return moved
        await destination.send([d.outgoing() for d in batch], now)
        await source.ack(batch)
        moved += len(batch)


@queues.command("redrive")
@click.argument("dlq")
@click.option("--to", "to", required=True, help="The queue to move the messages to.")
@project_options
@cli_errors
def redrive(dlq: str, to: str, config_path: str, env_name: str | None, persist_to: str | None, local: bool) -> None:
    """Move the messages of dead-letter queue DLQ back into queue --to."""
    config = load(config_path, env_name)
    _check(config, dlq)
    _check(config, to)

    async def go() -> tuple[int, QueueStats]:
        async with _opened(config, dlq, persist_to) as (source, _), _opened(config, to, persist_to) as (dest, _):
            moved = await redrive_messages(source, dest)
            return moved, await source.stats(time.time())

    moved, left = run(go())
    click.echo(f"Moved {moved} message{'' if moved == 1 else 's'} from '{dlq}' to '{to}'.", err=True)
    if left.depth:
        click.echo(f"{left.depth} message(s) left in '{dlq}' (delayed or in flight: run again later).", err=True)

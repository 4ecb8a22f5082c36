"""Cloudflare Queues: ``env.<BINDING>`` producers for ``queues.producers``, backends for consumers.

Backend URL, per queue (docs/queues-and-cron.md):
- ``PORTFLARE_QUEUE_<NAME>`` (the queue name upper-cased, non-alphanumerics as ``_``: queue ``quiz-events`` →
  ``PORTFLARE_QUEUE_QUIZ_EVENTS``) is read by producers and consumers alike;
- ``PORTFLARE_<BINDING>`` of a producer binding is honoured too, for that queue's producer *and* its consumer,
  so the two always meet on one backend; two settings that disagree are an error, not a silent split.
Unset/``sqlite:///path`` → SQLite (embedded, several processes on one machine); ``redis://``, ``rediss://``,
``valkey://``, ``valkeys://`` → Redis Streams shared by many nodes.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from pathlib import Path

from portflare.backends import BackendTarget, backend_url, env_var_for, load_backend_class, redact
from portflare.bindings.queues.base import QueueBackend
from portflare.bindings.queues.binding import Queue
from portflare.bindings.queues.validate import configured_delay
from portflare.config import Config, QueueProducer
from portflare.errors import BackendError

BACKENDS = {
    "embedded": "portflare.bindings.queues.sqlite:SqliteQueueBackend",
    "sqlite": "portflare.bindings.queues.sqlite:SqliteQueueBackend",
    "redis": "portflare.bindings.queues.redis:RedisQueueBackend",
    "rediss": "portflare.bindings.queues.redis:RedisQueueBackend",
    "valkey": "portflare.bindings.queues.redis:RedisQueueBackend",
    "valkeys": "portflare.bindings.queues.redis:RedisQueueBackend",
}

KIND = "queues"
# Compatibility date from which a message without contentType is JSON (flag queues_json_messages); before, v8.
JSON_DEFAULT_FROM = "2024-03-18"


def queue_names(config: Config) -> list[str]:
    """Every queue the config names: producers', consumers' and dead-letter queues, in order of appearance."""
    names = [p.queue for p in config.queue_producers]
    for c in config.queue_consumers:
        names += [c.queue] + ([c.dead_letter_queue] if c.dead_letter_queue else [])
    return list(dict.fromkeys(names))


def queue_binding_name(queue: str) -> str:
    """``quiz-events`` → ``QUEUE_QUIZ_EVENTS``, the suffix of the queue-level variable."""
    return "QUEUE_" + re.sub(r"[^A-Za-z0-9]", "_", queue).upper()


def queue_url(queue: str, producers: Iterable[QueueProducer] = (),
              environ: Mapping[str, str] | None = None) -> str | None:
    """The one backend URL for ``queue``: its queue-level variable, or its producers' binding variables."""
    environ = os.environ if environ is None else environ
    queue_var = queue_binding_name(queue)
    chosen = backend_url(queue_var, environ)
    source = env_var_for(queue_var)
    for producer in producers:
        if producer.queue != queue:
            continue
        url = backend_url(producer.binding, environ)
        if url is None:
            continue
        if chosen is not None and url != chosen:
            raise BackendError(
                f"{env_var_for(producer.binding)}={redact(url)} and {source}={redact(chosen)} disagree: the "
                f"producers and the consumer of queue '{queue}' must share one backend (set {env_var_for(queue_var)} "
                "only)")
        if chosen is None:
            chosen, source = url, env_var_for(producer.binding)
    return chosen


def queue_target(queue: str, state_dir: Path, *, producers: Iterable[QueueProducer] = (),
                 environ: Mapping[str, str] | None = None, binding: str | None = None) -> BackendTarget:
    return BackendTarget(kind=KIND, binding=binding or queue_binding_name(queue), resource=queue,
                         state_dir=state_dir, url=queue_url(queue, producers, environ))


def default_content_type(config: Config) -> str:
    if config.has_flag("queues_json_messages"):
        return "json"
    if config.has_flag("no_queues_json_messages"):
        return "v8"
    return "json" if (config.compatibility_date or "9999-99-99") >= JSON_DEFAULT_FROM else "v8"


async def open_backend(target: BackendTarget) -> QueueBackend:
    backend: QueueBackend = await load_backend_class("queue", BACKENDS, target).open(target)
    return backend


async def open_binding(target: BackendTarget) -> Queue:
    return Queue(await open_backend(target), target.resource)


async def open_producer(producer: QueueProducer, config: Config, state_dir: Path,
                        environ: Mapping[str, str] | None = None) -> Queue:
    """The ``env.<BINDING>`` for one ``[[queues.producers]]`` entry."""
    delay = configured_delay(producer.delivery_delay,
                             f"{config.path}: queues.producers (binding {producer.binding}): delivery_delay")
    target = queue_target(producer.queue, state_dir, producers=config.queue_producers, environ=environ,
                          binding=producer.binding)
    return Queue(await open_backend(target), producer.queue, delivery_delay=delay,
                 default_content_type=default_content_type(config))


__all__ = ["BACKENDS", "Queue", "open_backend", "open_binding", "open_producer", "queue_binding_name",
           "queue_names", "queue_target", "queue_url"]

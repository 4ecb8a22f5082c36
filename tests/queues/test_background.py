"""``run_background`` as the HTTP host uses it: env producers feed the consumer loop, crons get a scheduler."""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from pathlib import Path
from typing import Any

import pytest

from portflare.config import Config, KVNamespace, QueueConsumer, QueueProducer
from portflare.errors import ConfigError
from portflare.runtime.background import cron_store_url, run_background
from portflare.runtime.cron import RedisCronStore
from portflare.runtime.env import open_env
from tests.conftest import require_service


def make_config(tmp_path: Path, queue: str, crons: tuple[str, ...] = ()) -> Config:
    return Config(path=tmp_path / "wrangler.toml", root=tmp_path, name=f"w-{queue}", main=tmp_path / "entry.py",
                  compatibility_date="2025-06-01", queue_producers=(QueueProducer("EVENTS", queue),),
                  queue_consumers=(QueueConsumer(queue, max_batch_size=5, max_batch_timeout=0.05, max_retries=0,
                                                 dead_letter_queue=f"{queue}-dlq"),),
                  crons=crons)


@pytest.mark.parametrize("backend", ["sqlite", "redis"])
async def test_messages_flow_from_env_producer_to_handler(backend: str, tmp_path: Path) -> None:
    queue = f"bg-{uuid.uuid4().hex[:10]}"
    environ: dict[str, str] = {}
    if backend == "redis":
        require_service("redis", "127.0.0.1", 6379)
        environ = {f"PORTFLARE_QUEUE_{queue.upper().replace('-', '_')}": "redis://127.0.0.1:6379/15",
                   f"PORTFLARE_QUEUE_{queue.upper().replace('-', '_')}_DLQ": "redis://127.0.0.1:6379/15"}
    config = make_config(tmp_path, queue, crons=("*/5 * * * *",))
    got: list[Any] = []

    async def on_queue(batch: Any) -> None:
        bad = False
        for m in batch.messages:
            if m.body == "poison":
                bad = True
                continue
            got.append(m.body)
            m.ack()  # explicitly acked messages stay acked when the handler then raises
        if bad:
            raise ValueError("bad message")

    async def on_scheduled(controller: Any) -> None:
        raise AssertionError("no tick is due during this test")

    async with open_env(config, tmp_path / "state", environ=environ) as env:
        async with run_background(config, env, tmp_path / "state", on_queue, on_scheduled, environ=environ) as bg:
            assert bg.scheduler is not None and len(bg.consumers) == 1
            await env.EVENTS.sendBatch([{"body": {"n": i}} for i in range(12)])
            await env.EVENTS.send("poison")
            deadline = time.monotonic() + 30  # generous: CI runs this on a loaded 2-core machine
            while len(got) < 12 or (await bg.consumers[0].dead_letter.stats(time.time())).depth < 1:  # type: ignore[union-attr]
                assert time.monotonic() < deadline
                await asyncio.sleep(0.02)
            dlq = bg.consumers[0].dead_letter
            assert dlq is not None
            [dead] = await dlq.receive(10, 30, time.time())
            assert dead.body == b'"poison"'
            if backend == "redis":
                await bg.consumers[0].backend.clear()  # type: ignore[attr-defined]
                await dlq.clear()  # type: ignore[attr-defined]
    assert sorted(m["n"] for m in got if isinstance(m, dict)) == list(range(12))


async def test_missing_handlers_are_warned_about(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    config = make_config(tmp_path, f"w-{uuid.uuid4().hex[:6]}", crons=("0 * * * *",))
    with caplog.at_level(logging.WARNING, logger="portflare.background"):
        async with run_background(config, None, tmp_path, None, None) as bg:
            assert bg.consumers == [] and bg.scheduler is None
    text = caplog.text
    assert "has no queue handler" in text and "has no scheduled handler" in text


async def test_a_bad_cron_fails_startup(tmp_path: Path) -> None:
    config = make_config(tmp_path, "q", crons=("0 0 * * 0",))

    async def nothing(_: Any) -> None: ...

    with pytest.raises(ConfigError, match="day of week 0 is out of range"):
        async with run_background(config, None, tmp_path, None, nothing):
            pass


async def test_shutdown_waits_for_a_running_batch(tmp_path: Path) -> None:
    config = make_config(tmp_path, f"s-{uuid.uuid4().hex[:6]}")
    finished: list[bool] = []
    started = asyncio.Event()

    async def slow(batch: Any) -> None:
        started.set()
        await asyncio.sleep(0.3)
        finished.append(True)

    async with open_env(config, tmp_path) as env, run_background(config, env, tmp_path, slow, None):
        await env.EVENTS.send(1)
        await asyncio.wait_for(started.wait(), 5)
    assert finished == [True]
    async with open_env(config, tmp_path) as env, run_background(config, env, tmp_path, slow, None) as bg:
        assert (await bg.consumers[0].backend.stats(time.time())).depth == 0  # it was acked before shutdown


# -- where cron ticks are claimed when PORTFLARE_CRON is unset ----------------------------------------------


def cron_config(tmp_path: Path) -> Config:
    return Config(path=tmp_path / "wrangler.toml", root=tmp_path, name="w", main=tmp_path / "entry.py",
                  kv_namespaces=(KVNamespace("CACHE", "cache-id"),),
                  queue_producers=(QueueProducer("EVENTS", "jobs"),),
                  queue_consumers=(QueueConsumer("jobs", dead_letter_queue="jobs-dlq"),), crons=("* * * * *",))


@pytest.mark.parametrize(("environ", "url", "warned"), [
    ({}, None, False),
    ({"PORTFLARE_CRON": "redis://cron:6379/1"}, "redis://cron:6379/1", False),
    ({"PORTFLARE_CRON": "redis://cron:6379/1", "PORTFLARE_QUEUE_JOBS": "redis://q:6379/2"}, "redis://cron:6379/1",
     False),
    # a queue on Redis means the nodes sharing it are a cluster: their tick claims go there too
    ({"PORTFLARE_QUEUE_JOBS": "redis://q:6379/2"}, "redis://q:6379/2", False),
    ({"PORTFLARE_EVENTS": "valkey://q:6379/2"}, "valkey://q:6379/2", False),
    ({"PORTFLARE_QUEUE_JOBS_DLQ": "rediss://d:6380/0"}, "rediss://d:6380/0", False),
    ({"PORTFLARE_QUEUE_JOBS": "sqlite:///tmp/jobs.db"}, None, False),
    # no Redis to borrow, but a binding on a shared server: several nodes are likely, say what will happen
    ({"PORTFLARE_CACHE": "redis://kv:6379/0"}, None, True),
])
def test_cron_store_url(tmp_path: Path, environ: dict[str, str], url: str | None, warned: bool,
                        caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="portflare.background"):
        assert cron_store_url(cron_config(tmp_path), environ) == url
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    if warned:
        assert warnings == ["cron: ticks are claimed in a SQLite file on this machine, but PORTFLARE_CACHE puts a "
                            "binding on a shared server: if several nodes run this Worker, every node fires every "
                            "tick. Set PORTFLARE_CRON=redis://... (a Redis every node reaches) to fire each tick once "
                            "across nodes."]
    else:
        assert warnings == []


async def test_nodes_sharing_a_redis_queue_share_their_tick_claims(tmp_path: Path) -> None:
    require_service("redis", "127.0.0.1", 6379)
    queue = f"c-{uuid.uuid4().hex[:10]}"
    config = make_config(tmp_path, queue, crons=("0 0 1 1 *",))
    environ = {f"PORTFLARE_QUEUE_{queue.upper().replace('-', '_')}": "redis://127.0.0.1:6379/15"}

    async def nothing(_: Any) -> None: ...

    # two nodes: each its own state directory (its own disk), the queue's Redis in common, no PORTFLARE_CRON
    async with run_background(config, None, tmp_path / "a", nothing, nothing, environ=environ) as a, \
            run_background(config, None, tmp_path / "b", nothing, nothing, environ=environ) as b:
        assert a.scheduler is not None and b.scheduler is not None
        store_a, store_b = a.scheduler.store, b.scheduler.store
        assert isinstance(store_a, RedisCronStore) and isinstance(store_b, RedisCronStore)
        try:
            assert await store_a.claim("0 0 1 1 *", 1_767_225_600_000, "a")
            assert not await store_b.claim("0 0 1 1 *", 1_767_225_600_000, "b")  # the tick is a's, on every node
        finally:
            await store_a.clear()
            for consumer in (*a.consumers, *b.consumers):
                await consumer.backend.clear()  # type: ignore[attr-defined]

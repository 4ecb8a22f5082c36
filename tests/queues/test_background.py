"""``run_background`` as the HTTP host uses it: env producers feed the consumer loop, crons get a scheduler."""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from pathlib import Path
from typing import Any

import pytest

from portflare.config import Config, QueueConsumer, QueueProducer
from portflare.errors import ConfigError
from portflare.runtime.background import run_background
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
            deadline = time.monotonic() + 10
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

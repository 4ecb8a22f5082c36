"""A module-level ``on_queue(batch, env, ctx)`` Worker served by the host: its batches, and its ``ctx.waitUntil``.

Cloudflare settles a batch only when the handler *and* every ``ctx.waitUntil`` task of the batch have settled,
and a failed waitUntil task fails the batch like a throw (every message not acked is retried).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from portflare.bindings.queues import open_backend, queue_target
from portflare.bindings.queues.base import QueueBackend
from portflare.config import load_config
from portflare.runtime.app import WorkerApp, create_app
from tests.asgi_client import RunningApps, app_of

WORKER = Path(__file__).resolve().parents[1] / "workers" / "background"
WITHIN = 30.0  # generous: CI runs this on a loaded 2-core machine


@pytest.fixture
async def client(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    apps = RunningApps()
    yield await apps.client(create_app(load_config(WORKER), state_dir=tmp_path, dev=True))
    await apps.aclose()


@pytest.fixture
async def jobs(tmp_path: Path) -> AsyncIterator[QueueBackend]:
    """The Worker's queue, opened beside it (the embedded SQLite file under its state directory)."""
    backend = await open_backend(queue_target("jobs", tmp_path))
    yield backend
    await backend.close()


def events(app: WorkerApp) -> list[Any]:
    assert app.handlers is not None
    recorded: list[Any] = app.handlers.module.events
    return recorded


async def wait_for(condition: Any, what: str) -> None:
    deadline = time.monotonic() + WITHIN
    while not await condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.02)


async def test_module_level_on_queue_gets_the_batch_env_and_ctx(client: httpx.AsyncClient,
                                                                 jobs: QueueBackend) -> None:
    assert (await client.post("/", json={"name": "plain"})).text == "queued"  # on_fetch -> env.JOBS.send

    async def consumed() -> bool:
        return ("queue", "jobs", "plain", 1) in events(app_of(client)) and (await jobs.stats(time.time())).depth == 0

    await wait_for(consumed, "the message to be consumed and acked")


async def test_the_batch_is_acked_only_after_its_wait_until_work(client: httpx.AsyncClient,
                                                                 jobs: QueueBackend) -> None:
    app = app_of(client)
    await client.post("/", json={"name": "slow"})  # the handler returns at once; its waitUntil takes 0.3 s
    done_when_acked: list[bool] = []

    async def acked() -> bool:
        if ("queue", "jobs", "slow", 1) not in events(app) or (await jobs.stats(time.time())).depth:
            return False
        done_when_acked.append(("waitUntil done", "slow") in events(app))
        return True

    await wait_for(acked, "the slow message to be acked")
    assert done_when_acked == [True]


async def test_a_failed_wait_until_retries_the_batch(client: httpx.AsyncClient, jobs: QueueBackend,
                                                     caplog: pytest.LogCaptureFixture) -> None:
    app = app_of(client)
    with caplog.at_level(logging.ERROR):
        await client.post("/", json={"name": "flaky"})  # its first delivery's waitUntil task raises

        async def redelivered_and_acked() -> bool:
            return ("queue", "jobs", "flaky", 2) in events(app) and (await jobs.stats(time.time())).depth == 0

        await wait_for(redelivered_and_acked, "the flaky message to be retried, then acked")
    assert [e for e in events(app) if e[0] == "queue"] == [("queue", "jobs", "flaky", 1), ("queue", "jobs", "flaky", 2)]
    assert any("a ctx.waitUntil() task failed: RuntimeError: waitUntil work of flaky failed; every message not "
               "acked will be retried" in r.getMessage() for r in caplog.records)

"""Driving a portflare app in-process: its lifespan entered, an httpx client on it (ASGITransport runs no lifespan)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import httpx

from portflare.runtime.app import WorkerApp


@asynccontextmanager
async def lifespan(app: Any) -> AsyncIterator[None]:
    """Run an ASGI app's lifespan around the block."""
    inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    outbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    task = asyncio.create_task(app({"type": "lifespan", "asgi": {"version": "3.0"}}, inbox.get, outbox.put))
    await inbox.put({"type": "lifespan.startup"})
    started = await outbox.get()
    if started["type"] != "lifespan.startup.complete":
        await task
        raise RuntimeError(started.get("message", "lifespan startup failed"))
    try:
        yield
    finally:
        await inbox.put({"type": "lifespan.shutdown"})
        await outbox.get()
        await task


class RunningApps:
    """Apps a test started, each with its client; ``aclose`` stops them in reverse order."""

    def __init__(self) -> None:
        self._running: list[tuple[AbstractAsyncContextManager[None], httpx.AsyncClient]] = []

    async def client(self, app: WorkerApp) -> httpx.AsyncClient:
        cm = lifespan(app)
        await cm.__aenter__()
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://worker.test")
        client.app = app  # type: ignore[attr-defined]
        self._running.append((cm, client))
        return client

    async def aclose(self) -> None:
        for cm, client in reversed(self._running):
            await client.aclose()
            await cm.__aexit__(None, None, None)


def app_of(client: httpx.AsyncClient) -> WorkerApp:
    app: WorkerApp = client.app  # type: ignore[attr-defined]
    return app

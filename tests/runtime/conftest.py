"""Serving the tiny Workers under tests/workers in-process: a lifespan driver and a client fixture."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from portflare.config import Config, load_config
from portflare.runtime.app import WorkerApp, create_app

WORKERS = Path(__file__).resolve().parents[1] / "workers"


def worker_config(name: str) -> Config:
    return load_config(WORKERS / name)


@asynccontextmanager
async def lifespan(app: Any) -> AsyncIterator[None]:
    """Run an ASGI app's lifespan around the block (httpx.ASGITransport does not)."""
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


Serve = Callable[..., Awaitable[httpx.AsyncClient]]


@pytest.fixture
async def serve(tmp_path: Path) -> AsyncIterator[Callable[..., Any]]:
    """``client = await serve("classic", dev=True)``: the Worker running, with an httpx client on it."""
    stack: list[Any] = []

    async def start(name: str, *, dev: bool = True, assets: Any = None, **kwargs: Any) -> httpx.AsyncClient:
        app = create_app(worker_config(name), state_dir=tmp_path / "state", dev=dev, assets=assets, **kwargs)
        cm = lifespan(app)
        await cm.__aenter__()
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://worker.test")
        client.app = app  # type: ignore[attr-defined]
        stack.append((cm, client))
        return client

    yield start
    for cm, client in reversed(stack):
        await client.aclose()
        await cm.__aexit__(None, None, None)


def app_of(client: httpx.AsyncClient) -> WorkerApp:
    app: WorkerApp = client.app  # type: ignore[attr-defined]
    return app


async def asgi_messages(app: Any, path: str, method: str = "GET", body: bytes = b"") -> list[dict[str, Any]]:
    """Call ``app`` for one request and return every message it sent (ASGITransport merges body chunks)."""
    sent: list[dict[str, Any]] = []
    pending = [{"type": "http.request", "body": body, "more_body": False}]

    async def receive() -> dict[str, Any]:
        if pending:
            return pending.pop()
        await asyncio.Event().wait()
        raise AssertionError("unreachable")

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    path, _, query = path.partition("?")
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method, "scheme": "http",
             "path": path, "raw_path": path.encode(), "query_string": query.encode(), "root_path": "",
             "headers": [(b"host", b"worker.test")], "client": ("10.0.0.7", 5000), "server": ("worker.test", 80)}
    await app(scope, receive, send)
    return sent

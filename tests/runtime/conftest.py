"""Serving the tiny Workers under tests/workers in-process: a lifespan driver and a client fixture."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from portflare.config import Config, load_config
from portflare.runtime.app import create_app
from tests.asgi_client import RunningApps

WORKERS = Path(__file__).resolve().parents[1] / "workers"


def worker_config(name: str) -> Config:
    return load_config(WORKERS / name)


Serve = Callable[..., Awaitable[httpx.AsyncClient]]


@pytest.fixture
async def serve(tmp_path: Path) -> AsyncIterator[Callable[..., Any]]:
    """``client = await serve("classic", dev=True)``: the Worker running, with an httpx client on it."""
    apps = RunningApps()

    async def start(name: str, *, dev: bool = True, assets: Any = None, **kwargs: Any) -> httpx.AsyncClient:
        return await apps.client(
            create_app(worker_config(name), state_dir=tmp_path / "state", dev=dev, assets=assets, **kwargs))

    yield start
    await apps.aclose()


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

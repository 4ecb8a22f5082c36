"""Firing the scheduled handler by hand in ``portflare dev``: wrangler's ``/__scheduled`` and Miniflare's
``/cdn-cgi/handler/scheduled`` (and its older and newer paths), with ``cron``, ``time`` and ``format=json``."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from portflare.config import load_config
from portflare.runtime.app import create_app
from tests.asgi_client import RunningApps, app_of

WORKER = Path(__file__).resolve().parents[1] / "workers" / "background"
NEW_YEAR_MS = 1_767_225_600_000  # 2026-01-01T00:00:00Z


@pytest.fixture
async def client(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    apps = RunningApps()
    yield await apps.client(create_app(load_config(WORKER), state_dir=tmp_path, dev=True))
    await apps.aclose()


def scheduled_events(client: httpx.AsyncClient) -> list[Any]:
    handlers = app_of(client).handlers
    assert handlers is not None
    return [e for e in handlers.module.events if e[0] == "scheduled"]


@pytest.mark.parametrize(("path", "params", "status", "body"), [
    ("/__scheduled", {"cron": "*/5 * * * *", "time": str(NEW_YEAR_MS)}, 200, "Ran scheduled event"),
    ("/cdn-cgi/handler/scheduled", {"cron": "*/5 * * * *", "time": str(NEW_YEAR_MS)}, 200, "ok"),
    ("/cdn-cgi/local/scheduled", {"cron": "*/5 * * * *", "time": str(NEW_YEAR_MS)}, 200, "ok"),
    ("/cdn-cgi/mf/scheduled", {"cron": "*/5 * * * *", "time": str(NEW_YEAR_MS)}, 200, "ok"),
    ("/cdn-cgi/handler/scheduled", {"cron": "raise", "time": str(NEW_YEAR_MS)}, 500, "exception"),
    # a failed ctx.waitUntil() task fails the run, as in workerd
    ("/cdn-cgi/handler/scheduled", {"cron": "wait-fails", "time": str(NEW_YEAR_MS)}, 500, "exception"),
])
async def test_routes_fire_the_handler_with_cron_and_time(client: httpx.AsyncClient, path: str,
                                                          params: dict[str, str], status: int, body: str) -> None:
    response = await client.get(path, params=params)
    assert (response.status_code, response.text) == (status, body)
    assert scheduled_events(client) == [("scheduled", params["cron"], float(NEW_YEAR_MS))]


@pytest.mark.parametrize(("cron", "status", "result"), [
    ("0 * * * *", 200, {"outcome": "ok", "noRetry": False}),
    ("no-retry", 200, {"outcome": "ok", "noRetry": True}),
    ("raise", 500, {"outcome": "exception", "noRetry": False}),
])
@pytest.mark.parametrize("path", ["/__scheduled", "/cdn-cgi/handler/scheduled"])
async def test_format_json_reports_outcome_and_no_retry(client: httpx.AsyncClient, path: str, cron: str,
                                                        status: int, result: dict[str, Any]) -> None:
    response = await client.get(path, params={"cron": cron, "format": "json"})
    assert (response.status_code, response.json()) == (status, result)
    assert response.headers["content-type"] == "application/json"


async def test_defaults_are_an_empty_cron_and_now(client: httpx.AsyncClient) -> None:
    before = time.time() * 1000
    assert (await client.get("/cdn-cgi/handler/scheduled")).text == "ok"
    [(_, cron, scheduled_time)] = scheduled_events(client)
    assert cron == "" and before - 1 <= scheduled_time <= time.time() * 1000


async def test_the_reply_waits_for_wait_until_work(client: httpx.AsyncClient) -> None:
    assert (await client.get("/cdn-cgi/handler/scheduled", params={"cron": "wait-slow"})).text == "ok"
    handlers = app_of(client).handlers
    assert handlers is not None and ("waitUntil done", "scheduled") in handlers.module.events


async def test_wrangler_route_shows_the_error_and_bad_time_is_400(client: httpx.AsyncClient) -> None:
    failed = await client.get("/__scheduled", params={"cron": "raise"})
    assert failed.status_code == 500 and "the scheduled handler failed" in failed.text
    bad = await client.get("/cdn-cgi/handler/scheduled", params={"time": "tomorrow"})
    assert (bad.status_code, bad.text) == (400, "time must be a whole number of milliseconds since the epoch, got "
                                                "'tomorrow'")
    assert [cron for _, cron, _ in scheduled_events(client)] == ["raise"]  # a bad time fires nothing

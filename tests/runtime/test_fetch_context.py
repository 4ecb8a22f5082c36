"""Outbound fetch(), ExecutionContext.wait_until, ScheduledController, the js/pyodide shims, deps messages."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import httpx
import pytest

from portflare.api import env as workers_env
from portflare.api import patch_env, wait_until
from portflare.api.current import event_scope
from portflare.api.fetch import _clients, aclose_client, fetch
from portflare.runtime.context import BackgroundTasks, ExecutionContext
from portflare.runtime.deps import missing_dependencies, normalize
from portflare.runtime.loader import install_shims
from portflare.runtime.scheduled import ScheduledController


async def upstream(scope, receive, send) -> None:
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    if scope["path"] == "/redirect":
        await send({"type": "http.response.start", "status": 302, "headers": [(b"location", b"/final")]})
        await send({"type": "http.response.body", "body": b""})
        return
    headers = dict(scope["headers"])
    reply = f"{scope['method']} {scope['path']} {headers.get(b'x-k', b'').decode()} {body.decode()}"
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"text/plain"), (b"set-cookie", b"a=1"), (b"set-cookie", b"b=2")]})
    await send({"type": "http.response.body", "body": reply.encode()})


@pytest.fixture
async def mock_upstream() -> None:
    loop = asyncio.get_running_loop()
    _clients[loop] = httpx.AsyncClient(transport=httpx.ASGITransport(upstream))


async def test_fetch_returns_our_response(mock_upstream) -> None:
    response = await fetch("http://up.test/echo", method="POST", body="data", headers={"x-k": "v"})
    assert (response.status, response.ok) == (200, True)
    assert await response.text() == "POST /echo v data"
    assert response.headers.get_all("set-cookie") == ["a=1", "b=2"]
    assert response.url == "http://up.test/echo"
    await aclose_client()


async def test_fetch_redirect_modes(mock_upstream) -> None:
    followed = await fetch("http://up.test/redirect")
    assert (followed.redirected, followed.url) == (True, "http://up.test/final")
    manual = await fetch("http://up.test/redirect", redirect="manual")
    assert (manual.status, manual.headers["location"]) == (302, "/final")
    with pytest.raises(TypeError, match="redirect"):
        await fetch("http://up.test/redirect", redirect="error")
    await aclose_client()


async def test_fetch_rejects_js_style_options_dict() -> None:
    with pytest.raises(TypeError):
        await fetch("http://up.test/", {"method": "POST"})  # type: ignore[call-arg]


async def test_wait_until_tracks_logs_and_drains(caplog: pytest.LogCaptureFixture) -> None:
    tasks = BackgroundTasks()
    ctx = ExecutionContext(tasks)
    done: list[str] = []

    async def work() -> None:
        await asyncio.sleep(0.01)
        done.append("ok")

    async def broken() -> None:
        raise ValueError("lost?")

    loop = asyncio.get_running_loop()
    ctx.waitUntil(work())
    ctx.wait_until(loop.create_task(broken()))
    future = loop.create_future()
    ctx.wait_until(future)
    loop.call_later(0.01, future.set_result, 1)
    with caplog.at_level(logging.ERROR, logger="portflare.worker"):
        await tasks.drain(grace=5)
    assert done == ["ok"] and len(tasks) == 0
    assert "lost?" in caplog.text
    with pytest.raises(TypeError, match="waitUntil"):
        ctx.wait_until(42)  # type: ignore[arg-type]


async def test_drain_cancels_after_the_grace() -> None:
    tasks = BackgroundTasks()
    started = tasks.add(asyncio.sleep(60))
    await tasks.drain(grace=0.01)
    assert started.cancelled()


async def test_module_wait_until_and_env_follow_the_event() -> None:
    ctx = ExecutionContext()
    with event_scope({"K": "v"}, ctx):
        wait_until(asyncio.sleep(0))
        assert workers_env["K"] == "v"
        with patch_env(K="patched"):
            assert workers_env.K == "patched"
    assert ctx.passed_through is False and ctx.props == {}
    ctx.passThroughOnException()
    assert ctx.passed_through


def test_scheduled_controller() -> None:
    controller = ScheduledController("*/5 * * * *", 1000.7)
    assert (controller.cron, controller.scheduledTime, controller.type) == ("*/5 * * * *", 1000.0, "scheduled")
    controller.noRetry()
    assert controller.retry is False


def test_js_and_pyodide_shims() -> None:
    install_shims()
    import js
    from pyodide.ffi import JsProxy, create_proxy, run_sync, to_js

    converted = to_js({"a": {"b": 1}}, dict_converter=js.Object.fromEntries)
    assert converted.a.b == 1 and converted.to_py() == {"a": {"b": 1}}
    response = js.Response.new("x", {"status": 404, "headers": {"x-a": "1"}})
    assert (response.status, response.headers["x-a"]) == (404, "1")
    assert js.Response.new("y", status=201).status == 201
    assert js.JSON.parse(js.JSON.stringify({"k": [1]})).k == [1]
    assert js.Date.now() > 1_600_000_000_000
    url = js.URL.new("https://a.test:8080/p?q=1#h")
    assert (url.hostname, url.port, url.pathname, url.searchParams.get("q")) == ("a.test", "8080", "/p", "1")
    assert not isinstance(converted, JsProxy)
    assert create_proxy(len) is len

    async def answer() -> int:
        return 42

    assert run_sync(answer()) == 42
    with pytest.raises(NotImplementedError, match="WebSocketPair"):
        js.WebSocketPair.new()


def test_deps_normalisation_and_detection(tmp_path: Path) -> None:
    assert normalize("Foo_Bar.baz") == "foo-bar-baz"
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "w"\ndependencies = ["HTTPX>=0.1", "Not_Installed_Pkg_x", '
        '"workers-runtime-sdk", "other-missing; python_version < \'3.0\'"]\n')
    assert missing_dependencies(tmp_path) == ["Not_Installed_Pkg_x"]
    assert missing_dependencies(tmp_path / "nowhere") == []

"""Serving the compatibility corpus (``tests/compat/workers/<name>``) in-process, plus a local upstream.

``serve(name)`` loads a sample through ``create_app`` exactly as ``portflare dev`` would, drives its lifespan,
and returns an httpx client on it. ``upstream`` is a small HTTP server on 127.0.0.1 that samples fetch from;
samples that hard-code an internet origin (``https://example.com``) reach it through ``outbound``, a
test-level route table like workerd's ``globalOutbound`` in its own Python tests: the sample's code is never
edited, only where its outbound requests land.

At the end of the run, the corpus pass fraction is printed (one line per sample).
"""

from __future__ import annotations

import asyncio
import importlib
import json
import shutil
import threading
from collections import defaultdict
from collections.abc import AsyncIterator, Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from portflare.config import load_config
from portflare.runtime.app import create_app
from portflare.runtime.server import _asset_server
from tests.asgi_client import RunningApps

WORKERS = Path(__file__).resolve().parent / "workers"


# -- a local upstream ------------------------------------------------------------------------------------------

class _Upstream(BaseHTTPRequestHandler):
    """Routes the corpus's samples fetch; every reply names the path and echoes what the request carried."""

    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def _send(self, status: int, body: bytes, headers: dict[str, str]) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _route(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        body = self.rfile.read(length) if length else b""
        path = self.path.split("?")[0]
        seen = {"method": self.command, "path": self.path, "host": self.headers.get("host"),
                "headers": {k.lower(): v for k, v in self.headers.items()}, "body": body.decode("latin-1")}
        if path == "/todos/1":
            self._send(200, json.dumps({"userId": 1, "id": 1, "title": "delectus aut autem",
                                        "completed": False}).encode(),
                       {"content-type": "application/json; charset=utf-8"})
        elif path == "/redirect":
            self._send(301, b"", {"location": "/sub"})
        elif path == "/echo":
            self._send(200, json.dumps(seen).encode(), {"content-type": "application/json"})
        elif path == "/sub_headers":
            ok = self.headers.get("custom-req-header") == "123"
            self._send(200, b"Hi there!", {"custom-header-that-should-passthrough": "true" if ok else "false"})
        else:  # "/", "/sub", anything: the page the header samples alter
            self._send(200, b"Hi there!", {
                "content-type": "text/plain", "x-header-to-delete": "gone", "x-header2-to-delete": "gone",
                "x-header-to-change": "OldValue", "x-upstream-host": self.headers.get("host") or "",
            })

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _route


@pytest.fixture(scope="session")
def upstream() -> Iterator[str]:
    """``http://127.0.0.1:PORT``: the local origin the samples' outbound fetches reach."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Upstream)
    thread = threading.Thread(target=server.serve_forever, name="compat-upstream", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


class _RouteTransport(httpx.AsyncBaseTransport):
    """Sends requests for the listed origins to the local upstream, keeping path, query and Host."""

    def __init__(self, routes: dict[str, str]) -> None:
        self._routes = routes
        self._inner = httpx.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        origin = f"{request.url.scheme}://{request.url.netloc.decode()}"
        target = self._routes.get(origin)
        if target is not None:
            local = httpx.URL(target)
            request.url = request.url.copy_with(scheme=local.scheme, host=local.host, port=local.port)
        return await self._inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self._inner.aclose()


@pytest.fixture
def outbound(upstream: str, monkeypatch: pytest.MonkeyPatch) -> Callable[..., None]:
    """``outbound("https://example.com")``: the Worker's fetch() to that origin lands on ``upstream``."""
    routes: dict[str, str] = {}
    original = httpx.AsyncClient

    def client_factory(*args: Any, **kwargs: Any) -> httpx.AsyncClient:
        kwargs.setdefault("transport", _RouteTransport(routes))  # the test's own ASGI client keeps its transport
        return original(*args, **kwargs)

    fetch_module = importlib.import_module("portflare.api.fetch")  # the module, not the fetch() it exports
    monkeypatch.setattr(fetch_module.httpx, "AsyncClient", client_factory)

    def route(*origins: str) -> None:
        for origin in origins:
            routes[origin] = upstream

    return route


# -- serving a sample ------------------------------------------------------------------------------------------

@pytest.fixture
async def serve(tmp_path: Path) -> AsyncIterator[Callable[..., Any]]:
    """``client = await serve("hello_class")``: the sample running in-process, with an httpx client on it."""
    apps = RunningApps()

    async def start(name: str, *, dev: bool = True, dev_vars: dict[str, str] | None = None,
                    **kwargs: Any) -> httpx.AsyncClient:
        project = WORKERS / name
        if dev_vars:
            # A config-level override, as wrangler's .dev.vars overrides [vars]: the sample's code is untouched.
            project = tmp_path / "projects" / name
            shutil.copytree(WORKERS / name, project)
            lines = [f"{key}={json.dumps(value)}" for key, value in dev_vars.items()]
            (project / ".dev.vars").write_text("\n".join(lines) + "\n")
        config = load_config(project)
        # As `portflare dev` builds it: static assets served when the config has them.
        app = create_app(config, state_dir=tmp_path / "state", dev=dev, assets=_asset_server(config, dev=dev),
                         **kwargs)
        return await apps.client(app)

    yield start
    await apps.aclose()


async def eventually(check: Callable[[], Any], within: float = 10.0) -> Any:
    """Poll ``check`` (sync or async) until it returns something truthy."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while True:
        result = check()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return result
        if loop.time() > deadline:
            raise AssertionError(f"condition not met within {within}s")
        await asyncio.sleep(0.05)


# -- the corpus pass fraction ------------------------------------------------------------------------------------

_outcomes: dict[str, list[str]] = defaultdict(list)


def sample_of(item: pytest.Item) -> str | None:
    marker = item.get_closest_marker("sample")
    return str(marker.args[0]) if marker else None


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "sample(name): the compatibility-corpus sample a test exercises")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    name = sample_of(item)
    if name is None:
        return
    if report.when == "call" or (report.when == "setup" and not report.passed):
        _outcomes[name].append("xfail" if hasattr(report, "wasxfail") else report.outcome)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not _outcomes:
        return
    write = terminalreporter.write_line
    passed = [n for n, r in _outcomes.items() if all(o == "passed" for o in r)]
    known = [n for n, r in _outcomes.items() if r and all(o in ("xfail", "skipped") for o in r)]
    failed = sorted(set(_outcomes) - set(passed) - set(known))
    runnable = len(passed) + len(failed)
    write("")
    write(f"compat corpus: {len(passed)}/{runnable} runnable samples pass"
          f" ({100 * len(passed) / max(runnable, 1):.0f}%); {len(known)} known-unsupported (xfail/skip)")
    for name in sorted(_outcomes):
        state = "PASS" if name in passed else ("KNOWN" if name in known else "FAIL")
        write(f"  {state:5} {name}")

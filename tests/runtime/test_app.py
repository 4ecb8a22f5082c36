"""A class-style Worker served through create_app: routing, bodies, env, errors, streaming, wait_until, cron."""

from __future__ import annotations

import asyncio
import logging
import sys

import httpx
import pytest

from tests.asgi_client import app_of
from tests.runtime.conftest import asgi_messages


@pytest.fixture
async def client(serve) -> httpx.AsyncClient:
    return await serve("classic", dev=True)


async def test_str_body_gets_workerd_content_type(client: httpx.AsyncClient) -> None:
    response = await client.get("/")
    assert response.status_code == 200
    assert response.text == "Hello world!"
    assert response.headers["content-type"] == "text/plain;charset=UTF-8"
    assert response.headers["content-length"] == "12"


async def test_response_json_and_sibling_module(client: httpx.AsyncClient) -> None:
    response = await client.get("/json")
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {"ok": True, "who": "classic helpers"}


async def test_request_fields_and_text(client: httpx.AsyncClient) -> None:
    response = await client.post("/echo?x=1", content=b"payload", headers={"X-Test": "yes"})
    assert response.json() == {"method": "POST", "is_post": True, "url": "http://worker.test/echo?x=1",
                               "x_test": "yes", "body": "payload"}


async def test_request_json(client: httpx.AsyncClient) -> None:
    response = await client.post("/echo-json", json={"name": "ada", "n": [1, 2]})
    assert response.status_code == 201
    assert response.json() == {"got": {"name": "ada", "n": [1, 2]}, "name": "ada"}


async def test_request_form_data_multipart_and_urlencoded(client: httpx.AsyncClient) -> None:
    response = await client.post("/form", data={"field": "v"}, files={"upload": ("a.txt", b"file body")})
    assert response.json() == {"field": "v", "upload": "file body", "filename": "a.txt"}
    response = await client.post("/form", data={"field": "only"})
    assert response.json() == {"field": "only", "upload": None, "filename": None}


async def test_vars_secrets_and_module_env(client: httpx.AsyncClient) -> None:
    response = await client.get("/vars")
    assert response.json() == {"greeting": "hello", "secret": "s3cret", "at_import": "hello", "module_env": "hello"}


async def test_wait_until_runs_after_response_and_failures_are_logged(
        client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture) -> None:
    response = await client.get("/wait")
    assert response.text == "scheduled work"
    assert (await client.get("/events")).json() == []  # not done yet: the response did not wait for them
    await asyncio.sleep(0.2)
    assert sorted((await client.get("/events")).json()) == ["ctx", "module"]
    assert "background failure" in caplog.text
    assert len(app_of(client).tasks) == 0


async def test_exception_is_500_with_traceback_in_dev(client: httpx.AsyncClient,
                                                      caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.ERROR, logger="portflare.worker"):
        response = await client.get("/boom")
    assert response.status_code == 500
    assert "ValueError: kaboom" in response.text
    assert "Traceback" in response.text
    assert any(r.name == "portflare.worker" and "kaboom" in (r.exc_text or "") for r in caplog.records)


async def test_exception_body_is_short_outside_dev(serve) -> None:
    client = await serve("classic", dev=False)
    response = await client.get("/boom")
    assert response.status_code == 500
    assert response.text == "Worker threw exception"


async def test_returning_a_non_response_is_a_500(client: httpx.AsyncClient) -> None:
    response = await client.get("/bad-return")
    assert response.status_code == 500
    assert "not a Response" in response.text


async def test_streaming_response_arrives_in_chunks(client: httpx.AsyncClient) -> None:
    messages = await asgi_messages(app_of(client), "/stream")
    start, *bodies = messages
    assert start["status"] == 200
    assert b"content-length" not in dict(start["headers"])
    assert [m["body"] for m in bodies if m["body"]] == [b"chunk0;", b"chunk1;", b"chunk2;"]
    assert bodies[-1]["more_body"] is False


async def test_set_cookie_headers_stay_separate(client: httpx.AsyncClient) -> None:
    response = await client.get("/cookies")
    assert response.headers.get_list("set-cookie") == ["a=1", "b=2"]


async def test_cf_properties(client: httpx.AsyncClient) -> None:
    data = (await client.get("/cf")).json()
    assert data["colo"] == "LOCAL"
    assert {"country", "clientIp", "httpProtocol"} <= set(data["cf"])


async def test_redirect(client: httpx.AsyncClient) -> None:
    response = await client.get("/redirect")
    assert response.status_code == 301
    assert response.headers["location"] == "https://example.com/elsewhere"


async def test_head_request_has_no_body(client: httpx.AsyncClient) -> None:
    response = await client.head("/")
    assert response.status_code == 200
    assert response.content == b""


async def test_dev_scheduled_endpoint(client: httpx.AsyncClient) -> None:
    response = await client.get("/__scheduled", params={"cron": "*/5 * * * *"})
    assert (response.status_code, response.text) == (200, "Ran scheduled event")
    assert "cron:*/5 * * * *:hello:True" in (await client.get("/events")).json()
    failed = await client.get("/__scheduled", params={"cron": "fail"})
    assert failed.status_code == 500
    assert "cron failed" in failed.text


async def test_scheduled_endpoint_only_in_dev(serve) -> None:
    client = await serve("classic", dev=False)
    assert (await client.get("/__scheduled")).status_code == 404


async def test_startup_hooks_get_the_env(serve) -> None:
    seen = []

    async def hook(env) -> None:
        seen.append(env.GREETING)

    await serve("classic", startup_hooks=[hook])
    assert seen == ["hello"]


async def test_request_before_startup_is_503(tmp_path) -> None:
    from portflare.runtime.app import create_app
    from tests.runtime.conftest import worker_config

    app = create_app(worker_config("classic"), state_dir=tmp_path, dev=True)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://t") as client:
        assert (await client.get("/")).status_code == 503


def test_compat_dir_is_first_on_sys_path() -> None:
    from portflare.runtime.loader import COMPAT_DIR, install_shims

    install_shims()
    assert sys.path[0] == str(COMPAT_DIR)


async def test_static_assets_first_then_worker_and_assets_binding(tmp_path) -> None:
    from portflare.config import load_config
    from portflare.runtime.app import create_app
    from portflare.runtime.assets import AssetServer
    from tests.asgi_client import lifespan

    (tmp_path / "public").mkdir()
    (tmp_path / "public" / "hello.txt").write_text("static hello")
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "site.py").write_text(
        "from workers import Response, WorkerEntrypoint\n"
        "class Default(WorkerEntrypoint):\n"
        "    async def fetch(self, request):\n"
        "        if request.url.endswith('/via-binding'):\n"
        "            asset = await self.env.ASSETS.fetch('http://x/hello.txt')\n"
        "            return Response('binding: ' + await asset.text())\n"
        "        return Response('worker')\n")
    (tmp_path / "wrangler.toml").write_text(
        'name = "site"\nmain = "src/site.py"\ncompatibility_date = "2025-11-02"\n'
        '[assets]\ndirectory = "public"\nbinding = "ASSETS"\n')
    config = load_config(tmp_path)
    assert config.assets is not None
    app = create_app(config, state_dir=tmp_path / "state", dev=True, assets=AssetServer(config.assets))
    async with lifespan(app), httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://t") as client:
        assert (await client.get("/hello.txt")).text == "static hello"
        assert (await client.get("/dynamic")).text == "worker"
        assert (await client.get("/via-binding")).text == "binding: static hello"


PASS_THROUGH = '''
from workers import Response, WorkerEntrypoint


class Default(WorkerEntrypoint):
    async def fetch(self, request):
        if "pass" in request.url:
            self.ctx.passThroughOnException()
        raise RuntimeError("the Worker broke")
'''


def _pass_through_project(root, assets: str) -> None:
    (root / "src").mkdir()
    (root / "src" / "entry.py").write_text(PASS_THROUGH)
    (root / "wrangler.toml").write_text('name = "pt"\nmain = "src/entry.py"\ncompatibility_date = "2025-11-02"\n'
                                        'compatibility_flags = ["python_workers"]\n' + assets)


async def test_pass_through_on_exception_falls_back_to_assets(tmp_path) -> None:
    from portflare.config import load_config
    from portflare.runtime.app import create_app
    from portflare.runtime.assets import AssetServer
    from tests.asgi_client import RunningApps

    (tmp_path / "public" / "pass").mkdir(parents=True)
    (tmp_path / "public" / "pass" / "data.json").write_text('{"from": "assets"}')
    (tmp_path / "public" / "404.html").write_text("not here")
    _pass_through_project(tmp_path, '[assets]\ndirectory = "public"\nrun_worker_first = true\n'
                                    'not_found_handling = "404-page"\n')
    config = load_config(tmp_path)
    assert config.assets is not None
    apps = RunningApps()
    try:
        client = await apps.client(create_app(config, state_dir=tmp_path / "state", dev=False,
                                              assets=AssetServer.from_config(config)))
        served = await client.get("/pass/data.json")  # the Worker ran first, threw, and the request passed through
        assert (served.status_code, served.json()) == (200, {"from": "assets"})
        assert served.headers["content-type"] == "application/json"
        missing = await client.get("/pass/missing")  # passed through to assets, which answer with their 404 page
        assert (missing.status_code, missing.text) == (404, "not here")
        broken = await client.get("/data.json")  # no passThroughOnException: the Worker's 500
        assert (broken.status_code, broken.text) == (500, "Worker threw exception")
    finally:
        await apps.aclose()


async def test_pass_through_without_assets_is_the_workers_500(tmp_path) -> None:
    from portflare.config import load_config
    from portflare.runtime.app import create_app
    from tests.asgi_client import RunningApps

    _pass_through_project(tmp_path, "")
    apps = RunningApps()
    try:
        client = await apps.client(create_app(load_config(tmp_path), state_dir=tmp_path / "state", dev=False))
        response = await client.get("/pass")  # nothing behind the Worker to pass through to
        assert (response.status_code, response.text) == (500, "Worker threw exception")
    finally:
        await apps.aclose()


async def test_head_on_an_asset_sends_gets_headers_without_the_body(tmp_path) -> None:
    from portflare.config import load_config
    from portflare.runtime.app import create_app
    from portflare.runtime.assets import AssetServer
    from tests.asgi_client import lifespan

    (tmp_path / "public").mkdir()
    (tmp_path / "public" / "small.css").write_text("body { color: red }")
    (tmp_path / "public" / "big.bin").write_bytes(b"x" * (300 * 1024))
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "entry.py").write_text("from workers import WorkerEntrypoint\n"
                                               "class Default(WorkerEntrypoint):\n    pass\n")
    (tmp_path / "wrangler.toml").write_text('name = "s"\nmain = "src/entry.py"\n[assets]\ndirectory = "public"\n')
    config = load_config(tmp_path)
    assert config.assets is not None
    app = create_app(config, state_dir=tmp_path / "state", dev=False, assets=AssetServer(config.assets))
    async with lifespan(app):
        for path, size in (("/small.css", 19), ("/big.bin", 300 * 1024)):
            get = await asgi_messages(app, path)
            head = await asgi_messages(app, path, "HEAD")
            assert head[0] == get[0]  # status and every header, content-length included
            assert (b"content-length", str(size).encode()) in get[0]["headers"]
            assert b"".join(m.get("body", b"") for m in head[1:]) == b""
            assert len(b"".join(m.get("body", b"") for m in get[1:])) == size

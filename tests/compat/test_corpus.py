"""The compatibility corpus: Worker sources in the shapes Cloudflare publishes, run unchanged through portflare.

Each test is marked with the sample it runs (``@pytest.mark.sample``); the run ends with the corpus pass
fraction. Samples portflare deliberately does not support yet are ``xfail(strict=True)``, so one that starts
working is noticed. See README.md for each sample's source and for samples left out.
"""

from __future__ import annotations

import logging

import httpx
import pytest

from portflare.runtime.scheduled import ScheduledController
from tests.asgi_client import app_of
from tests.compat.conftest import eventually

sample = pytest.mark.sample


# -- hello world in its three generations ------------------------------------------------------------------------

@sample("hello_class")
async def test_hello_class(serve) -> None:
    client = await serve("hello_class")
    response = await client.get("/")
    assert response.status_code == 200
    assert response.text == "Hello World!"
    assert response.headers["content-type"] == "text/plain;charset=UTF-8"


@sample("hello_handler")
async def test_hello_handler_decorator(serve) -> None:
    client = await serve("hello_handler")
    response = await client.get("/anything")
    assert (response.status_code, response.text) == (200, "Hello world!")


@sample("hello_js")
async def test_hello_js_response_new_sync_handler(serve) -> None:
    client = await serve("hello_js")
    response = await client.get("/")
    assert (response.status_code, response.text) == (200, "Hello, World!")


# -- env, secrets, modules, request JSON -----------------------------------------------------------------------

@sample("env_vars")
async def test_env_var_secret_and_post_json(serve) -> None:
    client = await serve("env_vars")
    assert (await client.get("/")).text == "example.com"
    assert (await client.get("/secret")).text == "t0ps3cret"
    response = await client.post("/", json={"name": "Python"})
    assert response.text == "Hello, Python!"


@sample("importable_env")
async def test_env_at_module_level(serve) -> None:
    client = await serve("importable_env")
    response = await client.get("/")
    assert response.status_code == 200, response.text
    assert response.json() == {"module": "BAR", "import_time": "BAR", "self": "BAR", "workers_env": "BAR"}


# -- bindings --------------------------------------------------------------------------------------------------

@sample("kv_binding")
async def test_kv_put_get_with_js_response(serve) -> None:
    client = await serve("kv_binding")
    response = await client.get("/")
    assert (response.status_code, response.text) == (200, "baz")


@sample("d1_query")
async def test_d1_all_results_attribute_access(serve) -> None:
    client = await serve("d1_query")
    seed = (app_of(client).config.root / "db_init.sql").read_text()
    await app_of(client).env.DB.exec(seed)
    response = await client.get("/")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    row = response.json()
    assert set(row) == {"quote", "author"}
    assert row["author"] == "Tim Peters"


@sample("r2_bucket")
async def test_r2_put_get_head_list_delete(serve) -> None:
    client = await serve("r2_bucket")
    put = await client.put("/notes/a.txt", content=b"hello r2", headers={"content-type": "text/plain"})
    assert put.status_code == 200, put.text
    assert put.json() == {"key": "notes/a.txt", "size": 8, "etag": put.json()["etag"], "quoted": True}
    got = await client.get("/notes/a.txt")
    assert (got.text, got.headers["x-test"]) == ("hello r2", "ok")
    meta = (await client.get("/meta/notes/a.txt")).json()
    assert meta == {"contentType": "text/plain", "custom": {"author": "corpus"}, "size": 8}
    assert (await client.get("/range/notes/a.txt")).text == "ell"
    listing = (await client.get("/", headers={"x-prefix": "notes/"})).json()
    assert listing == {"keys": ["notes/a.txt"], "truncated": False, "dict_form": 1}
    assert (await client.get("/json-roundtrip")).json() == {"numbers": [1, 2, 3]}
    assert (await client.delete("/notes/a.txt")).text == "deleted"
    assert (await client.get("/notes/a.txt")).status_code == 404


@sample("queue")
async def test_queue_producer_and_consumer(serve) -> None:
    client = await serve("queue")
    assert (await client.post("/send", json={"hello": "queue"})).json() == {"ok": True}
    assert (await client.post("/send-batch")).json() == {"ok": True}
    assert (await client.post("/send-js")).json() == {"ok": True}

    async def received() -> list[dict[str, object]] | None:
        got: list[dict[str, object]] = (await client.get("/received")).json()
        return got if len(got) >= 5 else None

    messages = await eventually(received, within=15)
    bodies = [m["body"] for m in messages]
    assert {"hello": "queue"} in bodies and {"url": "https://example.com"} in bodies
    assert sorted(b for b in bodies if isinstance(b, int)) == [0, 1, 2]
    assert all(m["attempts"] == 1 and m["id"] for m in messages)


# -- FastAPI, cron, waitUntil, assets --------------------------------------------------------------------------

@sample("fastapi")
async def test_fastapi_with_jinja_and_scope_env(serve) -> None:
    client = await serve("fastapi")
    assert "FastAPI with Jinja2" in (await client.get("/")).json()["message"]
    assert (await client.get("/hi/portflare")).json() == {"message": "Hello, portflare!"}
    assert (await client.get("/env")).json() == {
        "message": "Here is an example of getting an environment variable: This is an environment variable"}
    assert (await client.get("/missing")).status_code == 404


@sample("cron")
async def test_cron_scheduled_and_argless_fetch(serve, capsys: pytest.CaptureFixture[str]) -> None:
    client = await serve("cron")
    assert (await client.get("/")).text.startswith("Hello from Cron Worker")
    response = await client.get("/__scheduled", params={"cron": "*/1 * * * *"})
    assert (response.status_code, response.text) == (200, "Ran scheduled event")
    assert "Scheduled task has been executed. */1 * * * *" in capsys.readouterr().out


@sample("cron_legacy")
async def test_legacy_on_scheduled_fetches(serve, upstream: str) -> None:
    client = await serve("cron_legacy", dev_vars={"UPSTREAM": upstream})
    app = app_of(client)
    await app.run_scheduled(ScheduledController("*/5 * * * *"))
    module = app.handlers.module  # type: ignore[union-attr]
    assert module.SEEN == [("*/5 * * * *", "Cloudflare-Workers")]


@sample("wait_until")
async def test_wait_until_three_spellings(serve) -> None:
    client = await serve("wait_until")
    assert (await client.get("/")).text == "logged later"

    async def logged() -> list[str] | None:
        keys: list[str] = (await client.get("/log")).json()
        return keys if len(keys) == 3 else None

    assert await eventually(logged) == ["ctx.waitUntil", "ctx.wait_until", "workers.wait_until"]


@sample("assets")
async def test_assets_binding_fetch_with_js_object(serve) -> None:
    client = await serve("assets")
    index = await client.get("/")
    assert index.headers["content-type"].startswith("text/html") and "Assets" in index.text
    css = await client.get("/style.css")
    assert (css.status_code, css.text.strip()) == (200, "body { color: teal; }")
    assert (await client.get("/nope.png")).status_code == 404


# -- outbound fetch --------------------------------------------------------------------------------------------

@sample("fetch_json")
async def test_fetch_json_hardcoded_origin(serve, outbound) -> None:
    outbound("https://jsonplaceholder.typicode.com")
    client = await serve("fetch_json")
    response = await client.get("/")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json; charset=utf-8"
    assert response.json() == {"userId": 1, "id": 1, "title": "delectus aut autem", "completed": False}


@sample("alter_headers")
async def test_alter_headers_of_upstream_response(serve, outbound) -> None:
    outbound("https://example.com")
    client = await serve("alter_headers")
    response = await client.get("/")
    assert response.status_code == 200, response.text
    assert response.text == "Hi there!"
    assert response.headers["x-workers-hello"] == "Hello from Cloudflare Workers"
    assert "x-header-to-delete" not in response.headers and "x-header2-to-delete" not in response.headers
    assert response.headers.get_list("x-header-to-change") == ["NewValue"]
    assert response.headers["x-upstream-host"] == "example.com"


@sample("sdk_fetch")
@pytest.mark.parametrize(("path", "status", "text", "header"), [
    ("/", 200, "Hi there!", None),
    ("/modify", 201, "Hi there!", "modified"),
    ("/modify_tuple", 200, "Hi there!", "modified, another"),
    ("/fetch_opts", 200, "Hi there!", "true"),
    ("/jsism", 200, "success", None),
    ("/undefined_opts", 301, "", None),
    ("/response_inherited", 200, "success", None),
    ("/redirect_invalid_input", 200, "success", None),
    ("/response_json", 404, '{"obj": {"field": 123}}', None),
    ("/cf_opts", 200, "success", None),
    ("/units", 200, "success", None),
])
async def test_sdk_idioms(serve, outbound, path: str, status: int, text: str, header: str | None) -> None:
    outbound("https://example.com", "http://example.com")
    client = await serve("sdk_fetch")
    response = await client.get(path)
    assert (response.status_code, response.text) == (status, text), response.text
    if header is not None:
        assert response.headers["custom-header-that-should-passthrough"] == header


@sample("sdk_fetch")
async def test_sdk_duplicate_request_headers(serve) -> None:
    client = await serve("sdk_fetch")
    headers = httpx.Headers([("X-Custom-Header", "some_value"), ("X-Custom-Header", "some_other_value")])
    response = await client.get("/event_decorator", headers=headers)
    assert (response.status_code, response.text) == (200, "success")


# -- forms, redirects ------------------------------------------------------------------------------------------

@sample("read_post")
async def test_read_post_json_form_text(serve) -> None:
    client = await serve("read_post")
    assert (await client.get("/")).text == "The request was not POST"
    form_page = await client.get("/form")
    assert form_page.headers["content-type"] == "text/html;charset=UTF-8"
    response = await client.post("/", json={"a": 1, "b": [True, None]})
    assert response.text == 'The request body sent in was {"a":1,"b":[true,null]}'
    response = await client.post("/", data={"message": "hi there"})
    assert response.text == 'The request body sent in was {"message":"hi there"}'
    response = await client.post("/", content=b"plain words", headers={"content-type": "text/plain"})
    assert response.text == "The request body sent in was plain words"


@sample("redirect")
async def test_redirect_domain(serve, caplog: pytest.LogCaptureFixture) -> None:
    client = await serve("redirect")
    response = await client.get("/some/path?x=1")
    assert response.status_code == 301
    assert response.headers["location"] == "https://example.com/some/pathx=1"  # the sample drops the "?"
    assert response.content == b""


@sample("redirect_sync")
async def test_redirect_all_sync_handler(serve) -> None:
    client = await serve("redirect_sync")
    response = await client.get("/x")
    assert (response.status_code, response.headers["location"]) == (301, "https://example.com")


# -- known incompatibilities -----------------------------------------------------------------------------------

@sample("durable_objects")
@pytest.mark.xfail(strict=True, reason="Durable Object RPC on stubs is not implemented by portflare yet")
async def test_durable_object_rpc(serve, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.CRITICAL):
        client = await serve("durable_objects")
        assert (await client.get("/groceries/add/milk")).text == "Message sent"
        assert (await client.get("/groceries/show")).text == "milk"


# -- older SDK idioms ------------------------------------------------------------------------------------------

@sample("old_sdk_bindings")
async def test_old_sdk_to_py_and_to_js(serve) -> None:
    client = await serve("old_sdk_bindings")
    response = await client.get("/")
    assert response.status_code == 200, response.text
    data = response.json()
    assert data["meta"] == {"value": "hi", "metadata": {"v": 1}, "cacheStatus": None}  # as workerd returns it
    assert data["keys"] == ["greeting"]
    assert data["text"] == "hi"
    assert data["rows"] == [{"id": 1, "name": "ada"}] and data["success"] is True
    assert data["first"] == "bob"
    assert data["raw"] == [["id", "name"], [1, "ada"], [2, "bob"]]


@sample("default_and_legacy")
async def test_default_class_wins_over_legacy_handlers(serve) -> None:
    client = await serve("default_and_legacy")
    assert (await client.get("/")).text == "Default class"

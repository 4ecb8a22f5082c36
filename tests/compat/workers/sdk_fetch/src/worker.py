# ruff: noqa  -- a corpus sample keeps its source's style (import order, blank lines)
# Compatibility corpus sample. Modeled on cloudflare/workerd src/workerd/server/tests/python/sdk/worker.py
# @03281a0f (Apache-2.0): each path exercises one SDK idiom the same way that test does: passing an upstream
# body to Response with dict or list-of-tuples headers, fetch keyword options (HTTPMethod, body=None, int
# header values), the JS-ism of an options dict passed positionally (a TypeError), unknown fetch options,
# redirect="manual", cf= options, Response.json with an HTTPStatus, Response.redirect with a bad status,
# duplicate request headers via get_all, and FormData/Blob/File/Request unit idioms. Written for portflare's
# tests, not a copy.
from http import HTTPMethod, HTTPStatus

import js
from workers import Blob, File, FormData, Request, Response, WorkerEntrypoint, fetch


class Default(WorkerEntrypoint):
    async def fetch(self, request):
        assert isinstance(request, Request)
        if request.url.endswith("/modify"):
            resp = await fetch("https://example.com/sub")
            return Response(resp.body, status=201, headers={"Custom-Header-That-Should-Passthrough": "modified"})
        elif request.url.endswith("/modify_tuple"):
            resp = await fetch("https://example.com/sub")
            return Response(
                resp.body,
                headers=[
                    ("Custom-Header-That-Should-Passthrough", "modified"),
                    ("Custom-Header-That-Should-Passthrough", "another"),
                ],
            )
        elif request.url.endswith("/fetch_opts"):
            return await fetch("https://example.com/sub_headers", method=HTTPMethod.GET, body=None,
                               headers={"Custom-Req-Header": 123})
        elif request.url.endswith("/jsism"):
            try:
                await fetch("https://example.com/sub", {"headers": {"Custom-Req-Header": 123}})
            except TypeError as exc:
                if str(exc) == "fetch() takes 1 positional argument but 2 were given":
                    return Response("success")
            return Response("fail")
        elif request.url.endswith("/undefined_opts"):
            return await fetch("https://example.com/redirect", redirect="manual", foobarbaz=42)
        elif request.url.endswith("/response_inherited"):
            resp = Response("test123")
            return Response("success" if await resp.text() == "test123" else "invalid")
        elif request.url.endswith("/redirect_invalid_input"):
            try:
                return Response.redirect("", HTTPStatus.BAD_GATEWAY)
            except ValueError:
                return Response("success")
        elif request.url.endswith("/response_json"):
            return Response.json({"obj": {"field": 123}}, status=HTTPStatus.NOT_FOUND)
        elif request.url.endswith("/cf_opts"):
            resp = await fetch("http://example.com/redirect", redirect="manual",
                               cf={"cacheTtl": 5, "cacheEverything": True, "cacheKey": "someCustomKey"})
            assert resp.status == 301
            return Response("success")
        elif request.url.endswith("/event_decorator"):
            headers = request.headers.get_all("X-Custom-Header")
            assert "some_value" in headers
            assert "some_other_value" in headers
            return Response("success")
        elif request.url.endswith("/units"):
            await form_data_units()
            await blob_units()
            await replace_body_units()
            await request_units()
            return Response("success")
        else:
            return await fetch("https://example.com/sub")


async def form_data_units():
    js_data = js.FormData.new()
    js_data.append("foobar", 123)
    js_data.append("key", "lorem ipsum")
    js_data.append("key", "dolor sit amet")
    data = FormData(js_data)
    assert data["foobar"] == "123"
    assert data["key"] == "lorem ipsum"
    assert data.get_all("key") == ["lorem ipsum", "dolor sit amet"]
    assert "unknown key" not in data
    assert "key" in data
    data = FormData({"key": "foobar"})
    data.append("key", "another")
    data.append("key2", "foobar2")
    assert {("key", "foobar"), ("key", "another"), ("key2", "foobar2")} <= set(data.items())
    assert len(list(data.keys())) == 3
    assert {"foobar", "another", "foobar2"} <= set(data.values())


async def blob_units():
    data = FormData()
    data["test"] = Blob(["some string"])
    assert await data["test"].text() == "some string"
    data["js"] = js.Blob.new(["another string"])
    assert isinstance(data["js"], Blob)
    typed = Blob(["test"], content_type="application/json")
    assert typed.js_object.type == "application/json"
    assert typed.size == 4
    assert typed.content_type == "application/json"
    assert await typed.bytes() == b"test"
    assert await typed.slice(1, 3).text() == "es"
    assert await Blob([memoryview(b"foobar")]).text() == "foobar"
    assert Blob(typed).content_type == "application/json"
    assert Blob(typed, content_type="other/type").content_type == "other/type"
    assert Blob([typed]).content_type == ""
    file_blob = File("my file", filename="test.txt", content_type="text/plain")
    assert file_blob.content_type == "text/plain"
    assert file_blob.name == "test.txt"


async def replace_body_units():
    response = Response("test", status=201, status_text="Created")
    cloned = response.replace_body("other")
    assert cloned.status == 201
    assert cloned.status_text == "Created"
    assert await cloned.text() == "other"


async def request_units():
    req = Request("https://test.com", method=HTTPMethod.POST)
    assert req.method == HTTPMethod.POST
    js_headers = js.Headers.new()
    js_headers.set("foo", "bar")
    assert Request("http://example.com", headers=js_headers).headers["foo"] == "bar"
    assert Request("http://example.com", headers={"aaaa": "test"}).headers["aaaa"] == "test"
    used = Request("http://example.com", body='{"field": 42}', method=HTTPMethod.POST)
    assert (await used.json())["field"] == 42
    js_headers = js.Headers.new()
    js_headers.append("Accept-encoding", "deflate")
    js_headers.append("Accept-encoding", "gzip")
    dup = Request("http://example.com", headers=js_headers)
    assert dup.url == "http://example.com/"
    assert {"deflate", "gzip"} <= set(dup.headers.get_all("Accept-encoding"))
    blob = await Request("http://example.com", body="foobar", method="POST").blob()
    assert await blob.text() == "foobar"
    js_form = js.FormData.new()
    js_form.append("foobar", 123)
    form = await Request("http://example.com", body=js_form, method="POST").form_data()
    assert form["foobar"] == "123"

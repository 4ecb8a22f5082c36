"""The ``workers`` value types on their own: Headers, Request, Response, FormData, Blob."""

from __future__ import annotations

from http import HTTPMethod

import pytest

from portflare.api import Blob, File, FormData, Headers, Request, Response
from portflare.errors import JsRangeError, JsTypeError


def test_headers_case_insensitive_multi_valued() -> None:
    h = Headers({"Content-Type": "text/html"})
    h.append("X-A", "1")
    h.append("x-a", "2")
    h.append("Set-Cookie", "a=1")
    h.append("set-cookie", "b=2")
    assert h.get("X-a") == "1, 2" and h["CONTENT-TYPE"] == "text/html"
    assert h.get_all("x-a") == ["1", "2"] and h.getSetCookie() == ["a=1", "b=2"]
    assert "content-type" in h and h.has("Set-Cookie")
    assert list(h) == [("content-type", "text/html"), ("set-cookie", "a=1"), ("set-cookie", "b=2"), ("x-a", "1, 2")]
    assert h.keys() == ["content-type", "set-cookie", "set-cookie", "x-a"]
    h.set("X-A", "3")
    h.delete("set-cookie")
    assert dict(h.items()) == {"content-type": "text/html", "x-a": "3"}
    assert h["missing"] is None and h.get("missing", "d") == "d" and h.get_all("missing") == []


def test_headers_reject_invalid_names_and_values() -> None:
    with pytest.raises(JsTypeError):
        Headers({"bad name": "x"})
    with pytest.raises(TypeError, match="Invalid header value"):
        Headers([("x", "a\r\nb")])


async def test_request_method_is_http_method_enum_and_body_reads_once() -> None:
    request = Request("https://x.test/p", method="post", body="hello", headers={"X": "1"})
    assert request.method is HTTPMethod.POST and request.method == "POST"
    assert request.headers["content-type"] == "text/plain;charset=UTF-8"
    assert request.js_object is request
    clone = request.clone()
    assert await request.text() == "hello" and request.body_used
    with pytest.raises(TypeError, match="already been used"):
        await request.text()
    assert await clone.bytes() == b"hello"


async def test_request_streamed_body_and_clone_tee() -> None:
    async def chunks():
        yield b'{"a"'
        yield b": 1}"

    request = Request("http://x/", method="PUT", body=chunks())
    clone = request.clone()
    assert (await request.json()) == {"a": 1}
    assert (await clone.json()).a == 1  # JsDict: the legacy attribute idiom works too


def test_get_request_cannot_have_a_body() -> None:
    with pytest.raises(TypeError, match="GET or HEAD"):
        Request("http://x/", body="nope")


async def test_response_defaults_and_content_types() -> None:
    r = Response("hi")
    assert (r.status, r.ok, r.status_text, r.url, r.redirected, r.type) == (200, True, "", "", False, "default")
    assert r.headers["content-type"] == "text/plain;charset=UTF-8"
    assert Response(b"x").headers.get("content-type") is None
    j = Response.json({"a": [1]}, status=201, headers={"x-y": "z"})
    assert (j.status, j.headers["content-type"], j.headers["x-y"]) == (201, "application/json", "z")
    assert await j.json() == {"a": [1]}
    assert Response.from_json([1]).headers["content-type"] == "application/json"


async def test_response_bodies_of_every_kind() -> None:
    async def agen():
        yield b"a"
        yield "b"

    assert await Response(agen()).text() == "ab"
    assert await Response(iter([b"c", b"d"])).text() == "cd"
    assert await Response(bytearray(b"e")).text() == "e"
    assert await Response(memoryview(b"f")).text() == "f"
    assert await Response(Blob(["g"], "text/x")).text() == "g"
    upstream = Response("streamed on")
    assert await Response(upstream.body).text() == "streamed on"
    holder = type("Obj", (), {"body": Response("via .body").body})()
    assert await Response(holder).text() == "via .body"
    with pytest.raises(TypeError):
        Response({"a": 1})


def test_response_status_rules() -> None:
    with pytest.raises(JsRangeError):
        Response("x", status=99)
    with pytest.raises(TypeError, match="null body status"):
        Response("x", status=204)
    assert Response(None, status=204).body is None
    redirect = Response.redirect("https://a.test/", 307)
    assert (redirect.status, redirect.headers["location"]) == (307, "https://a.test/")
    with pytest.raises(JsRangeError):
        Response.redirect("/", 200)


async def test_response_clone_and_aiter_bytes() -> None:
    r = Response("abc")
    c = r.clone()
    assert [chunk async for chunk in r.aiter_bytes()] == [b"abc"]
    assert r.body_used and await c.text() == "abc"
    with pytest.raises(TypeError):
        r.aiter_bytes()


async def test_formdata_roundtrip_multipart_and_urlencoded() -> None:
    form = FormData({"a": "1"})
    form.append("a", "2")
    form.append("f", Blob([b"\x00bin"], "application/octet-stream"), filename="x.bin")
    assert form["a"] == "1" and form.get_all("a") == ["1", "2"] and len(form) == 2
    request = Request("http://x/", method="POST", body=form)
    assert request.headers["content-type"].startswith("multipart/form-data; boundary=")
    parsed = await request.form_data()
    assert parsed.get_all("a") == ["1", "2"]
    upload = parsed["f"]
    assert isinstance(upload, File) and upload.name == "x.bin" and await upload.bytes() == b"\x00bin"
    urlencoded = Request("http://x/", method="POST", body="k=v+w&k=2",
                         headers={"content-type": "application/x-www-form-urlencoded"})
    assert (await urlencoded.formData()).get_all("k") == ["v w", "2"]
    with pytest.raises(TypeError, match="Unrecognized Content-Type"):
        await Request("http://x/", method="POST", body="{}").form_data()
    del form["a"]
    assert "a" not in form


async def test_blob_and_file() -> None:
    blob = Blob(["ab", b"cd", Blob(["ef"])], content_type="Text/Plain")
    assert (blob.size, blob.type) == (6, "text/plain")
    assert await blob.slice(1, 3).text() == "bc"
    file = File(["x"], "n.txt", last_modified=5)
    assert (file.name, file.last_modified, await file.text()) == ("n.txt", 5, "x")

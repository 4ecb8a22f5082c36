"""The `js` names Workers code imports beyond the fetch API: typed arrays, base64, crypto, Math, timers, Promise."""

from __future__ import annotations

import asyncio
import math
import re
import uuid
from pathlib import Path
from typing import Any

import pytest

from portflare.config import load_config
from portflare.errors import JsException
from portflare.runtime.app import create_app
from portflare.runtime.loader import install_shims
from tests.asgi_client import RunningApps


@pytest.fixture(scope="module")
def js() -> Any:
    install_shims()
    import js

    return js


def test_uint8array_views_share_and_copies_do_not(js: Any) -> None:
    buffer = js.ArrayBuffer.new(4)
    assert isinstance(buffer, js.ArrayBuffer) and bytes(buffer) == b"\0\0\0\0"
    view = js.Uint8Array.new(buffer)
    view[1] = 300  # stored modulo 256, as in JS
    assert bytes(buffer) == b"\0\x2c\0\0" and view[1] == 44
    part = view.subarray(1, 3)
    part[0] = 7
    assert view[1] == 7 and part.length == 2 and part.byteLength == 2
    copy = view.slice(0, 2)
    copy[0] = 9
    assert view[0] == 0
    assert js.Uint8Array.new(view).to_bytes() == view.to_bytes()  # typed array: copied
    offset = js.Uint8Array.new(buffer, 1, 2)
    assert offset.to_bytes() == b"\x07\0"
    with pytest.raises(ValueError, match="RangeError"):
        js.Uint8Array.new(buffer, 3, 2)
    assert js.ArrayBuffer.isView(view) and not js.ArrayBuffer.isView(buffer)


def test_uint8array_from_python_values_and_pyodide_methods(js: Any) -> None:
    data = js.Uint8Array.new(b"hi!")
    assert (data.length, list(data), bytes(data), data.to_string()) == (3, [104, 105, 33], b"hi!", "hi!")
    assert isinstance(data.to_py(), memoryview) and data.to_memoryview().tobytes() == b"hi!"
    assert js.Uint8Array.new([1, 256, -1]).to_bytes() == b"\x01\x00\xff"
    assert js.Uint8Array.new(3).to_bytes() == b"\0\0\0"
    assert js.Uint8Array.of(1, 2).to_bytes() == b"\x01\x02"
    target = js.Uint8Array.new(3)
    target.assign(b"abc")
    out = bytearray(3)
    target.assign_to(out)
    assert out == b"abc"
    target.set([1, 2], 1)
    assert target.to_bytes() == b"a\x01\x02"
    assert target.fill(5, 1).to_bytes() == b"a\x05\x05" and target.indexOf(5) == 1 and target.includes(97)
    readonly = js.Uint8Array.new(memoryview(b"ro"))  # a read-only buffer (bytes) is copied, so writes work
    readonly[0] = 1
    assert readonly.to_bytes() == b"\x01o"
    with pytest.raises(TypeError):
        js.Uint8Array.new("text")


def test_text_encoder_decoder(js: Any) -> None:
    encoded = js.TextEncoder.new().encode("héllo")
    assert isinstance(encoded, js.Uint8Array) and encoded.to_bytes() == "héllo".encode()
    assert js.TextDecoder.new().decode(encoded) == "héllo"
    assert js.TextDecoder.new("utf-8").decode(b"\xef\xbb\xbfbom") == "bom"
    assert js.TextDecoder.new().decode(b"\xff") == "\ufffd"
    with pytest.raises(TypeError, match="not valid"):
        js.TextDecoder.new("utf-8", {"fatal": True}).decode(b"\xff")


def test_atob_btoa_with_workerd_errors(js: Any) -> None:
    assert js.btoa("hello") == "aGVsbG8=" and js.btoa("\xff") == "/w=="
    assert js.atob("aGVsbG8=") == "hello" and js.atob(" aGVs\nbG8 ") == "hello" and js.atob("aGVsbG8") == "hello"
    assert js.atob("/w==") == "\xff"
    with pytest.raises(JsException, match=re.escape(
            "InvalidCharacterError: btoa() can only operate on characters in the Latin1 (ISO/IEC 8859-1) range.")):
        js.btoa("€")
    for bad in ("a", "aGVsbG8==", "a*b=", "ab=c"):
        with pytest.raises(JsException, match=r"^InvalidCharacterError: atob\(\) called with invalid base64"):
            js.atob(bad)


def test_crypto_random_values_and_uuid(js: Any) -> None:
    assert uuid.UUID(js.crypto.randomUUID()).version == 4
    array = js.Uint8Array.new(64)
    assert js.crypto.getRandomValues(array) is array and array.to_bytes() != bytes(64)
    raw = bytearray(16)
    js.crypto.getRandomValues(raw)
    assert raw != bytearray(16)
    with pytest.raises(JsException, match=r"^QuotaExceededError: getRandomValues\(\) only accepts buffers of size "
                                          r"<= 64K but provided 65537 bytes\.$"):
        js.crypto.getRandomValues(js.Uint8Array.new(65537))
    with pytest.raises(JsException, match="^TypeMismatchError: ArrayBufferView argument"):
        js.crypto.getRandomValues(b"immutable")
    with pytest.raises(JsException, match=r"^NotSupportedError: crypto.subtle.digest\(\) is not available"):
        js.crypto.subtle.digest("SHA-256", b"x")


def test_math_follows_js(js: Any) -> None:
    m = js.Math
    assert (m.floor(2.7), m.ceil(2.1), m.trunc(-2.7)) == (2, 3, -2)
    assert (m.round(2.5), m.round(-2.5), m.round(-2.6)) == (3, -2, -3)  # halves up, unlike Python's round
    assert isinstance(m.floor(2.7), int) and m.sqrt(2) == math.sqrt(2)
    assert math.isnan(m.sqrt(-1)) and m.log(0) == -math.inf and m.exp(1000) == math.inf
    assert (m.max(1, 5, 3), m.min(4, 2), m.max(), m.min()) == (5, 2, -math.inf, math.inf)
    assert math.isnan(m.max(1, math.nan))
    assert (m.pow(2, 10), m.pow(0, -1), m.sign(-3), m.abs(-4), m.cbrt(-8)) == (1024, math.inf, -1, 4, -2)
    assert math.isnan(m.pow(-8, 1 / 3))
    assert 0 <= m.random() < 1 and m.PI == math.pi


async def test_set_timeout_and_clear_timeout(js: Any) -> None:
    fired: list[Any] = []
    done = asyncio.Event()

    async def later(tag: str) -> None:
        fired.append(tag)
        done.set()

    cancelled = js.setTimeout(lambda: fired.append("cancelled"), 10)
    first = js.setTimeout(fired.append, 0, "sync")
    js.setTimeout(later, 20, "async")
    assert isinstance(first, int) and first != cancelled
    js.clearTimeout(cancelled)
    js.clearTimeout(12345)  # unknown ids are ignored
    js.clearTimeout(None)
    await asyncio.wait_for(done.wait(), 5)
    assert fired == ["sync", "async"]


async def test_promise(js: Any) -> None:
    assert await js.Promise.new(lambda resolve, reject: resolve(7)) == 7
    with pytest.raises(JsException, match="^Error: nope$"):
        await js.Promise.new(lambda resolve, reject: reject("nope"))
    with pytest.raises(ValueError, match="boom"):
        await js.Promise.reject(ValueError("boom"))
    assert await js.Promise.resolve(3) == 3

    async def two() -> int:
        return 2

    assert await js.Promise.all([1, two(), js.Promise.resolve(3)]) == [1, 2, 3]
    settled = await js.Promise.allSettled([js.Promise.resolve(1), js.Promise.reject("x")])
    assert settled[0].status == "fulfilled" and settled[0].value == 1
    assert settled[1]["status"] == "rejected" and str(settled[1]["reason"]) == "Error: x"
    assert await js.Promise.race([asyncio.sleep(1, "slow"), js.Promise.resolve("fast")]) == "fast"


def test_error(js: Any) -> None:
    error = js.Error.new("bad thing")
    assert isinstance(error, js.Error) and isinstance(error, Exception) and str(error) == "Error: bad thing"
    with pytest.raises(JsException, match="bad thing"):
        raise error


WORKER = '''
from js import Math, Promise, TextEncoder, Uint8Array, atob, btoa, crypto, setTimeout
from workers import Response, WorkerEntrypoint


class Default(WorkerEntrypoint):
    async def fetch(self, request):
        token = btoa("user:" + crypto.randomUUID()[:8])
        waited = await Promise.new(lambda resolve, reject: setTimeout(resolve, 1, Math.floor(4.9)))
        body = TextEncoder.new().encode(f"{atob(token)[:5]} {waited}")
        return Response(Uint8Array.new(body), headers={"content-type": "text/plain"})
'''


async def test_a_worker_using_js_globals(tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "entry.py").write_text(WORKER)
    (tmp_path / "wrangler.toml").write_text('name = "w"\nmain = "src/entry.py"\ncompatibility_date = "2025-11-02"\n'
                                            'compatibility_flags = ["python_workers"]\n')
    apps = RunningApps()
    try:
        client = await apps.client(create_app(load_config(tmp_path), state_dir=tmp_path / "state", dev=True))
        response = await client.get("/")
        assert (response.status_code, response.text) == (200, "user: 4")
    finally:
        await apps.aclose()

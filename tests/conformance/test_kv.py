"""Workers KV conformance: one suite, every backend (embedded SQLite and a real Redis)."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from portflare.backends import BackendTarget
from portflare.bindings.kv import open_binding
from portflare.bindings.kv.binding import KVNamespace, KVValueStream
from portflare.errors import JsException, JsSyntaxError, JsTypeError
from tests.conftest import Clock, require_service

REDIS_URL = "redis://127.0.0.1:6379/15"


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture(params=["sqlite", "redis"])
async def kv(request: pytest.FixtureRequest, tmp_path: Path, clock: Clock) -> AsyncIterator[KVNamespace]:
    namespace = f"test-{uuid.uuid4().hex}"
    url = None
    if request.param == "redis":
        require_service("redis", "127.0.0.1", 6379)
        url = REDIS_URL
    binding = await open_binding(BackendTarget(kind="kv", binding="KV", resource=namespace,
                                               state_dir=tmp_path, url=url))
    binding._clock = clock
    yield binding
    if request.param == "redis":
        await binding._backend.clear()  # type: ignore[attr-defined]
    await binding._aclose()


async def test_put_get_text_roundtrip(kv: KVNamespace) -> None:
    await kv.put("greeting", "héllo")
    assert await kv.get("greeting") == "héllo"
    assert await kv.get("greeting", "text") == "héllo"
    assert await kv.get("greeting", type="text") == "héllo"
    assert await kv.get("greeting", {"type": "text"}) == "héllo"


async def test_missing_key_is_none(kv: KVNamespace) -> None:
    assert await kv.get("nope") is None
    assert await kv.get("nope", "json") is None
    assert await kv.getWithMetadata("nope") == {"value": None, "metadata": None, "cacheStatus": None}


async def test_empty_value_is_not_null(kv: KVNamespace) -> None:
    await kv.put("empty", "")
    assert await kv.get("empty") == ""


async def test_json_type(kv: KVNamespace) -> None:
    await kv.put("doc", json.dumps({"a": [1, 2], "b": None, "c": {"d": "é"}}))
    doc = await kv.get("doc", "json")
    assert doc == {"a": [1, 2], "b": None, "c": {"d": "é"}}
    assert doc.c.d == "é"  # JS objects reach Python as JsDict
    assert await kv.get("doc", type="json") == doc
    await kv.put("bad", "{not json")
    with pytest.raises(JsSyntaxError):
        await kv.get("bad", "json")
    await kv.put("nan", "NaN")  # not JSON to JSON.parse
    with pytest.raises(JsSyntaxError):
        await kv.get("nan", "json")


async def test_bytes_values_and_array_buffer(kv: KVNamespace) -> None:
    payload = bytes(range(256))
    await kv.put("bin", payload)
    buffer = await kv.get("bin", "arrayBuffer")
    assert isinstance(buffer, memoryview) and bytes(buffer) == payload
    await kv.put("ba", bytearray(b"xyz"))
    await kv.put("mv", memoryview(b"abc"))
    assert await kv.get("ba") == "xyz" and await kv.get("mv") == "abc"


async def test_stream_type_in_and_out(kv: KVNamespace) -> None:
    big = b"0123456789" * 20_000

    async def chunks() -> AsyncIterator[bytes]:
        for i in range(0, len(big), 7000):
            yield big[i:i + 7000]

    await kv.put("stream", chunks())
    stream = await kv.get("stream", "stream")
    assert isinstance(stream, KVValueStream)
    assert b"".join([chunk async for chunk in stream]) == big


@pytest.mark.parametrize("value", [42, None, {"a": 1}, ["x"], 1.5])
async def test_put_rejects_other_value_types_and_stores_nothing(kv: KVNamespace, value: object) -> None:
    with pytest.raises(JsTypeError) as info:
        await kv.put("k", value)
    assert str(info.value) == ("TypeError: KV put() accepts only strings, ArrayBuffers, ArrayBufferViews, "
                               "and ReadableStreams as values.")
    assert await kv.get("k") is None


async def test_stream_is_read_once_and_serves_as_a_response_body(kv: KVNamespace) -> None:
    from portflare.api.response import Response

    await kv.put("s", "streamed")
    stream = await kv.get("s", {"type": "stream"})
    assert await Response(stream).text() == "streamed"
    with pytest.raises(JsTypeError, match="locked"):
        [chunk async for chunk in stream]
    reader = (await kv.get("s", "stream")).getReader()
    assert await reader.read() == {"done": False, "value": b"streamed"}
    assert (await reader.read())["done"] is True
    with_meta = await kv.getWithMetadata("s", "stream")
    assert isinstance(with_meta["value"], KVValueStream)


async def test_put_takes_a_request_body_stream(kv: KVNamespace) -> None:
    from portflare.api.request import Request

    request = Request("https://example.com/", method="PUT", body="from a request")
    await kv.put("r", request.body)
    assert await kv.get("r") == "from a request"


async def test_keys_as_js_strings(kv: KVNamespace) -> None:
    await kv.put(42, "number key")
    assert await kv.get("42") == "number key"
    await kv.put("lone\ud800", "v")  # a JS string's lone surrogate reaches KV as U+FFFD
    assert [k["name"] for k in (await kv.list(prefix="lone"))["keys"]] == ["lone\ufffd"]
    assert await kv.get("lone\ud800") == "v"
    await kv.put("value", "a\udc00b")  # and so does one in a value, with or without options
    await kv.put("value2", "a\udc00b", metadata=None)
    assert await kv.get("value") == await kv.get("value2") == "a\ufffdb"


async def test_overwrite_replaces_value_and_metadata(kv: KVNamespace) -> None:
    await kv.put("k", "one", metadata={"v": 1})
    await kv.put("k", "two")
    assert await kv.getWithMetadata("k") == {"value": "two", "metadata": None, "cacheStatus": None}


async def test_metadata_roundtrip_with_attribute_access(kv: KVNamespace) -> None:
    await kv.put("user", "ada", metadata={"role": "admin", "n": 3})
    result = await kv.getWithMetadata("user")
    assert result.value == "ada"
    assert result["metadata"] == {"role": "admin", "n": 3}
    assert result.metadata.role == "admin"
    assert result.to_py() is result
    typed = await kv.get_with_metadata("user", type="text")
    assert typed["value"] == "ada"


async def test_delete(kv: KVNamespace) -> None:
    await kv.put("k", "v")
    await kv.delete("k")
    assert await kv.get("k") is None
    await kv.delete("k")  # deleting a missing key is fine
    assert (await kv.list())["keys"] == []


async def test_bulk_get(kv: KVNamespace) -> None:
    await kv.put("a", "1")
    await kv.put("b", '{"x": 2}')
    assert await kv.get(["a", "missing"]) == {"a": "1", "missing": None}
    assert await kv.get(["b"], "json") == {"b": {"x": 2}}
    with_meta = await kv.getWithMetadata(["a", "missing"])
    assert with_meta == {"a": {"value": "1", "metadata": None}, "missing": None}


@pytest.mark.parametrize(
    ("keys", "value_type", "message"),
    [
        ([f"k{i}" for i in range(101)], "text", "KV GET_BULK failed: 400 You can request a maximum of 100 keys"),
        ([], "text", "KV GET_BULK failed: 400 You must request a minimum of 1 key"),
        (["a"], "arrayBuffer", 'KV GET_BULK failed: 400 "arrayBuffer" is not a valid type. Use "json" or "text"'),
        ([], "stream", 'KV GET_BULK failed: 400 "stream" is not a valid type. Use "json" or "text"'),
        (["a", ""], "text", "KV GET_BULK failed: 400 Key names must not be empty"),
        (["."], "json", 'KV GET_BULK failed: 400 Illegal key name ".". Please use a different name.'),
        (["x" * 513], "text", "KV GET_BULK failed: 414 UTF-8 encoded length of 513 exceeds key length limit of 512."),
    ],
)
async def test_bulk_get_limits(kv: KVNamespace, keys: list[str], value_type: str, message: str) -> None:
    with pytest.raises(JsException) as info:
        await kv.get(keys, value_type)
    assert str(info.value) == f"Error: {message}"


async def test_bulk_get_with_metadata_and_options(kv: KVNamespace) -> None:
    await kv.put("a", '{"n": 1}', metadata={"m": True})
    result = await kv.getWithMetadata(["a", "b"], {"type": "json", "cacheTtl": 60})
    assert result == {"a": {"value": {"n": 1}, "metadata": {"m": True}}, "b": None}
    assert result["a"].value.n == 1
    with pytest.raises(JsException, match="KV GET_BULK failed: 400 Invalid cache_ttl of 5"):
        await kv.get(["a"], cacheTtl=5)


async def test_bulk_total_size_limit(kv: KVNamespace) -> None:
    await kv.put("a", b"x" * (13 * 1024 * 1024))
    await kv.put("b", b"y" * (13 * 1024 * 1024))
    assert len((await kv.get(["a"]))["a"]) == 13 * 1024 * 1024
    with pytest.raises(JsException) as info:
        await kv.get(["a", "b"])
    assert str(info.value) == "Error: KV GET_BULK failed: 413 Total size of request exceeds the limit of 25MB"


async def test_bulk_json_with_non_json_value(kv: KVNamespace) -> None:
    await kv.put("a", "not json")
    with pytest.raises(JsException, match="At least one of the requested keys corresponds to a non-json value"):
        await kv.get(["a"], "json")


@pytest.mark.parametrize(
    ("key", "error"),
    [
        ("", "TypeError: Key name cannot be empty."),
        (".", 'TypeError: "." is not allowed as a key name.'),
        ("..", 'TypeError: ".." is not allowed as a key name.'),
        ("x" * 513, "Error: KV PUT failed: 414 UTF-8 encoded length of 513 exceeds key length limit of 512."),
        ("é" * 257, "Error: KV PUT failed: 414 UTF-8 encoded length of 514 exceeds key length limit of 512."),
    ],
)
async def test_invalid_keys_on_put(kv: KVNamespace, key: str, error: str) -> None:
    with pytest.raises(JsException) as info:
        await kv.put(key, "v")
    assert str(info.value) == error
    assert (await kv.list())["keys"] == []


async def test_key_length_error_names_the_operation(kv: KVNamespace) -> None:
    with pytest.raises(JsException, match="^Error: KV GET failed: 414"):
        await kv.get("x" * 600)
    with pytest.raises(JsException, match="^Error: KV DELETE failed: 414"):
        await kv.delete("x" * 600)
    await kv.put("x" * 512, "max size is fine")
    assert await kv.get("x" * 512) == "max size is fine"


async def test_unknown_get_type(kv: KVNamespace) -> None:
    # workerd checks the type only once a value came back: a missing key is just None.
    assert await kv.get("k", "yaml") is None
    await kv.put("k", "v")
    with pytest.raises(JsTypeError) as info:
        await kv.get("k", "yaml")
    assert str(info.value) == ('TypeError: Unknown response type. Possible types are "text", "arrayBuffer", '
                               '"json", and "stream".')
    with pytest.raises(JsTypeError, match="Unknown response type"):
        await kv.getWithMetadata("k", type="yaml")


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"expirationTtl": 30}, "Invalid expiration_ttl of 30. Expiration TTL must be at least 60."),
        ({"expirationTtl": 0}, "Invalid expiration_ttl of 0. Please specify integer greater than 0."),
        ({"expirationTtl": -5}, "Invalid expiration_ttl of -5. Please specify integer greater than 0."),
        ({"expirationTtl": 59.9}, "Invalid expiration_ttl of 59. Expiration TTL must be at least 60."),
        ({"expirationTtl": "30"}, "Invalid expiration_ttl of 30. Expiration TTL must be at least 60."),
        ({"expiration": 1000}, "Invalid expiration of 1000. Please specify integer greater than the current number "
                               "of seconds since the UNIX epoch."),
    ],
)
async def test_invalid_expiration_stores_nothing(kv: KVNamespace, options: dict[str, object], message: str) -> None:
    with pytest.raises(JsException) as info:
        await kv.put("k", "v", options)
    assert str(info.value) == f"Error: KV PUT failed: 400 {message}"
    assert await kv.get("k") is None


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"expirationTtl": "soon"}, "TypeError: The value cannot be converted because it is not an integer."),
        ({"expirationTtl": float("nan")}, "TypeError: The value cannot be converted because it is not an integer."),
        ({"expiration": 2**31}, "TypeError: Value out of range. Must be between -2147483648 and 2147483647 "
                                "(inclusive)."),
    ],
)
async def test_option_numbers_are_converted_as_workerd_does(kv: KVNamespace, options: dict[str, object],
                                                           message: str) -> None:
    with pytest.raises(JsTypeError) as info:
        await kv.put("k", "v", options)
    assert str(info.value) == message
    assert await kv.get("k") is None


async def test_runtime_checks_come_before_service_checks(kv: KVNamespace) -> None:
    with pytest.raises(JsTypeError, match="Key name cannot be empty"):
        await kv.put("", 42, expirationTtl=1)
    with pytest.raises(JsTypeError, match="KV put\\(\\) accepts only strings"):
        await kv.put("k", 42, expirationTtl=1)
    with pytest.raises(JsException, match="Invalid expiration_ttl of 1"):
        await kv.put("k", "v", expirationTtl=1, metadata={"x": "y" * 2000})


async def test_expiration_too_soon(kv: KVNamespace, clock: Clock) -> None:
    at = int(clock.now) + 30
    with pytest.raises(JsException, match=f"Invalid expiration of {at}. Expiration times must be at least 60 seconds"):
        await kv.put("k", "v", expiration=at)


async def test_expiration_ttl_hides_key_after_expiry(kv: KVNamespace, clock: Clock) -> None:
    await kv.put("session", "s", expirationTtl=60, metadata={"m": 1})
    listed = (await kv.list())["keys"]
    assert listed == [{"name": "session", "expiration": int(clock.now) + 60, "metadata": {"m": 1}}]
    clock.now += 59
    assert await kv.get("session") == "s"
    clock.now += 2
    assert await kv.get("session") is None
    assert await kv.getWithMetadata("session") == {"value": None, "metadata": None, "cacheStatus": None}
    assert (await kv.list())["keys"] == []
    assert await kv.get(["session"]) == {"session": None}


async def test_absolute_expiration_and_ttl_wins(kv: KVNamespace, clock: Clock) -> None:
    at = int(clock.now) + 600
    await kv.put("abs", "v", expiration=at)
    await kv.put("both", "v", expiration=at, expirationTtl=120)
    keys = {k["name"]: k["expiration"] for k in (await kv.list())["keys"]}
    assert keys == {"abs": at, "both": int(clock.now) + 120}


async def test_metadata_limit(kv: KVNamespace) -> None:
    with pytest.raises(JsException, match=r"KV PUT failed: 413 Metadata length of 1\d\d\d exceeds limit of 1024\."):
        await kv.put("k", "v", metadata={"blob": "x" * 1020})
    assert await kv.get("k") is None


async def test_value_limit(kv: KVNamespace) -> None:
    with pytest.raises(JsException, match="KV PUT failed: 413 Value length of 26214401 exceeds limit of 26214400."):
        await kv.put("k", b"x" * (25 * 1024 * 1024 + 1))
    assert await kv.get("k") is None
    await kv.put("max", b"x" * (25 * 1024 * 1024))
    assert len(await kv.get("max", "arrayBuffer")) == 25 * 1024 * 1024


async def test_streamed_value_limit_reports_the_full_length(kv: KVNamespace) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(30):
            yield b"x" * (1024 * 1024)

    with pytest.raises(JsException) as info:
        await kv.put("k", chunks())
    assert str(info.value) == "Error: KV PUT failed: 413 Value length of 31457280 exceeds limit of 26214400."
    assert await kv.get("k") is None


async def test_bad_options_leave_a_stream_unread(kv: KVNamespace) -> None:
    read = False

    async def chunks() -> AsyncIterator[bytes]:
        nonlocal read
        read = True
        yield b"x"

    with pytest.raises(JsException, match="Expiration TTL must be at least 60"):
        await kv.put("k", chunks(), expirationTtl=30)
    assert not read


async def test_cache_ttl_validated(kv: KVNamespace) -> None:
    with pytest.raises(JsException, match="KV GET failed: 400 Invalid cache_ttl of 10. Cache TTL must be at least 30."):
        await kv.get("k", cacheTtl=10)
    assert await kv.get("k", {"type": "text", "cacheTtl": 60}) is None


async def test_list_order_is_utf8_bytes(kv: KVNamespace) -> None:
    names = ["b", "a", "A", "é", "z", "a/b", "a0", "😀", "Z"]
    for name in names:
        await kv.put(name, "v")
    listed = [k["name"] for k in (await kv.list())["keys"]]
    assert listed == sorted(names, key=lambda s: s.encode("utf-8"))


async def test_list_shape_when_complete(kv: KVNamespace) -> None:
    await kv.put("only", "v")
    result = await kv.list()
    assert result == {"keys": [{"name": "only"}], "list_complete": True, "cacheStatus": None}
    assert "cursor" not in result
    assert result["keys"][0].name == "only"


async def test_list_pagination_prefix_and_cursor(kv: KVNamespace) -> None:
    for i in range(25):
        await kv.put(f"user:{i:02d}", "v")
        await kv.put(f"post:{i:02d}", "v")
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        page = await kv.list(prefix="user:", limit=10, cursor=cursor)
        pages += 1
        seen += [k["name"] for k in page["keys"]]
        if page["list_complete"]:
            assert "cursor" not in page
            break
        assert isinstance(page["cursor"], str) and page["cursor"]
        cursor = page["cursor"]
    assert pages == 3
    assert seen == [f"user:{i:02d}" for i in range(25)]
    assert [k["name"] for k in (await kv.list({"prefix": "post:", "limit": 3}))["keys"]] == [
        "post:00", "post:01", "post:02"]


async def test_list_limit_validation(kv: KVNamespace) -> None:
    with pytest.raises(JsException) as info:
        await kv.list(limit=1001)
    assert str(info.value) == ("Error: KV GET failed: 400 Invalid key_count_limit of 1001. "
                               "Please specify an integer less than 1000.")
    with pytest.raises(JsException) as info:
        await kv.list(prefix="p" * 600)
    assert str(info.value) == "Error: KV GET failed: 414 UTF-8 encoded length of 600 exceeds key length limit of 512."
    with pytest.raises(JsTypeError, match="not an integer"):
        await kv.list(limit="many")


async def test_list_limit_zero_or_negative_is_the_default(kv: KVNamespace) -> None:
    """workerd sends ``limit`` only when > 0, so the service's "greater than 0" error never reaches a Worker."""
    for i in range(3):
        await kv.put(f"k{i}", "v")
    for limit in (0, -1):
        page = await kv.list(limit=limit)
        assert len(page["keys"]) == 3 and page["list_complete"] is True
    assert len((await kv.list(limit=2.9))["keys"]) == 2  # truncated, as a C++ int


async def test_list_default_limit_is_1000(kv: KVNamespace) -> None:
    for i in range(1001):
        await kv.put(f"k{i:04d}", "")
    page = await kv.list()
    assert len(page["keys"]) == 1000 and page["list_complete"] is False
    rest = await kv.list(cursor=page["cursor"])
    assert [k["name"] for k in rest["keys"]] == ["k1000"] and rest["list_complete"] is True


async def test_list_prefix_with_non_ascii_and_edge_code_points(kv: KVNamespace) -> None:
    names = ["e", "é", "é1", "éa", "é\U0010ffff", "é\U0010ffffz", "ê", "😀", "😀😀", "😁"]
    for name in names:
        await kv.put(name, "v")
    assert [k["name"] for k in (await kv.list(prefix="é"))["keys"]] == ["é", "é1", "éa", "é\U0010ffff",
                                                                          "é\U0010ffffz"]
    assert [k["name"] for k in (await kv.list(prefix="é\U0010ffff"))["keys"]] == ["é\U0010ffff", "é\U0010ffffz"]
    assert [k["name"] for k in (await kv.list(prefix="😀"))["keys"]] == ["😀", "😀😀"]
    assert [k["name"] for k in (await kv.list(prefix="\ud7ff"))["keys"]] == []


async def test_cursor_is_opaque_but_checked(kv: KVNamespace) -> None:
    await kv.put("a", "v")
    await kv.put("b", "v")
    page = await kv.list(limit=1)
    assert [k["name"] for k in (await kv.list(cursor=page["cursor"]))["keys"]] == ["b"]
    with pytest.raises(JsException, match="KV GET failed: 400"):
        await kv.list(cursor="!!not a cursor!!")
    # a cursor from a prefix before the one asked for starts at the prefix
    assert [k["name"] for k in (await kv.list(prefix="b", cursor=page["cursor"]))["keys"]] == ["b"]


async def test_list_skips_deleted_keys_across_pages(kv: KVNamespace, clock: Clock) -> None:
    for i in range(6):
        await kv.put(f"k{i}", "v", expirationTtl=60 if i % 2 else None)
    clock.now += 120
    page = await kv.list(limit=2)
    assert [k["name"] for k in page["keys"]] == ["k0", "k2"]
    assert page["list_complete"] is False
    rest = await kv.list(limit=2, cursor=page["cursor"])
    assert [k["name"] for k in rest["keys"]] == ["k4"]
    assert rest["list_complete"] is True


async def test_options_as_to_js_like_values(kv: KVNamespace) -> None:
    class Proxy:
        def __init__(self, value: dict[str, object]) -> None:
            self.value = value

        def to_py(self) -> dict[str, object]:
            return self.value

    await kv.put("k", "v", Proxy({"metadata": {"a": 1}}))
    assert (await kv.getWithMetadata("k", Proxy({"type": "text"})))["metadata"] == {"a": 1}


async def test_concurrent_puts_all_land(kv: KVNamespace) -> None:
    await asyncio.gather(*(kv.put(f"c{i}", str(i)) for i in range(50)))
    result = await kv.get([f"c{i}" for i in range(50)])
    assert result == {f"c{i}": str(i) for i in range(50)}


async def test_namespaces_are_isolated(tmp_path: Path) -> None:
    require_service("redis", "127.0.0.1", 6379)
    ns_a, ns_b = [await open_binding(BackendTarget(kind="kv", binding=name, resource=f"iso-{uuid.uuid4().hex}",
                                                   state_dir=tmp_path, url=REDIS_URL)) for name in ("A", "B")]
    try:
        await ns_a.put("shared-name", "from a")
        assert await ns_b.get("shared-name") is None
        assert (await ns_b.list())["keys"] == []
        assert [k["name"] for k in (await ns_a.list())["keys"]] == ["shared-name"]
    finally:
        for ns in (ns_a, ns_b):
            await ns._backend.clear()  # type: ignore[attr-defined]
            await ns._aclose()


async def test_list_walks_past_many_expired_keys(kv: KVNamespace, clock: Clock) -> None:
    for i in range(300):  # more than one Redis index batch
        await kv.put(f"a{i:03d}", "v", expirationTtl=60)
    for name in ("b1", "b2", "b3"):
        await kv.put(name, "v")
    clock.now += 61
    page = await kv.list(limit=2)
    assert [k["name"] for k in page["keys"]] == ["b1", "b2"] and page["list_complete"] is False
    rest = await kv.list(limit=2, cursor=page["cursor"])
    assert [k["name"] for k in rest["keys"]] == ["b3"] and rest["list_complete"] is True


async def test_two_nodes_share_a_redis_namespace(tmp_path: Path, clock: Clock) -> None:
    require_service("redis", "127.0.0.1", 6379)
    namespace = f"shared-{uuid.uuid4().hex}"
    node_a, node_b = [await open_binding(BackendTarget(kind="kv", binding="KV", resource=namespace,
                                                       state_dir=tmp_path, url=REDIS_URL)) for _ in range(2)]
    try:
        await node_a.put("k", "from a", metadata={"node": "a"})
        assert await node_b.getWithMetadata("k") == {"value": "from a", "metadata": {"node": "a"}, "cacheStatus": None}
        await node_b.put("k", "from b")
        assert await node_a.get("k") == "from b"
        await node_b.delete("k")
        assert await node_a.get("k") is None and (await node_a.list())["keys"] == []
    finally:
        await node_a._backend.clear()  # type: ignore[attr-defined]
        for node in (node_a, node_b):
            await node._aclose()


@pytest.mark.parametrize("scheme", ["valkey", "redis"])
async def test_redis_url_schemes_and_pool_size(tmp_path: Path, scheme: str) -> None:
    require_service("redis", "127.0.0.1", 6379)
    url = f"{scheme}://127.0.0.1:6379/15?max_connections=3"
    ns = await open_binding(BackendTarget(kind="kv", binding="KV", resource=f"url-{uuid.uuid4().hex}",
                                          state_dir=tmp_path, url=url))
    try:
        pool = ns._backend._redis.connection_pool  # type: ignore[attr-defined]
        assert pool.max_connections == 3
        await asyncio.gather(*(ns.put(f"k{i}", "v") for i in range(20)))  # more callers than connections
        assert len((await ns.list())["keys"]) == 20
    finally:
        await ns._backend.clear()  # type: ignore[attr-defined]
        await ns._aclose()


async def test_namespace_ids_cannot_reach_into_each_other(tmp_path: Path) -> None:
    require_service("redis", "127.0.0.1", 6379)
    base = f"ns-{uuid.uuid4().hex}"
    outer, inner = [await open_binding(BackendTarget(kind="kv", binding="KV", resource=resource,
                                                     state_dir=tmp_path, url=REDIS_URL))
                    for resource in (base, f"{base}:v")]
    try:
        await inner.put("k", "v")
        assert (await outer.list())["keys"] == [] and await outer.get("idx") is None
    finally:
        for ns in (outer, inner):
            await ns._backend.clear()  # type: ignore[attr-defined]
            await ns._aclose()


async def test_redis_unreachable_is_a_kv_failure(tmp_path: Path) -> None:
    from tests.conftest import free_port

    ns = await open_binding(BackendTarget(kind="kv", binding="KV", resource="down", state_dir=tmp_path,
                                          url=f"redis://127.0.0.1:{free_port()}/0"))
    try:
        with pytest.raises(JsException, match="^Error: KV GET failed: 500 ConnectionError"):
            await ns.get("k")
        with pytest.raises(JsException, match="^Error: KV PUT failed: 500 ConnectionError"):
            await ns.put("k", "v")
    finally:
        await ns._aclose()


async def test_sqlite_file_shared_by_two_processes(tmp_path: Path, clock: Clock) -> None:
    target = BackendTarget(kind="kv", binding="KV", resource="shared", state_dir=tmp_path)
    first, second = await open_binding(target), await open_binding(target)
    try:
        await first.put("k", "v", expirationTtl=60)
        assert await second.get("k") == "v"
        second._clock = clock
        clock.now += 3600
        assert await second.get("k") is None  # and the expired row is purged on the way
        rows = first._backend._db.execute("SELECT count(*) FROM kv").fetchone()  # type: ignore[attr-defined]
        assert rows == (0,)
    finally:
        await first._aclose()
        await second._aclose()


async def test_sqlite_namespace_persists_across_reopen(tmp_path: Path) -> None:
    target = BackendTarget(kind="kv", binding="KV", resource="persist", state_dir=tmp_path)
    first = await open_binding(target)
    await first.put("k", "v", metadata={"a": 1})
    await first._aclose()
    second = await open_binding(target)
    assert (await second.getWithMetadata("k"))["metadata"] == {"a": 1}
    await second._aclose()
    assert (tmp_path / "kv" / "persist.sqlite").is_file()

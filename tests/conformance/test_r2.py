"""R2 conformance: one suite, every backend (embedded files and a real S3 server)."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from portflare.api.blob import Blob
from portflare.api.headers import Headers
from portflare.api.response import Response
from portflare.backends import BackendTarget
from portflare.bindings.r2 import open_binding
from portflare.bindings.r2 import validate as v
from portflare.bindings.r2.binding import R2Bucket
from portflare.bindings.r2.fs import FsR2Backend
from portflare.bindings.r2.objects import R2Object, R2ObjectBody
from portflare.errors import JsException, JsRangeError, JsTypeError
from tests.conftest import Clock
from tests.s3server import with_bucket

MiB = 1024 * 1024



@pytest.fixture(params=["fs", "s3"])
async def bucket(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[R2Bucket]:
    name = f"t-{uuid.uuid4().hex[:20]}"
    url = with_bucket(request.getfixturevalue("s3_server"), name) if request.param == "s3" else None
    binding = await open_binding(BackendTarget(kind="r2", binding="BUCKET", resource=name, state_dir=tmp_path,
                                               url=url))
    yield binding
    if request.param == "s3":
        await binding._backend.clear()  # type: ignore[attr-defined]
    await binding._aclose()


async def chunks(data: bytes, size: int = 64 * 1024) -> AsyncIterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start:start + size]


def md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


async def read(bucket: R2Bucket, key: str, **options: Any) -> bytes:
    obj = await bucket.get(key, **options)
    assert isinstance(obj, R2ObjectBody)
    return await obj.bytes()


# -- put / get / head ------------------------------------------------------------------------------------

async def test_put_returns_the_object_and_get_reads_it(bucket: R2Bucket) -> None:
    obj = await bucket.put("greeting.txt", "héllo", httpMetadata={"contentType": "text/plain"},
                           customMetadata={"Author": "Ada"})
    assert obj is not None
    assert obj["key"] == obj.key == "greeting.txt"
    assert obj.size == len("héllo".encode()) and obj["size"] == obj.size
    assert obj.etag == md5("héllo".encode()) and obj.httpEtag == f'"{obj.etag}"'
    assert len(obj.version) == 32 and isinstance(obj.uploaded, dt.datetime) and obj.uploaded.tzinfo is not None
    assert obj.checksums.toJSON() == {"md5": obj.etag} and bytes(obj.checksums.md5 or b"").hex() == obj.etag
    assert obj.storageClass == "Standard"
    body = await bucket.get("greeting.txt")
    assert isinstance(body, R2ObjectBody)
    assert (body.key, body.version, body.etag, body.uploaded) == (obj.key, obj.version, obj.etag, obj.uploaded)
    assert body.httpMetadata.get("contentType") == "text/plain"
    assert body.customMetadata == {"Author": "Ada"}
    assert body.range == {"offset": 0, "length": obj.size}
    assert await body.text() == "héllo"
    head = await bucket.head("greeting.txt")
    assert isinstance(head, R2Object) and not isinstance(head, R2ObjectBody)
    assert head.version == obj.version and head.customMetadata == {"Author": "Ada"}


async def test_missing_objects_are_none(bucket: R2Bucket) -> None:
    assert await bucket.head("nope") is None
    assert await bucket.get("nope") is None
    assert await bucket.get("nope", range={"offset": 5}) is None


async def test_every_value_type(bucket: R2Bucket) -> None:
    other = await bucket.put("src", b"from another object")
    assert other is not None
    values: dict[str, tuple[Any, bytes]] = {
        "str": ("text", b"text"),
        "bytes": (b"\x00\xff", b"\x00\xff"),
        "bytearray": (bytearray(b"ba"), b"ba"),
        "memoryview": (memoryview(b"mv"), b"mv"),
        "none": (None, b""),
        "stream": (chunks(b"0123456789" * 1000, 777), b"0123456789" * 1000),
        "blob": (Blob([b"blob"], content_type="x/y"), b"blob"),
        "response": (Response("from a response"), b"from a response"),
        "object body": (await bucket.get("src"), b"from another object"),
    }
    for key, (value, expected) in values.items():
        stored = await bucket.put(key, value)
        assert stored is not None and stored.size == len(expected), key
        assert await read(bucket, key) == expected, key


async def test_bad_value_type_stores_nothing(bucket: R2Bucket) -> None:
    with pytest.raises(JsTypeError, match="parameter 2 is not of type"):
        await bucket.put("k", 42)
    assert await bucket.head("k") is None


async def test_body_readers_and_single_use(bucket: R2Bucket) -> None:
    await bucket.put("doc.json", '{"a": [1, 2]}', httpMetadata={"contentType": "application/json"})
    doc = await bucket.get("doc.json")
    assert isinstance(doc, R2ObjectBody)
    assert not doc.bodyUsed
    assert await doc.json() == {"a": [1, 2]}
    assert doc.bodyUsed
    with pytest.raises(JsTypeError, match="Body has already been used. It can only be used once. Use tee"):
        await doc.text()
    buffer = await (await bucket.get("doc.json")).arrayBuffer()  # type: ignore[union-attr]
    assert isinstance(buffer, memoryview) and bytes(buffer) == b'{"a": [1, 2]}'
    blob = await (await bucket.get("doc.json")).blob()  # type: ignore[union-attr]
    assert blob.type == "application/json" and blob.size == 13
    streamed = await bucket.get("doc.json")
    assert isinstance(streamed, R2ObjectBody)
    assert b"".join([c async for c in streamed.body]) == b'{"a": [1, 2]}'
    with pytest.raises(JsTypeError):
        await streamed.bytes()


async def test_body_serves_as_a_response(bucket: R2Bucket) -> None:
    await bucket.put("card.svg", "<svg/>", httpMetadata={"contentType": "image/svg+xml"})
    obj = await bucket.get("card.svg")
    assert isinstance(obj, R2ObjectBody)
    response = Response(obj.body, headers={"content-type": obj.httpMetadata.get("contentType"),
                                           "etag": obj.httpEtag})
    assert await response.text() == "<svg/>" and response.headers.get("etag") == obj.httpEtag


async def test_overwrite_replaces_content_and_metadata(bucket: R2Bucket) -> None:
    first = await bucket.put("k", "one", customMetadata={"a": "1"})
    second = await bucket.put("k", "two")
    assert first is not None and second is not None and first.version != second.version
    got = await bucket.get("k")
    assert isinstance(got, R2ObjectBody)
    assert await got.text() == "two" and got.customMetadata == {} and got.version == second.version


async def test_options_as_trailing_dict(bucket: R2Bucket) -> None:
    await bucket.put("k", "abcdef", {"customMetadata": {"x": "y"}})
    assert await read(bucket, "k", range={"offset": 2}) == b"cdef"
    assert (await bucket.get("k", {"range": {"length": 2}})).range == {"offset": 0, "length": 2}  # type: ignore[union-attr]


# -- metadata --------------------------------------------------------------------------------------------

async def test_http_metadata_round_trip_and_write_http_metadata(bucket: R2Bucket) -> None:
    expiry = dt.datetime(2030, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
    http = {"contentType": "text/html", "contentLanguage": "en", "contentDisposition": "inline",
            "contentEncoding": "identity", "cacheControl": "max-age=60", "cacheExpiry": expiry}
    await bucket.put("page", "<p>", httpMetadata=http)
    obj = await bucket.head("page")
    assert obj is not None and obj.httpMetadata == http
    headers = Headers()
    obj.writeHttpMetadata(headers)
    assert dict(headers.items()) == {"content-type": "text/html", "content-language": "en",
                                     "content-disposition": "inline", "content-encoding": "identity",
                                     "cache-control": "max-age=60", "expires": "Wed, 02 Jan 2030 03:04:05 GMT"}


async def test_http_metadata_from_headers(bucket: R2Bucket) -> None:
    await bucket.put("h", "x", httpMetadata=Headers({"Content-Type": "image/png", "Cache-Control": "no-store",
                                                      "X-Other": "ignored"}))
    obj = await bucket.head("h")
    assert obj is not None and obj.httpMetadata == {"contentType": "image/png", "cacheControl": "no-store"}


async def test_custom_metadata_keeps_case_and_unicode(bucket: R2Bucket) -> None:
    meta = {"CamelCase": "Value", "ünïcødé": "✓ ok", "empty": ""}
    await bucket.put("m", "x", customMetadata=meta)
    obj = await bucket.head("m")
    assert obj is not None and obj.customMetadata == meta


async def test_metadata_over_the_limit_stores_nothing(bucket: R2Bucket) -> None:
    with pytest.raises(JsException) as info:
        await bucket.put("big-meta", "x", customMetadata={"k": "v" * 2048})
    assert str(info.value) == ("Error: put: Your metadata headers exceed the maximum allowed metadata size. "
                               "(10012)")
    assert await bucket.head("big-meta") is None
    assert await bucket.put("ok-meta", "x", customMetadata={"k": "v" * 2047}) is not None


async def test_storage_class(bucket: R2Bucket) -> None:
    obj = await bucket.put("ia", "x", storageClass="InfrequentAccess")
    assert obj is not None and obj.storageClass == "InfrequentAccess"
    assert (await bucket.head("ia")).storageClass == "InfrequentAccess"  # type: ignore[union-attr]
    with pytest.raises(JsTypeError):
        await bucket.put("bad", "x", storageClass="Glacier")


# -- keys ------------------------------------------------------------------------------------------------

async def test_key_length_limit(bucket: R2Bucket) -> None:
    longest = "k" * 1024
    assert await bucket.put(longest, "x") is not None
    assert await read(bucket, longest) == b"x"
    too_long = "é" * 513  # 1026 UTF-8 bytes
    for op, call in [("put", bucket.put(too_long, "x")), ("get", bucket.get(too_long)),
                     ("head", bucket.head(too_long)), ("delete", bucket.delete(too_long)),
                     ("createMultipartUpload", bucket.createMultipartUpload(too_long))]:
        with pytest.raises(JsException) as info:
            await call
        assert str(info.value) == f"Error: {op}: The specified object name is not valid. (10020)"


TRAVERSAL_KEYS = ["../../etc/passwd", "/abs/path", "..", ".", "a/../../b", "./x", "dir/", "a\\..\\..\\b",
                  "nul\x00byte", "%2e%2e/x", "~/.ssh/id_rsa"]


async def test_traversal_keys_are_plain_keys(bucket: R2Bucket, tmp_path: Path) -> None:
    outside = tmp_path.parent / f"{tmp_path.name}-escape"
    for key in TRAVERSAL_KEYS:
        if "\x00" in key and not isinstance(bucket._backend, FsR2Backend):
            continue  # S3 itself rejects NUL in keys
        assert await bucket.put(key, key) is not None, key
        assert await read(bucket, key) == key.encode(), key
    listed = await bucket.list()
    assert sorted(o.key for o in listed.objects) == sorted(
        k for k in TRAVERSAL_KEYS if "\x00" not in k or isinstance(bucket._backend, FsR2Backend))
    if isinstance(bucket._backend, FsR2Backend):
        assert_contained(tmp_path, bucket._backend._root, outside)


def assert_contained(state: Path, root: Path, outside: Path) -> None:
    """Every file the bucket wrote is inside its directory, under a name that is not the key."""
    files = [path for path in state.rglob("*") if path.is_file()]
    assert files
    for path in files:
        assert path.resolve().is_relative_to(root.resolve()), path
        assert "passwd" not in path.name and "ssh" not in path.name
    assert not outside.exists() and not Path("/abs/path").exists()


# -- conditionals ----------------------------------------------------------------------------------------

SECOND = dt.timedelta(seconds=1)


def _conditions(etag: str, uploaded: dt.datetime) -> list[tuple[str, dict[str, Any], bool]]:
    return [
        ("etagMatches", {"etagMatches": etag}, True),
        ("etagMatches other", {"etagMatches": "other"}, False),
        ("etagMatches wildcard", {"etagMatches": "*"}, True),
        ("etagMatches list", {"etagMatches": ["x", etag]}, True),
        ("etagDoesNotMatch", {"etagDoesNotMatch": etag}, False),
        ("etagDoesNotMatch other", {"etagDoesNotMatch": "other"}, True),
        ("etagDoesNotMatch wildcard", {"etagDoesNotMatch": "*"}, False),
        ("uploadedBefore later", {"uploadedBefore": uploaded + SECOND}, True),
        ("uploadedBefore earlier", {"uploadedBefore": uploaded - SECOND}, False),
        ("uploadedAfter earlier", {"uploadedAfter": uploaded - SECOND}, True),
        ("uploadedAfter later", {"uploadedAfter": uploaded + SECOND}, False),
        ("etagMatches beats uploadedBefore", {"etagMatches": etag, "uploadedBefore": uploaded - SECOND}, True),
        ("etagDoesNotMatch beats uploadedAfter", {"etagDoesNotMatch": "x", "uploadedAfter": uploaded + SECOND},
         True),
        ("all hold", {"etagMatches": etag, "etagDoesNotMatch": "x", "uploadedAfter": uploaded - SECOND,
                      "uploadedBefore": uploaded + SECOND}, True),
    ]


async def test_get_conditionals(bucket: R2Bucket) -> None:
    obj = await bucket.put("c", "content")
    assert obj is not None
    for name, cond, passes in _conditions(obj.etag, obj.uploaded):
        got = await bucket.get("c", onlyIf=cond)
        assert got is not None, name
        assert isinstance(got, R2ObjectBody) is passes, name
        assert not hasattr(got, "body") or passes, name
        assert got.etag == obj.etag, name


async def test_put_conditionals(bucket: R2Bucket) -> None:
    obj = await bucket.put("c", "v0")
    assert obj is not None
    for name, cond, passes in _conditions(obj.etag, obj.uploaded):
        result = await bucket.put("c", "v0", onlyIf=cond)  # same content: the etag stays for the next row
        assert (result is not None) is passes, name
        if result is not None:
            obj = result
    assert await bucket.put("c", "changed", onlyIf={"etagMatches": "nope"}) is None
    assert await read(bucket, "c") == b"v0"


async def test_conditionals_on_a_missing_object(bucket: R2Bucket) -> None:
    assert await bucket.put("new1", "x", onlyIf={"etagMatches": "abc"}) is None
    assert await bucket.put("new2", "x", onlyIf={"uploadedAfter": dt.datetime(2000, 1, 1)}) is None
    assert await bucket.head("new1") is None and await bucket.head("new2") is None
    assert await bucket.put("new3", "x", onlyIf={"etagDoesNotMatch": "*"}) is not None  # create-only
    assert await bucket.put("new3", "y", onlyIf={"etagDoesNotMatch": "*"}) is None
    assert await bucket.put("new4", "x", onlyIf={"uploadedBefore": dt.datetime(2000, 1, 1)}) is not None


async def test_conditionals_as_headers(bucket: R2Bucket) -> None:
    obj = await bucket.put("h", "content")
    assert obj is not None
    cases = [
        ({"If-Match": obj.httpEtag}, True),
        ({"If-Match": f'"x", {obj.httpEtag}'}, True),
        ({"If-Match": f"W/{obj.httpEtag}"}, False),  # strong comparison
        ({"If-None-Match": f"W/{obj.httpEtag}"}, False),  # weak comparison
        ({"If-None-Match": '"other"'}, True),
        ({"If-Match": "*"}, True),
        ({"If-Modified-Since": "Sat, 01 Jan 2000 00:00:00 GMT"}, True),
        ({"If-Unmodified-Since": "Sat, 01 Jan 2000 00:00:00 GMT"}, False),
    ]
    for headers, passes in cases:
        got = await bucket.get("h", onlyIf=Headers(headers))
        assert isinstance(got, R2ObjectBody) is passes, headers


async def test_quoted_etag_is_rejected(bucket: R2Bucket) -> None:
    await bucket.put("q", "x")
    with pytest.raises(JsTypeError, match=r'Conditional ETag should not be wrapped in quotes \("abc"\)\.'):
        await bucket.get("q", onlyIf={"etagMatches": '"abc"'})


# -- ranges ----------------------------------------------------------------------------------------------

async def test_ranges(bucket: R2Bucket) -> None:
    await bucket.put("r", "0123456789")
    cases: list[tuple[Any, bytes, dict[str, int]]] = [
        ({"offset": 3}, b"3456789", {"offset": 3, "length": 7}),
        ({"length": 3}, b"012", {"offset": 0, "length": 3}),
        ({"offset": 2, "length": 3}, b"234", {"offset": 2, "length": 3}),
        ({"offset": 8, "length": 100}, b"89", {"offset": 8, "length": 2}),
        ({"suffix": 4}, b"6789", {"offset": 6, "length": 4}),
        ({"suffix": 100}, b"0123456789", {"offset": 0, "length": 10}),
        ({"offset": 10}, b"", {"offset": 10, "length": 0}),
        (Headers({"Range": "bytes=1-3"}), b"123", {"offset": 1, "length": 3}),
        (Headers({"Range": "bytes=-2"}), b"89", {"offset": 8, "length": 2}),
        (Headers({"Range": "bytes=7-"}), b"789", {"offset": 7, "length": 3}),
        (Headers({"Range": "bytes=0-1, 3-4"}), b"0123456789", {"offset": 0, "length": 10}),
        (Headers({"Range": "pages=1"}), b"0123456789", {"offset": 0, "length": 10}),
    ]
    for spec, expected, returned in cases:
        got = await bucket.get("r", range=spec)
        assert isinstance(got, R2ObjectBody)
        assert got.range == returned, spec
        assert await got.bytes() == expected, spec


@pytest.mark.parametrize(("spec", "error", "message"), [
    ({"offset": 11}, JsException, "Error: get: The requested range is not satisfiable (10039)"),
    ({"length": 0}, JsException, "Error: get: The requested range is not satisfiable (10039)"),
    ({"suffix": 0}, JsException, "Error: get: The requested range is not satisfiable (10039)"),
    ({"offset": -1}, JsRangeError,
     "RangeError: Invalid range. Starting offset (-1) must be greater than or equal to 0."),
    ({"offset": 1.5}, JsRangeError,
     "RangeError: Invalid range. Starting offset (1.5) must be an integer, not floating point."),
    ({"length": -2}, JsRangeError, "RangeError: Invalid range. Length (-2) must be greater than or equal to 0."),
    ({"suffix": -1}, JsRangeError, "RangeError: Invalid suffix. Suffix (-1) must be greater than or equal to 0."),
    ({"suffix": 1, "offset": 1}, JsTypeError, "TypeError: Suffix is incompatible with offset."),
    ({"suffix": 1, "length": 1}, JsTypeError, "TypeError: Suffix is incompatible with length."),
])
async def test_invalid_ranges(bucket: R2Bucket, spec: dict[str, Any], error: type[Exception], message: str) -> None:
    await bucket.put("r", "0123456789")
    with pytest.raises(error) as info:
        await bucket.get("r", range=spec)
    assert str(info.value) == message


# -- checksums -------------------------------------------------------------------------------------------

async def test_checksums_verified_and_stored(bucket: R2Bucket) -> None:
    data = b"checksummed content"
    sha256 = hashlib.sha256(data)
    obj = await bucket.put("s", data, sha256=sha256.digest())
    assert obj is not None and obj.checksums.toJSON() == {"md5": md5(data), "sha256": sha256.hexdigest()}
    head = await bucket.head("s")
    assert head is not None and head.checksums.toJSON() == obj.checksums.toJSON()
    assert bytes(head.checksums.sha256 or b"") == sha256.digest()
    for name in ("md5", "sha1", "sha384", "sha512"):
        stored = await bucket.put(f"s-{name}", data, **{name: hashlib.new(name, data).hexdigest()})
        assert stored is not None and stored.checksums.toJSON()[name] == hashlib.new(name, data).hexdigest()


async def test_wrong_checksum_stores_nothing(bucket: R2Bucket) -> None:
    wrong = "0" * 64
    with pytest.raises(JsException) as info:
        await bucket.put("w", chunks(b"payload"), sha256=wrong)
    actual = hashlib.sha256(b"payload").hexdigest()
    assert str(info.value) == (
        "Error: put: The SHA-256 checksum you specified did not match what we received.\n"
        f"You provided a SHA-256 checksum with value: {wrong}\nActual SHA-256 was: {actual} (10037)")
    assert await bucket.head("w") is None
    await bucket.put("w", "old")
    with pytest.raises(JsException, match="10037"):
        await bucket.put("w", "new", md5="f" * 32)
    assert await read(bucket, "w") == b"old"


@pytest.mark.parametrize(("options", "message"), [
    ({"md5": "ab", "sha1": "cd"}, "You cannot specify multiple hashing algorithms."),
    ({"md5": "abc"}, "MD5 is 32 hex characters, not 3"),
    ({"sha1": b"\x00" * 3}, "SHA-1 is 20 bytes, not 3"),
    ({"sha256": "zz" * 32}, "Provided SHA-256 wasn't a valid hex string"),
    ({"sha512": b"\x00"}, "SHA-512 is 64 bytes, not 1"),
])
async def test_checksum_option_errors(bucket: R2Bucket, options: dict[str, Any], message: str) -> None:
    with pytest.raises(JsTypeError) as info:
        await bucket.put("c", "x", **options)
    assert str(info.value) == f"TypeError: {message}"
    assert await bucket.head("c") is None


async def test_size_limit(bucket: R2Bucket, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(v, "MAX_VALUE_SIZE", 1000)
    with pytest.raises(JsException) as info:
        await bucket.put("huge", chunks(b"x" * 5000, 100))
    assert str(info.value) == "Error: put: Your proposed upload exceeds the maximum allowed object size. (100100)"
    assert await bucket.head("huge") is None


async def test_ssec_key_length(bucket: R2Bucket) -> None:
    with pytest.raises(JsException, match="SSE-C Key must be 32 bytes in length"):
        await bucket.put("e", "x", ssecKey=b"short")


# -- delete ----------------------------------------------------------------------------------------------

async def test_delete_one_many_and_missing(bucket: R2Bucket) -> None:
    for key in ("a", "b", "c", "d"):
        await bucket.put(key, key)
    await bucket.delete("a")
    await bucket.delete(["b", "c", "never-existed"])
    await bucket.delete([])
    assert [o.key for o in (await bucket.list()).objects] == ["d"]
    await bucket.delete([f"k{i}" for i in range(999)] + ["d"])  # 1000 keys: the most one call takes
    assert (await bucket.list()).objects == []
    with pytest.raises(JsException, match="1000"):
        await bucket.delete([f"k{i}" for i in range(1001)])


# -- list ------------------------------------------------------------------------------------------------

async def test_list_order_prefix_limit_and_cursor(bucket: R2Bucket) -> None:
    keys = ["a", "b/1", "b/2", "b/3", "c", "é", "\U0001f600", "z"]
    for key in keys:
        await bucket.put(key, key, customMetadata={"k": key})
    everything = await bucket.list()
    assert [o.key for o in everything.objects] == sorted(keys, key=lambda k: k.encode())
    assert everything.truncated is False and "cursor" not in everything
    assert everything.delimitedPrefixes == []
    assert [o.key for o in (await bucket.list(prefix="b/")).objects] == ["b/1", "b/2", "b/3"]
    seen: list[str] = []
    cursor = None
    while True:
        page = await bucket.list(limit=3, cursor=cursor)
        seen.extend(o.key for o in page.objects)
        if not page.truncated:
            break
        assert len(page.objects) == 3
        cursor = page.cursor
    assert seen == [o.key for o in everything.objects]
    page = await bucket.list(prefix="b/", limit=2)
    assert [o.key for o in page.objects] == ["b/1", "b/2"] and page.truncated
    assert [o.key for o in (await bucket.list(prefix="b/", cursor=page.cursor)).objects] == ["b/3"]


async def test_list_start_after_and_cursor(bucket: R2Bucket) -> None:
    for key in ("a", "b", "c", "d"):
        await bucket.put(key, key)
    assert [o.key for o in (await bucket.list(startAfter="b")).objects] == ["c", "d"]
    page = await bucket.list(limit=3)
    # the cursor (after "c") wins over an earlier startAfter
    assert [o.key for o in (await bucket.list(startAfter="a", cursor=page.cursor)).objects] == ["d"]


async def test_list_delimiter(bucket: R2Bucket) -> None:
    for key in ("top", "dir0/a", "dir0/sub0/b", "dir0/sub0/c", "dir1/x", "zz"):
        await bucket.put(key, key)
    root = await bucket.list(delimiter="/")
    assert [o.key for o in root.objects] == ["top", "zz"] and root.delimitedPrefixes == ["dir0/", "dir1/"]
    inner = await bucket.list(prefix="dir0/", delimiter="/")
    assert [o.key for o in inner.objects] == ["dir0/a"] and inner.delimitedPrefixes == ["dir0/sub0/"]
    seen_objects: list[str] = []
    seen_prefixes: list[str] = []
    cursor = None
    while True:  # one entry per page: a delimited prefix counts, and the next page starts after it
        page = await bucket.list(delimiter="/", limit=1, cursor=cursor)
        seen_objects += [o.key for o in page.objects]
        seen_prefixes += page.delimitedPrefixes
        if not page.truncated:
            break
        cursor = page.cursor
    assert seen_objects == ["top", "zz"] and seen_prefixes == ["dir0/", "dir1/"]


async def test_list_include(bucket: R2Bucket) -> None:
    await bucket.put("i", "x", httpMetadata={"contentType": "text/plain"}, customMetadata={"a": "b"})
    plain = (await bucket.list()).objects[0]
    assert plain.httpMetadata is None and plain.customMetadata is None
    assert plain.etag == md5(b"x") and plain.size == 1 and len(plain.version) == 32
    with pytest.raises(JsTypeError, match="HTTP metadata unknown for key `i`. Did you forget to add 'httpMetadata'"):
        plain.writeHttpMetadata(Headers())
    full = (await bucket.list(include=["httpMetadata", "customMetadata"])).objects[0]
    assert full.httpMetadata == {"contentType": "text/plain"} and full.customMetadata == {"a": "b"}
    only_custom = (await bucket.list(include=["customMetadata"])).objects[0]
    assert only_custom.httpMetadata is None and only_custom.customMetadata == {"a": "b"}
    with pytest.raises(JsRangeError, match="Unsupported include value nope"):
        await bucket.list(include=["nope"])


@pytest.mark.parametrize("limit", [0, -1, 1001, "x"])
async def test_list_limit_errors(bucket: R2Bucket, limit: Any) -> None:
    with pytest.raises(JsException) as info:
        await bucket.list(limit=limit)
    assert str(info.value) == "Error: list: MaxKeys params must be positive integer <= 1000. (10022)"


# -- multipart -------------------------------------------------------------------------------------------

PART = 5 * MiB


async def test_multipart_happy_path(bucket: R2Bucket) -> None:
    upload = await bucket.createMultipartUpload("mp", httpMetadata={"contentType": "video/mp4"},
                                                customMetadata={"who": "me"})
    assert upload.key == "mp" and upload.uploadId
    first, last = b"a" * PART, b"tail"
    part2 = await bucket.resumeMultipartUpload("mp", upload.uploadId).uploadPart(2, chunks(last))
    part1 = await upload.uploadPart(1, first)
    assert part1 == {"partNumber": 1, "etag": md5(first)} and part2["etag"] == md5(last)
    obj = await upload.complete([part2, part1])  # any order
    expected_etag = hashlib.md5(bytes.fromhex(md5(first)) + bytes.fromhex(md5(last))).hexdigest() + "-2"
    assert obj.etag == expected_etag and obj.size == PART + 4 and obj.checksums.toJSON() == {}
    got = await bucket.get("mp", range={"suffix": 6})
    assert isinstance(got, R2ObjectBody) and await got.bytes() == b"aatail"
    assert got.httpMetadata == {"contentType": "video/mp4"} and got.customMetadata == {"who": "me"}
    assert got.etag == expected_etag
    with pytest.raises(JsException, match=r"uploadPart: The specified multipart upload does not exist. \(10024\)"):
        await upload.uploadPart(3, b"more")  # completed


async def test_multipart_object_is_uploaded_when_completed(bucket: R2Bucket) -> None:
    clock = Clock()
    bucket._clock = clock
    clock.now = 1_700_000_000.125
    upload = await bucket.createMultipartUpload("mp-time", customMetadata={"a": "b"})
    part = await upload.uploadPart(1, b"only part")
    clock.now = 1_700_000_100.5  # as in Miniflare: the object's upload time is its completion's
    obj = await upload.complete([part])
    completed = dt.datetime.fromtimestamp(1_700_000_100.5, tz=dt.UTC)
    assert obj.uploaded == completed
    head = await bucket.head("mp-time")
    etag = hashlib.md5(bytes.fromhex(part["etag"])).hexdigest() + "-1"
    assert head is not None and head.uploaded == completed and head.etag == obj.etag == etag
    assert head.customMetadata == {"a": "b"}
    assert [(o.key, o.uploaded) for o in (await bucket.list()).objects] == [("mp-time", completed)]


async def test_multipart_errors(bucket: R2Bucket) -> None:
    upload = await bucket.createMultipartUpload("mp")
    small = await upload.uploadPart(1, b"small")
    tail = await upload.uploadPart(2, b"tail")
    with pytest.raises(JsException) as info:
        await upload.complete([small, tail])
    assert str(info.value) == ("Error: completeMultipartUpload: Your proposed upload is smaller than the minimum "
                               "allowed object size. (10011)")
    with pytest.raises(JsException, match=r"completeMultipartUpload: One or more of the specified parts could not "
                                          r"be found. \(10025\)"):
        await upload.complete([{"partNumber": 1, "etag": "0" * 32}])
    with pytest.raises(JsException, match=r"\(10025\)"):
        await upload.complete([{"partNumber": 7, "etag": small["etag"]}])
    with pytest.raises(JsException, match=r"completeMultipartUpload: We encountered an internal error. Please "
                                          r"try again. \(10001\)"):
        await upload.complete([small, small])
    other_key = bucket.resumeMultipartUpload("other", upload.uploadId)
    with pytest.raises(JsException, match=r"uploadPart: The specified multipart upload does not exist. \(10024\)"):
        await other_key.uploadPart(1, b"x")
    with pytest.raises(JsRangeError):
        await upload.uploadPart(0, b"x")
    single = await upload.complete([small])  # a lone part may be small
    assert single.size == 5 and await read(bucket, "mp") == b"small"
    unknown = bucket.resumeMultipartUpload("mp", "no-such-upload")
    for call, op in [(unknown.complete([]), "completeMultipartUpload"), (unknown.abort(), "abortMultipartUpload"),
                     (unknown.uploadPart(1, b"x"), "uploadPart")]:
        with pytest.raises(JsException) as info:
            await call
        assert str(info.value) == f"Error: {op}: The specified multipart upload does not exist. (10024)"


async def test_multipart_unequal_parts_and_abort(bucket: R2Bucket) -> None:
    upload = await bucket.createMultipartUpload("uneq")
    p1 = await upload.uploadPart(1, b"a" * PART)
    p2 = await upload.uploadPart(2, b"b" * (PART + 1))
    with pytest.raises(JsException) as info:
        await upload.complete([p1, p2])  # the last part is larger than the others
    assert str(info.value) == ("Error: completeMultipartUpload: There was a problem with the multipart upload. "
                               "(10048)")
    await upload.abort()
    assert await bucket.head("uneq") is None
    with pytest.raises(JsException, match=r"abortMultipartUpload: .*\(10024\)"):
        await upload.abort()
    with pytest.raises(JsException, match=r"completeMultipartUpload: .*\(10024\)"):
        await upload.complete([p1])


# -- large objects ---------------------------------------------------------------------------------------

async def test_20_mb_object_streams_both_ways(bucket: R2Bucket) -> None:
    data = os.urandom(MiB) * 20
    obj = await bucket.put("big", chunks(data, 256 * 1024))
    assert obj is not None and obj.size == len(data) and obj.etag == md5(data)
    head = await bucket.head("big")
    assert head is not None and head.etag == md5(data) and head.checksums.toJSON() == {"md5": md5(data)}
    got = await bucket.get("big")
    assert isinstance(got, R2ObjectBody)
    digest, largest, total = hashlib.md5(), 0, 0
    async for chunk in got.body:
        digest.update(chunk)
        largest, total = max(largest, len(chunk)), total + len(chunk)
    assert total == len(data) and digest.hexdigest() == md5(data)
    assert largest <= 8 * MiB  # streamed in chunks, never handed over whole
    assert await read(bucket, "big", range={"offset": 15 * MiB, "length": 10}) == data[15 * MiB:15 * MiB + 10]

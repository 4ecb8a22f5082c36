"""R2 on S3, what the conformance suite cannot see: which S3 calls are made, and how much memory streaming takes.

Calls are observed by wrapping the boto3 client's methods of one backend; every call still goes to the real
(moto) server. Memory is measured with tracemalloc, which sees every thread's Python allocations, boto3's too.
"""

from __future__ import annotations

import hashlib
import json
import threading
import tracemalloc
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest
from botocore.exceptions import ClientError

from portflare.backends import BackendTarget
from portflare.bindings.r2 import open_binding, s3records, streams
from portflare.bindings.r2 import s3 as s3_module
from portflare.bindings.r2.base import ObjectMeta
from portflare.bindings.r2.binding import R2Bucket
from portflare.bindings.r2.objects import R2ObjectBody
from portflare.bindings.r2.s3 import S3R2Backend
from portflare.errors import JsException
from tests.s3server import with_bucket

MiB = 1024 * 1024


@pytest.fixture
async def bucket(s3_server: str, tmp_path: Path) -> AsyncIterator[R2Bucket]:
    name = f"t-{uuid.uuid4().hex[:20]}"
    binding = await open_binding(BackendTarget(kind="r2", binding="BUCKET", resource=name, state_dir=tmp_path,
                                               url=with_bucket(s3_server, name)))
    yield binding
    await backend_of(binding).clear()
    await binding._aclose()


def backend_of(bucket: R2Bucket) -> S3R2Backend:
    backend = bucket._backend
    assert isinstance(backend, S3R2Backend)
    return backend


class Calls:
    """Records the calls made through some methods of a boto3 client (arguments, a body by its length, and the
    answer or the error), each still sent to the server, or handed to ``around``, which decides what to do."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, client: Any, *names: str,
                 around: dict[str, Callable[..., Any]] | None = None) -> None:
        self.log: list[tuple[str, dict[str, Any], Any]] = []
        for name in names:
            real = getattr(client, name)
            wrapper = (around or {}).get(name)
            monkeypatch.setattr(client, name, self._recording(name, real, wrapper))

    def _recording(self, name: str, real: Callable[..., Any],
                   wrapper: Callable[..., Any] | None) -> Callable[..., Any]:
        def call(**kwargs: Any) -> Any:
            entry = (name, {k: len(v) if k == "Body" and isinstance(v, (bytes, bytearray)) else v
                            for k, v in kwargs.items() if k != "Body" or isinstance(v, (bytes, bytearray))}, [])
            self.log.append(entry)
            try:
                result = wrapper(real, **kwargs) if wrapper is not None else real(**kwargs)
            except Exception as exc:
                entry[2].append(exc)
                raise
            entry[2].append(result)
            return result
        return call

    def named(self, name: str) -> list[tuple[dict[str, Any], Any]]:
        return [(kwargs, outcome[0]) for called, kwargs, outcome in self.log if called == name]

    def names(self) -> list[str]:
        return [name for name, _, _ in self.log]


async def pattern(total: int, chunk: int = 256 * 1024) -> AsyncIterator[bytes]:
    """``total`` bytes made chunk by chunk (never held whole), each chunk different."""
    for start in range(0, total, chunk):
        size = min(chunk, total - start)
        yield (start // chunk).to_bytes(4, "big") * (size // 4) + b"x" * (size % 4)


def md5_of(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


def pattern_md5(total: int, chunk: int = 256 * 1024) -> str:
    digest = hashlib.md5()
    for start in range(0, total, chunk):
        size = min(chunk, total - start)
        digest.update((start // chunk).to_bytes(4, "big") * (size // 4) + b"x" * (size % 4))
    return digest.hexdigest()


@pytest.fixture
def peak() -> Iterator[Callable[[], int]]:
    """Python memory allocated above the baseline at its highest, in bytes, since the fixture started."""
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    yield lambda: tracemalloc.get_traced_memory()[1] - base
    tracemalloc.stop()


# -- streaming -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("learnt", [False, True])
async def test_a_streamed_put_and_get_hold_a_few_parts_at_most(
        bucket: R2Bucket, monkeypatch: pytest.MonkeyPatch, peak: Callable[[], int], learnt: bool) -> None:
    """``learnt``: once a first put showed the store's ETags to be MD5s, parts are hashed while they upload rather
    than as they are read, so reading runs ahead: a part must not outlive its upload in a pool thread."""
    part = 5 * MiB  # S3's smallest part, so 40 MiB is 8 of them
    monkeypatch.setattr(s3_module, "PART_SIZE", part)
    if learnt:
        assert await bucket.put("first", b"small") is not None
    calls = Calls(monkeypatch, backend_of(bucket)._s3, "create_multipart_upload", "upload_part",
                  "complete_multipart_upload", "put_object")
    total = 40 * MiB
    tracemalloc.reset_peak()
    obj = await bucket.put("big", pattern(total))
    assert obj is not None and obj.size == total and obj.etag == pattern_md5(total)
    head = await bucket.head("big")
    assert head is not None and head.etag == obj.etag and head.checksums.toJSON() == {"md5": obj.etag}
    assert len(calls.named("create_multipart_upload")) == 1 and not calls.named("put_object")
    assert len(calls.named("upload_part")) == 8 and len(calls.named("complete_multipart_upload")) == 1
    assert peak() < 3 * part  # one part uploading, the next filling: never the object

    got = await bucket.get("big")
    assert isinstance(got, R2ObjectBody)
    digest = hashlib.md5()
    tracemalloc.reset_peak()
    async for chunk in got.body:
        digest.update(chunk)
    assert digest.hexdigest() == pattern_md5(total)
    assert peak() < 4 * s3_module.READ_CHUNK  # a chunk at a time


async def test_a_stream_of_up_to_two_parts_is_one_put(bucket: R2Bucket, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(s3_module, "PART_SIZE", 5 * MiB)
    calls = Calls(monkeypatch, backend_of(bucket)._s3, "put_object", "create_multipart_upload", "copy_object")
    for size in (0, 3 * MiB, 10 * MiB):  # 10 MiB: exactly two parts, known only by reading one chunk ahead
        obj = await bucket.put(f"s{size}", pattern(size))
        assert obj is not None and obj.etag == pattern_md5(size)
    assert [kwargs["Body"] for kwargs, _ in calls.named("put_object")] == [0, 3 * MiB, 10 * MiB]
    assert calls.names() == ["put_object"] * 3  # no multipart, no metadata copy
    head = await bucket.head(f"s{10 * MiB}")
    assert head is not None and head.etag == pattern_md5(10 * MiB)


async def test_multipart_parts_are_equal_whatever_the_chunks(bucket: R2Bucket,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """R2's S3 API refuses non-final parts of different sizes: chunks that do not divide the part size are cut."""
    monkeypatch.setattr(s3_module, "PART_SIZE", 5 * MiB)
    calls = Calls(monkeypatch, backend_of(bucket)._s3, "upload_part")
    total = 17 * MiB + 12345
    obj = await bucket.put("odd", pattern(total, chunk=100_003))
    assert obj is not None and obj.etag == pattern_md5(total, chunk=100_003)
    assert [kwargs["Body"] for kwargs, _ in calls.named("upload_part")] == [5 * MiB] * 3 + [2 * MiB + 12345]
    got = await bucket.get("odd")
    assert isinstance(got, R2ObjectBody)
    assert hashlib.md5(await got.bytes()).hexdigest() == pattern_md5(total, chunk=100_003)


async def test_a_streamed_multipart_part_is_spooled_not_held(bucket: R2Bucket, monkeypatch: pytest.MonkeyPatch,
                                                             peak: Callable[[], int]) -> None:
    monkeypatch.setattr(s3_module, "SPOOL_MEMORY", MiB)  # parts go to 5 GiB: past this, they wait on disk
    upload = await bucket.createMultipartUpload("parts")
    size = 12 * MiB
    tracemalloc.reset_peak()
    first = await upload.uploadPart(1, pattern(size))
    assert peak() < 4 * MiB
    assert first["etag"] == pattern_md5(size)
    last = await upload.uploadPart(2, b"tail")  # a value already in memory goes as it is
    obj = await upload.complete([first, last])
    assert obj.size == size + 4
    end = b"".join([chunk async for chunk in pattern(size)])[-2:]
    assert await (await bucket.get("parts", range={"suffix": 6})).bytes() == end + b"tail"  # type: ignore[union-attr]


# -- the metadata stamp after a streamed put ------------------------------------------------------------

async def test_the_metadata_copy_is_conditional_on_our_upload(bucket: R2Bucket,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """After completing a streamed put, the md5 etag and checksums go on by copying the object onto itself, only
    if it is still the one we completed (CopySourceIfMatch = the ETag CompleteMultipartUpload returned)."""
    monkeypatch.setattr(s3_module, "PART_SIZE", 5 * MiB)
    calls = Calls(monkeypatch, backend_of(bucket)._s3, "complete_multipart_upload", "copy_object")
    obj = await bucket.put("k", pattern(11 * MiB), customMetadata={"who": "us"})
    assert obj is not None
    [(_, completed)] = calls.named("complete_multipart_upload")
    [(copy, _)] = calls.named("copy_object")
    assert copy["CopySourceIfMatch"] == completed["ETag"] and copy["MetadataDirective"] == "REPLACE"
    head = await bucket.head("k")
    assert head is not None and head.etag == pattern_md5(11 * MiB) and head.customMetadata == {"who": "us"}


async def test_a_write_between_completion_and_copy_keeps_its_own_metadata(
        bucket: R2Bucket, monkeypatch: pytest.MonkeyPatch) -> None:
    """Another writer lands right after our upload completes. S3 then refuses our conditional copy (412), so the
    newer object keeps its content and its metadata. moto ignores CopySourceIfMatch, so the wrapper below
    applies it as S3 does, against the real object's ETag."""
    monkeypatch.setattr(s3_module, "PART_SIZE", 5 * MiB)
    backend = backend_of(bucket)
    s3 = backend._s3

    def complete_then_race(real: Callable[..., Any], **kwargs: Any) -> Any:
        result = real(**kwargs)
        s3.put_object(Bucket=kwargs["Bucket"], Key=kwargs["Key"], Body=b"newer", Metadata={"who": "them"})
        return result

    def copy_as_s3_does(real: Callable[..., Any], **kwargs: Any) -> Any:
        current = s3.head_object(Bucket=kwargs["Bucket"], Key=kwargs["Key"])["ETag"]
        if current != kwargs["CopySourceIfMatch"]:
            raise ClientError({"Error": {"Code": "PreconditionFailed", "Message": "At least one of the "
                               "pre-conditions you specified did not hold"}}, "CopyObject")
        return real(**kwargs)

    calls = Calls(monkeypatch, s3, "complete_multipart_upload", "copy_object",
                  around={"complete_multipart_upload": complete_then_race, "copy_object": copy_as_s3_does})
    obj = await bucket.put("k", pattern(11 * MiB), customMetadata={"who": "us"})
    assert obj is not None and obj.etag == pattern_md5(11 * MiB)  # our write happened, then was superseded
    [(_, refused)] = calls.named("copy_object")
    assert isinstance(refused, ClientError)
    got = await bucket.get("k")
    assert isinstance(got, R2ObjectBody) and await got.bytes() == b"newer"
    assert got.customMetadata == {"who": "them"} and got.etag == hashlib.md5(b"newer").hexdigest()


# -- a value's MD5: computed while S3 stores it, read back from S3's ETag --------------------------------

def fields_sent(kwargs: dict[str, Any]) -> dict[str, Any]:
    """Our metadata fields in a PutObject's or CopyObject's arguments."""
    return dict(json.loads(unquote(kwargs["Metadata"][s3records.META])))


def disguised(etag: str) -> str:
    """An ETag as a store whose ETags are not MD5s gives it: still 32 hex digits, but not the MD5 (reversed)."""
    return f'"{etag.strip(chr(34))[::-1]}"'


def opaque_etags(s3: Any, sse: str | None = None) -> dict[str, Callable[..., Any]]:
    """``Calls`` wrappers turning moto into a store whose ETags are not the content's MD5 (SSE-KMS, a gateway):
    each ETag it answers is disguised and each it is given turned back, so conditions still work; ``sse`` adds
    the encryption header such objects carry. moto ignores CopySourceIfMatch: it is applied here as S3 does."""

    def call(real: Callable[..., Any], **kwargs: Any) -> Any:
        for name in ("IfMatch", "CopySourceIfMatch"):
            if name in kwargs:
                kwargs[name] = disguised(kwargs[name])  # reversing twice turns it back
        if "CopySourceIfMatch" in kwargs:
            current = real_head(Bucket=kwargs["Bucket"], Key=kwargs["Key"])["ETag"]
            if current != kwargs["CopySourceIfMatch"]:
                raise ClientError({"Error": {"Code": "PreconditionFailed", "Message": ""}}, "CopyObject")
        response = dict(real(**kwargs))
        if "ETag" in response:
            response["ETag"] = disguised(response["ETag"])
        if sse is not None:
            response["ServerSideEncryption"] = sse
        return response

    real_head = s3.head_object
    return {name: call for name in ("put_object", "head_object", "get_object", "copy_object")}


async def test_a_value_is_sent_while_its_md5_is_computed(bucket: R2Bucket, monkeypatch: pytest.MonkeyPatch) -> None:
    """Once the store's first PutObject showed its ETag to be the MD5, a value (or a short stream) goes to S3
    before its MD5 is known (the MD5 waits here until the PutObject has started) and its etag and checksums.md5
    are read from the ETag."""
    started = threading.Event()

    def send(real: Callable[..., Any], **kwargs: Any) -> Any:
        started.set()
        return real(**kwargs)

    real_update = streams.Hashing._update

    def update(self: streams.Hashing, chunk: bytes) -> None:
        if len(chunk) >= streams.THREAD_HASH_BYTES:  # on a thread: a serial MD5 would wait for nothing
            assert started.wait(10), "the MD5 was needed before the PutObject"
        real_update(self, chunk)

    calls = Calls(monkeypatch, backend_of(bucket)._s3, "put_object", "copy_object", around={"put_object": send})
    first = await bucket.put("first", b"small")  # hashed first: tells whether this store's ETags are MD5s
    assert first is not None and fields_sent(calls.named("put_object")[0][0])["e"] == md5_of(b"small")
    monkeypatch.setattr(streams.Hashing, "_update", update)
    data = b"v" * (3 * MiB)
    for key, value in (("k", data), ("streamed", pattern(len(data)))):  # a stream of up to two parts too
        started.clear()
        obj = await bucket.put(key, value, customMetadata={"who": "us"})
        expected = {"md5": hashlib.md5(data).hexdigest() if key == "k" else pattern_md5(len(data))}
        assert obj is not None and obj.etag == expected["md5"] and obj.checksums.toJSON() == expected
        sent = fields_sent(calls.named("put_object")[-1][0])
        assert "e" not in sent and "c" not in sent and sent["d"] == 1
        head = await bucket.head(key)
        assert head is not None and (head.etag, head.checksums.toJSON(), head.customMetadata) == (
            obj.etag, expected, {"who": "us"})
        got = await bucket.get(key)
        assert isinstance(got, R2ObjectBody) and got.etag == obj.etag and got.checksums.toJSON() == expected
        listed = (await bucket.list(prefix=key))["objects"]
        assert [(o.etag, o.checksums.toJSON()) for o in listed] == [(obj.etag, expected)]
    assert calls.names() == ["put_object"] * 3  # no metadata copy


async def test_a_store_whose_etags_are_not_md5s_gets_the_md5_up_front(bucket: R2Bucket,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    s3 = backend_of(bucket)._s3
    calls = Calls(monkeypatch, s3, "put_object", "head_object", "get_object", "copy_object",
                  around=opaque_etags(s3))
    for key, data in (("a", b"small"), ("b", b"w" * (3 * MiB))):
        obj = await bucket.put(key, data)
        assert obj is not None and obj.etag == md5_of(data)
        assert fields_sent(calls.named("put_object")[-1][0])["e"] == md5_of(data)  # hashed before it was sent
        head = await bucket.head(key)
        assert head is not None and head.etag == md5_of(data) and head.checksums.toJSON() == {"md5": md5_of(data)}
        assert head.httpEtag != calls.named("head_object")[-1][1]["ETag"]  # the store's own ETag is not used
    assert not calls.named("copy_object")


@pytest.mark.parametrize("sse", ["aws:kms", None])  # None: a gateway whose ETags are not MD5s, saying nothing
async def test_a_store_whose_etags_stop_being_md5s_gets_the_md5_recorded(
        bucket: R2Bucket, monkeypatch: pytest.MonkeyPatch, sse: str | None) -> None:
    """The bucket turns to SSE-KMS after the first put: the next value is sent before its MD5 is known, S3's
    ETag differs from it, so the MD5 goes on by a self-copy conditional on that ETag; then the backend hashes
    first. Between the put and the copy, an SSE-KMS object shows S3's ETag and no md5 checksum: never a wrong one.
    """
    assert await bucket.put("first", b"plain") is not None
    s3 = backend_of(bucket)._s3
    window: list[ObjectMeta] = []
    wrappers = opaque_etags(s3, sse)

    def copy(real: Callable[..., Any], **kwargs: Any) -> Any:
        window.append(s3records.object_meta(kwargs["Key"], s3.head_object(Bucket=kwargs["Bucket"],
                                                                          Key=kwargs["Key"])))
        return wrappers["copy_object"](real, **kwargs)

    calls = Calls(monkeypatch, s3, "put_object", "head_object", "copy_object",
                  around={**wrappers, "copy_object": copy})
    data = b"k" * (3 * MiB)
    obj = await bucket.put("k", data, customMetadata={"who": "us"})
    assert obj is not None and obj.etag == md5_of(data) and obj.checksums.toJSON() == {"md5": md5_of(data)}
    [(put, answer)] = calls.named("put_object")
    [(copy_args, copied)] = calls.named("copy_object")
    assert "e" not in fields_sent(put) and not isinstance(copied, Exception)
    assert copy_args["CopySourceIfMatch"] == answer["ETag"] != f'"{md5_of(data)}"'
    assert fields_sent(copy_args)["e"] == md5_of(data) and copy_args["MetadataDirective"] == "REPLACE"
    if sse is not None:
        assert window[0].etag == answer["ETag"].strip('"') and window[0].checksums == {}
    head = await bucket.head("k")
    assert head is not None and (head.etag, head.checksums.toJSON(), head.customMetadata) == (
        obj.etag, {"md5": md5_of(data)}, {"who": "us"})
    assert await bucket.put("k2", data) is not None
    assert fields_sent(calls.named("put_object")[-1][0])["e"] == md5_of(data) and len(calls.named("copy_object")) == 1


async def test_a_value_with_a_checksum_is_checked_before_it_is_sent(bucket: R2Bucket,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    assert await bucket.put("k", b"old") is not None  # the store's ETags are MD5s: values are sent at once
    calls = Calls(monkeypatch, backend_of(bucket)._s3, "put_object")
    data = b"n" * (3 * MiB)
    with pytest.raises(JsException, match=r"(?s)The SHA-256 checksum you specified did not match .* \(10037\)"):
        await bucket.put("k", data, sha256="0" * 64)
    assert not calls.named("put_object")
    assert await (await bucket.get("k")).bytes() == b"old"  # type: ignore[union-attr]
    obj = await bucket.put("k", data, sha256=hashlib.sha256(data).hexdigest())
    assert obj is not None and fields_sent(calls.named("put_object")[0][0])["c"] == obj.checksums.toJSON()


# -- one request where one is enough ---------------------------------------------------------------------

@pytest.mark.parametrize(("options", "expected", "requests"), [
    ({}, b"0123456789", 1),
    ({"range": {"offset": 2, "length": 3}}, b"234", 1),
    ({"range": {"offset": 7}}, b"789", 1),
    ({"range": {"suffix": 4}}, b"6789", 1),
    ({"range": {"suffix": 40}}, b"0123456789", 1),  # clamped by S3 as by R2
    ({"range": {"offset": 8, "length": 40}}, b"89", 1),
    ({"range": {"offset": 10}}, b"", 2),  # S3 answers 416 where R2 serves nothing: asked again, whole
    ({"range": {"offset": 11}}, None, 2),  # ... and where R2 refuses too
    ({"range": {"offset": 4, "length": 0}}, None, 1),  # R2's own error, from the size
])
async def test_a_ranged_get_is_one_request(bucket: R2Bucket, monkeypatch: pytest.MonkeyPatch,
                                           options: dict[str, Any], expected: bytes | None, requests: int) -> None:
    await bucket.put("digits", b"0123456789")
    calls = Calls(monkeypatch, backend_of(bucket)._s3, "get_object")
    if expected is None:
        with pytest.raises(JsException, match=r"get: The requested range is not satisfiable \(10039\)"):
            await bucket.get("digits", **options)
    else:
        got = await bucket.get("digits", **options)
        assert isinstance(got, R2ObjectBody) and await got.bytes() == expected and got.size == 10
    assert len(calls.named("get_object")) == requests


async def test_reading_a_whole_body_is_one_read(bucket: R2Bucket, monkeypatch: pytest.MonkeyPatch) -> None:
    await bucket.put("k", b"x" * (3 * s3_module.READ_CHUNK))
    got = await bucket.get("k")
    assert isinstance(got, R2ObjectBody)
    body = got.body._source
    reads: list[int | None] = []
    real = body._body.read  # type: ignore[union-attr]

    def read(amt: int | None = None) -> bytes:
        reads.append(amt)
        return bytes(real(amt))

    monkeypatch.setattr(body._body, "read", read)  # type: ignore[union-attr]
    assert len(await got.bytes()) == 3 * s3_module.READ_CHUNK
    assert reads == [None]  # one read of everything, in one thread call; not one per MiB and a join


async def test_multipart_on_a_store_whose_part_etags_are_not_md5s(bucket: R2Bucket,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """SSE-KMS buckets and some gateways answer UploadPart and ListParts with ETags that are not the part's MD5:
    the etag uploadPart returns must be the store's, or complete() refuses every part as not uploaded."""
    s3 = backend_of(bucket)._s3

    def disguise_answer(real: Callable[..., Any], **kwargs: Any) -> Any:
        response = dict(real(**kwargs))
        if "ETag" in response:
            response["ETag"] = disguised(response["ETag"])
        if "Parts" in response:
            response["Parts"] = [{**part, "ETag": disguised(part["ETag"])} for part in response["Parts"]]
        return response

    def complete(real: Callable[..., Any], **kwargs: Any) -> Any:
        parts = kwargs["MultipartUpload"]["Parts"]
        kwargs["MultipartUpload"] = {"Parts": [{**p, "ETag": disguised(p["ETag"])} for p in parts]}  # back
        return disguise_answer(real, **kwargs)

    Calls(monkeypatch, s3, "upload_part", "list_parts", "complete_multipart_upload",
          around={"upload_part": disguise_answer, "list_parts": disguise_answer,
                  "complete_multipart_upload": complete})
    first, last = b"a" * (5 * MiB), b"tail"
    upload = await bucket.createMultipartUpload("mp")
    parts = [await upload.uploadPart(1, first), await upload.uploadPart(2, last)]
    assert parts[0].etag == disguised(md5_of(first)).strip('"')  # the store's, not the MD5
    obj = await upload.complete(parts)
    assert obj.size == len(first) + len(last) and obj.etag.endswith("-2")
    got = await bucket.get("mp")
    assert isinstance(got, R2ObjectBody) and await got.bytes() == first + last

"""R2 on S3, what the conformance suite cannot see: which S3 calls are made, and how much memory streaming takes.

Calls are observed by wrapping the boto3 client's methods of one backend; every call still goes to the real
(moto) server. Memory is measured with tracemalloc, which sees every thread's Python allocations, boto3's too.
"""

from __future__ import annotations

import hashlib
import tracemalloc
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from portflare.backends import BackendTarget
from portflare.bindings.r2 import open_binding
from portflare.bindings.r2 import s3 as s3_module
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

async def test_a_streamed_put_and_get_hold_a_few_parts_at_most(bucket: R2Bucket, monkeypatch: pytest.MonkeyPatch,
                                                               peak: Callable[[], int]) -> None:
    part = 5 * MiB  # S3's smallest part, so 40 MiB is 8 of them
    monkeypatch.setattr(s3_module, "PART_SIZE", part)
    calls = Calls(monkeypatch, backend_of(bucket)._s3, "create_multipart_upload", "upload_part",
                  "complete_multipart_upload", "put_object")
    total = 40 * MiB
    obj = await bucket.put("big", pattern(total))
    assert obj is not None and obj.size == total and obj.etag == pattern_md5(total)
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

"""R2 binding overhead: put and get of 10 KB and 10 MB objects through ``env.BUCKET`` versus the raw layer.

* fs (embedded backend) versus raw file I/O (write a temp file + ``os.replace``; open + read);
* s3 (``s3://`` backend) versus the raw boto3 client (``put_object``; ``get_object`` + ``read()``), both on the
  same moto server on loopback, with the same client configuration. A 10 MB value is also put as a stream
  (64 KiB chunks, size unknown up front), which the binding sends as one PutObject since it ends within two
  8 MiB parts; its references are raw put_object and a raw multipart upload (what a raw client does with a
  stream of unknown size).

The binding also computes the MD5 etag (R2's contract: etag = md5 of the content) and, on fs, keeps an index;
both are part of what is measured. Puts are also compared with "raw+md5", the raw write plus the MD5 any
R2-compatible store must compute, one after the other; on s3 the binding computes the MD5 of a value in memory
while S3 stores it, so there it can beat "raw+md5" when a core is free (moto shares this machine's cores: on a
loaded machine the overlap shrinks). Each round runs every operation once in turn (so load from other
processes hits neighbours alike) and a ratio is taken within the round; printed are the median ratio and, in
brackets, the middle half of the rounds' ratios. Goals: <= 1.3x for 10 KB, <= 1.1x for 10 MB.

    .venv/bin/python bench/r2_bench.py [SCALE]     (rounds x SCALE/10; default 10)
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

from portflare.backends import BackendTarget
from portflare.bindings.r2 import open_binding
from portflare.bindings.r2.binding import R2Bucket

KB, MB = 1000, 1000 * 1000
SIZES = {"10 KB": (10 * KB, 400, 120), "10 MB": (10 * MB, 30, 24)}  # size, fs rounds, s3 rounds (x ROUNDS/10)
STREAM_CHUNK = 64 * 1024
S3_PART = 8 * 1024 * 1024  # the backend's part size, for the raw multipart reference

Op = Callable[[], Awaitable[Any]]


def sync(fn: Callable[[], Any]) -> Op:
    async def call() -> Any:
        return fn()
    return call


async def rounds(ops: dict[str, Op], count: int) -> dict[str, list[float]]:
    """Seconds each op took, per round; a round runs every op once, one after the other, so a burst of load
    from other processes lands on neighbours and the within-round ratio stays fair."""
    for op in ops.values():  # warm up
        await op()
    times: dict[str, list[float]] = {name: [] for name in ops}
    for _ in range(count):
        for name, op in ops.items():
            start = time.perf_counter()
            await op()
            times[name].append(time.perf_counter() - start)
    return times


def row(backend: str, label: str, op: str, times: dict[str, list[float]], ours: str, *refs: str) -> None:
    """The median time, and against each reference the median within-round ratio with its middle half."""
    line = f"{backend:<4} {label:>6} {op:<10} binding {statistics.median(times[ours]) * 1000:8.3f} ms"
    for ref in refs:
        ratios = [a / b for a, b in zip(times[ours], times[ref], strict=True)]
        low, mid, high = statistics.quantiles(ratios, n=4)
        line += f"   vs {ref:<13} {mid:5.2f}x ({low:4.2f}-{high:4.2f})"
    print(line, flush=True)


async def chunks(data: bytes) -> AsyncIterator[bytes]:
    view = memoryview(data)
    for start in range(0, len(data), STREAM_CHUNK):
        yield bytes(view[start:start + STREAM_CHUNK])


def binding_ops(bucket: R2Bucket, data: bytes) -> dict[str, Op]:
    async def put() -> None:
        await bucket.put("bench", data)

    async def get() -> None:
        obj: Any = await bucket.get("bench")
        await obj.bytes()

    async def put_stream() -> None:
        await bucket.put("bench-stream", chunks(data))

    return {"put": put, "get": get, "put stream": put_stream}


async def bench_fs(scale: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        bucket = await open_binding(BackendTarget(kind="r2", binding="B", resource="bench", state_dir=root))
        raw_root = root / "raw"
        raw_root.mkdir()
        target = raw_root / "object"
        try:
            for label, (size, n, _) in SIZES.items():
                n = n * scale // 10
                data = os.urandom(size)

                def raw_put(md5: bool = False, data: bytes = data) -> None:
                    tmp_path = raw_root / uuid.uuid4().hex
                    with open(tmp_path, "wb") as f:
                        f.write(data)
                    os.replace(tmp_path, target)
                    if md5:
                        hashlib.md5(data).hexdigest()

                def raw_get() -> None:
                    with open(target, "rb") as f:
                        f.read()

                ours = binding_ops(bucket, data)
                times = await rounds({"put": ours["put"], "raw": sync(raw_put), "raw+md5": sync(lambda: raw_put(True)),
                                      "get": ours["get"], "raw get": sync(raw_get)}, n)
                row("fs", label, "put", times, "put", "raw", "raw+md5")
                row("fs", label, "get", times, "get", "raw get")
        finally:
            await bucket._aclose()


async def bench_s3(scale: int) -> None:
    from portflare.bindings.r2.s3 import S3R2Backend
    from tests.s3server import moto_server, with_bucket

    with moto_server() as url:
        name = f"bench-{uuid.uuid4().hex[:12]}"
        bucket = await open_binding(BackendTarget(kind="r2", binding="B", resource=name, state_dir=Path("."),
                                                  url=with_bucket(url, name)))
        raw = S3R2Backend.from_url(with_bucket(url, f"{name}-raw"))  # the same client configuration
        client, raw_bucket = raw._s3, f"{name}-raw"
        client.create_bucket(Bucket=raw_bucket)
        try:
            for label, (size, _, n) in SIZES.items():
                n = n * scale // 10
                data = os.urandom(size)

                def raw_put(md5: bool = False, data: bytes = data) -> None:
                    if md5:
                        hashlib.md5(data).hexdigest()
                    client.put_object(Bucket=raw_bucket, Key="bench", Body=data)

                def raw_get() -> None:
                    client.get_object(Bucket=raw_bucket, Key="bench")["Body"].read()

                def raw_multipart(data: bytes = data) -> None:
                    upload = client.create_multipart_upload(Bucket=raw_bucket, Key="bench-mp")["UploadId"]
                    parts = []
                    for number, start in enumerate(range(0, len(data), S3_PART), 1):
                        answer = client.upload_part(Bucket=raw_bucket, Key="bench-mp", UploadId=upload,
                                                    PartNumber=number, Body=data[start:start + S3_PART])
                        parts.append({"PartNumber": number, "ETag": answer["ETag"]})
                    client.complete_multipart_upload(Bucket=raw_bucket, Key="bench-mp", UploadId=upload,
                                                     MultipartUpload={"Parts": parts})

                ours = binding_ops(bucket, data)
                ops = {"put": ours["put"], "raw": sync(raw_put), "raw+md5": sync(lambda: raw_put(True)),
                       "get": ours["get"], "raw get": sync(raw_get)}
                if size > S3_PART:
                    ops |= {"put stream": ours["put stream"], "raw multipart": sync(raw_multipart)}
                times = await rounds(ops, n)
                row("s3", label, "put", times, "put", "raw", "raw+md5")
                row("s3", label, "get", times, "get", "raw get")
                if size > S3_PART:
                    row("s3", label, "put stream", times, "put stream", "raw", "raw+md5", "raw multipart")
        finally:
            await bucket._backend.clear()  # type: ignore[attr-defined]
            await bucket._aclose()
            await raw.close()


async def main(scale: int) -> None:
    await bench_fs(scale)
    await bench_s3(scale)


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # tests.s3server
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 10))

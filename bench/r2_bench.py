"""R2 binding overhead: put and get of 10 KB and 10 MB objects through ``env.BUCKET`` versus the raw layer.

* fs (embedded backend) versus raw file I/O (write a temp file + ``os.replace``; open + read);
* s3 (``s3://`` backend) versus the raw boto3 client (``put_object``; ``get_object`` + ``read()``), both on the
  same moto server on loopback, with the same client configuration.

The binding also computes the MD5 etag (R2's contract: etag = md5 of the content) and, on fs, keeps an index;
both are part of what is measured. Puts are also compared with "raw+md5", the raw write plus the MD5 any
R2-compatible store must compute. Prints ms per operation (best of ROUNDS) and the ratios; goals: ≤ 1.3x for
10 KB, ≤ 1.1x for 10 MB.

    .venv/bin/python bench/r2_bench.py [ROUNDS]
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from portflare.backends import BackendTarget
from portflare.bindings.r2 import open_binding
from portflare.bindings.r2.binding import R2Bucket

SIZES = {"10 KB": (10 * 1024, 200, 60), "10 MB": (10 * 1024 * 1024, 10, 6)}  # size, fs ops, s3 ops per round


def _timed(fn: Callable[[], Any], n: int) -> float:
    start = time.perf_counter()
    for _ in range(n):
        fn()
    return (time.perf_counter() - start) / n


async def _atimed(fn: Callable[[], Awaitable[Any]], n: int) -> float:
    start = time.perf_counter()
    for _ in range(n):
        await fn()
    return (time.perf_counter() - start) / n


async def _binding(bucket: R2Bucket, data: bytes, n: int) -> tuple[float, float]:
    async def put() -> None:
        await bucket.put("bench", data)

    async def get() -> None:
        obj: Any = await bucket.get("bench")
        await obj.bytes()

    await put()
    await get()  # warm up
    return await _atimed(put, n), await _atimed(get, n)


def _raw_fs(root: Path, data: bytes, n: int, with_md5: bool = False) -> tuple[float, float]:
    target = root / "object"

    def put() -> None:
        tmp = root / uuid.uuid4().hex
        with open(tmp, "wb") as f:
            f.write(data)
        os.replace(tmp, target)
        if with_md5:
            hashlib.md5(data).hexdigest()

    def get() -> None:
        with open(target, "rb") as f:
            f.read()

    put()
    get()
    return _timed(put, n), _timed(get, n)


def _raw_s3(client: Any, bucket: str, data: bytes, n: int, with_md5: bool = False) -> tuple[float, float]:
    def put() -> None:
        if with_md5:
            hashlib.md5(data).hexdigest()
        client.put_object(Bucket=bucket, Key="bench", Body=data)

    def get() -> None:
        client.get_object(Bucket=bucket, Key="bench")["Body"].read()

    put()
    get()
    return _timed(put, n), _timed(get, n)


def _row(backend: str, label: str, op: str, ours: float, raw: float, raw_md5: float | None = None) -> None:
    extra = "" if raw_md5 is None else (f"   raw+md5 {raw_md5 * 1000:9.3f} ms   ratio {ours / raw_md5:5.2f}x")
    print(f"{backend:<4} {label:>6} {op:<4} binding {ours * 1000:9.3f} ms   raw {raw * 1000:9.3f} ms   "
          f"ratio {ours / raw:5.2f}x{extra}")


def _best(results: list[tuple[float, float]]) -> tuple[float, float]:
    return min(r[0] for r in results), min(r[1] for r in results)


async def bench_fs(rounds: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        bucket = await open_binding(BackendTarget(kind="r2", binding="B", resource="bench", state_dir=root))
        raw_root = root / "raw"
        raw_root.mkdir()
        try:
            for label, (size, n, _) in SIZES.items():
                data = os.urandom(size)
                ours = _best([await _binding(bucket, data, n) for _ in range(rounds)])
                raw = _best([_raw_fs(raw_root, data, n) for _ in range(rounds)])
                raw_md5 = _best([_raw_fs(raw_root, data, n, with_md5=True) for _ in range(rounds)])
                _row("fs", label, "put", ours[0], raw[0], raw_md5[0])
                _row("fs", label, "get", ours[1], raw[1])
        finally:
            await bucket._aclose()


async def bench_s3(rounds: int) -> None:
    from portflare.bindings.r2.s3 import S3R2Backend
    from tests.s3server import moto_server, with_bucket

    with moto_server() as url:
        name = f"bench-{uuid.uuid4().hex[:12]}"
        bucket = await open_binding(BackendTarget(kind="r2", binding="B", resource=name, state_dir=Path("."),
                                                  url=with_bucket(url, name)))
        raw = S3R2Backend.from_url(with_bucket(url, f"{name}-raw"))  # the same client configuration
        client = raw._s3
        client.create_bucket(Bucket=f"{name}-raw")
        try:
            for label, (size, _, n) in SIZES.items():
                data = os.urandom(size)
                ours = _best([await _binding(bucket, data, n) for _ in range(rounds)])
                base = _best([_raw_s3(client, f"{name}-raw", data, n) for _ in range(rounds)])
                base_md5 = _best([_raw_s3(client, f"{name}-raw", data, n, with_md5=True) for _ in range(rounds)])
                _row("s3", label, "put", ours[0], base[0], base_md5[0])
                _row("s3", label, "get", ours[1], base[1])
        finally:
            await bucket._aclose()
            await raw.close()


async def main(rounds: int) -> None:
    await bench_fs(rounds)
    await bench_s3(rounds)


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # tests.s3server
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 3))

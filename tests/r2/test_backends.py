"""Backend specifics the conformance suite cannot see: URLs, on-disk layout, recovery."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from portflare.backends import BackendTarget
from portflare.bindings.r2 import open_binding
from portflare.bindings.r2.fs import FsR2Backend, bucket_dir
from portflare.bindings.r2.s3 import S3R2Backend
from portflare.errors import BackendError, JsException


def target(tmp_path: Path, url: str | None = None, resource: str = "media") -> BackendTarget:
    return BackendTarget(kind="r2", binding="MEDIA", resource=resource, state_dir=tmp_path, url=url)


def test_bucket_dirs(tmp_path: Path) -> None:
    assert bucket_dir(target(tmp_path)) == tmp_path / "r2" / "media"
    assert bucket_dir(target(tmp_path, resource="../../x")) == tmp_path / "r2" / "_.._x"
    assert bucket_dir(target(tmp_path, f"file://{tmp_path}/elsewhere")) == tmp_path / "elsewhere"
    with pytest.raises(BackendError, match="file URL needs a directory"):
        bucket_dir(target(tmp_path, "file://"))


async def test_file_url_roots_the_bucket(tmp_path: Path) -> None:
    bucket = await open_binding(target(tmp_path, f"file://{tmp_path}/store"))
    try:
        await bucket.put("k", "v")
        assert (tmp_path / "store" / "index.sqlite").exists()
    finally:
        await bucket._aclose()


async def test_missing_blob_is_an_error_not_a_loop(tmp_path: Path) -> None:
    bucket = await open_binding(target(tmp_path))
    try:
        obj = await bucket.put("k", "v")
        assert obj is not None
        backend = bucket._backend
        assert isinstance(backend, FsR2Backend)
        meta = await backend.head("k")
        assert meta is not None
        os.unlink(backend._blob(meta.token))
        with pytest.raises(JsException, match=r"get: We encountered an internal error. Please try again. \(10001\)"):
            await bucket.get("k")
    finally:
        await bucket._aclose()


async def test_bad_input_leaves_no_temp_files(tmp_path: Path) -> None:
    bucket = await open_binding(target(tmp_path))
    try:
        with pytest.raises(JsException, match="10037"):
            await bucket.put("k", b"data", md5="0" * 32)
        assert list((tmp_path / "r2" / "media" / "tmp").iterdir()) == []
        assert not any(p.is_file() for p in (tmp_path / "r2" / "media" / "blobs").rglob("*"))
    finally:
        await bucket._aclose()


@pytest.mark.parametrize(("url", "endpoint", "bucket", "region"), [
    ("s3://AK:S%2FK@127.0.0.1:9000/media?secure=false", "http://127.0.0.1:9000", "media", "us-east-1"),
    ("s3://AK:SK@minio.local/b2?region=eu-west-1", "https://minio.local", "b2", "eu-west-1"),
    ("s3:///from-path", None, "from-path", "us-east-1"),
    ("s3://AK:SK@host:1", "https://host:1", "default-bucket", "us-east-1"),
])
async def test_s3_urls(url: str, endpoint: str | None, bucket: str, region: str) -> None:
    backend = S3R2Backend.from_url(url, default_bucket="default-bucket")
    try:
        assert backend._bucket == bucket
        assert backend._s3.meta.region_name == region
        if endpoint is not None:
            assert backend._s3.meta.endpoint_url == endpoint
        if "S%2FK" in url:
            assert backend._s3._request_signer._credentials.secret_key == "S/K"
    finally:
        await backend.close()


def test_s3_url_needs_one_bucket() -> None:
    with pytest.raises(BackendError, match=r"PORTFLARE_R2=s3://AK:\*\*\*@h/a/b: name one bucket"):
        S3R2Backend.from_url("s3://AK:SK@h/a/b")

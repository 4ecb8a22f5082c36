"""``portflare migrate r2``: directory → embedded R2 → S3 (moto) → fresh embedded R2, resume, --delete, failures."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import json
import os
import tracemalloc
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from click.testing import CliRunner, Result

from portflare.backends import BackendTarget
from portflare.bindings.r2 import open_binding
from portflare.bindings.r2.base import ObjectMeta
from portflare.bindings.r2.binding import R2Bucket
from portflare.bindings.r2.fs import FsR2Backend
from portflare.bindings.r2.objects import R2ObjectBody
from portflare.bindings.r2.streams import Hashing
from portflare.cli.main import cli
from portflare.migrate.r2 import BackendStore, DirStore, copy_objects, open_store, same_content
from tests.s3server import ACCESS_KEY, SECRET_KEY, with_bucket

MB = 1024 * 1024
TOML = """
name = "media-app"
main = "src/entry.py"
compatibility_date = "2024-09-23"

[[r2_buckets]]
binding = "MEDIA"
bucket_name = "media"
"""



@pytest.fixture
def s3_bucket(s3_server: str) -> str:
    return with_bucket(s3_server, f"mig-{uuid.uuid4().hex[:16]}")


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """CLI options naming a project with an R2 binding MEDIA (bucket "media"), state in tmp_path/state."""
    monkeypatch.delenv("PORTFLARE_MEDIA", raising=False)
    monkeypatch.delenv("PORTFLARE_PROGRESS", raising=False)
    root = tmp_path / "project"
    root.mkdir()
    (root / "wrangler.toml").write_text(TOML)
    return ["-c", str(root), "--persist-to", str(tmp_path / "state")]


FILES: dict[str, bytes] = {
    "index.html": b"<!doctype html><h1>hi</h1>",
    "css/site.css": b"body { color: #333 }",
    "img/logo.png": bytes(range(256)) * 40,
    "docs/ünï cödé.txt": "héllo wörld".encode(),
    "empty.bin": b"",
    "no_extension": b"plain",
    "a/b/c/deep.json": b'{"deep": true}',
}


@pytest.fixture
def site(tmp_path: Path) -> Path:
    root = tmp_path / "site"
    for key, data in FILES.items():
        path = root / key
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return root


def migrate(*args: str, code: int = 0) -> dict[str, Any]:
    result: Result = CliRunner().invoke(cli, ["migrate", "r2", *args, "--json"])
    assert result.exit_code == code, (result.output, result.exception)
    report: dict[str, Any] = json.loads(result.stdout)
    return report


def embedded(tmp_path: Path) -> BackendTarget:
    return BackendTarget(kind="r2", binding="MEDIA", resource="media", state_dir=tmp_path / "state")


def by_url(url: str) -> BackendTarget:
    return BackendTarget(kind="r2", binding="CHECK", resource="", state_dir=Path("/nonexistent"), url=url)


async def snapshot(target: BackendTarget) -> dict[str, dict[str, Any]]:
    """Every object as the Worker's binding sees it: metadata fields plus the body's md5."""
    bucket: R2Bucket = await open_binding(target)
    try:
        seen: dict[str, dict[str, Any]] = {}
        cursor = None
        while True:
            page = await bucket.list(cursor=cursor, include=["httpMetadata", "customMetadata"])
            for obj in page["objects"]:
                body = await bucket.get(obj.key)
                assert isinstance(body, R2ObjectBody)
                seen[obj.key] = {"size": obj.size, "etag": obj.etag, "version": obj.version,
                                 "uploaded": obj.uploaded, "http": dict(obj.httpMetadata or {}),
                                 "custom": dict(obj.customMetadata or {}), "checksums": obj.checksums.toJSON(),
                                 "storageClass": obj.storageClass,
                                 "md5": hashlib.md5(await body.bytes()).hexdigest()}
            if not page["truncated"]:
                return seen
            cursor = page["cursor"]
    finally:
        await bucket._aclose()


async def put(target: BackendTarget, key: str, value: bytes, **options: Any) -> None:
    bucket = await open_binding(target)
    try:
        await bucket.put(key, value, **options)
    finally:
        await bucket._aclose()


async def head(target: BackendTarget, key: str) -> Any:
    bucket = await open_binding(target)
    try:
        return await bucket.head(key)
    finally:
        await bucket._aclose()


def test_directory_to_r2_to_s3_to_fresh_r2_keeps_content_and_metadata(
        site: Path, project: list[str], tmp_path: Path, s3_bucket: str) -> None:
    big = os.urandom(12 * MB + 123)  # over the S3 backend's 8 MiB part: a streamed multipart put on S3
    (site / "video").mkdir()
    (site / "video" / "big.mp4").write_bytes(big)
    files = {**FILES, "video/big.mp4": big}

    first = migrate("--from", str(site), "--to", "r2:MEDIA", *project)
    assert first["copied"] == len(files) and first["skipped"] == 0 and first["failures"] == []
    assert first["bytes"] == sum(map(len, files.values()))

    r2 = embedded(tmp_path)
    cache_expiry = dt.datetime(2031, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
    asyncio.run(put(r2, "meta/report.pdf", b"%PDF-1.7 ...", sha256=hashlib.sha256(b"%PDF-1.7 ...").hexdigest(),
                    httpMetadata={"contentType": "application/pdf", "contentLanguage": "de-DE",
                                  "contentDisposition": 'attachment; filename="r.pdf"', "contentEncoding": "identity",
                                  "cacheControl": "max-age=60", "cacheExpiry": cache_expiry},
                    customMetadata={"Author": "Ada", "x-Mixed_Case": "Ünïcode ✓"}))
    source = asyncio.run(snapshot(r2))
    assert {k: v["md5"] for k, v in source.items() if k in files} == {
        k: hashlib.md5(v).hexdigest() for k, v in files.items()}
    assert source["index.html"]["http"] == {"contentType": "text/html"}
    assert source["img/logo.png"]["http"] == {"contentType": "image/png"}
    assert source["no_extension"]["http"] == {}

    to_s3 = migrate("--from", "r2:MEDIA", "--to", s3_bucket, "--concurrency", "4", *project)
    assert to_s3["copied"] == len(source) and to_s3["failures"] == []
    fresh = f"file://{tmp_path / 'fresh'}"
    back = migrate("--from", s3_bucket, "--to", fresh)
    assert back["copied"] == len(source) and back["failures"] == []

    on_s3 = asyncio.run(snapshot(by_url(s3_bucket)))
    again = asyncio.run(snapshot(by_url(fresh)))
    assert on_s3 == source
    assert again == source
    assert again["meta/report.pdf"]["custom"] == {"Author": "Ada", "x-Mixed_Case": "Ünïcode ✓"}
    assert again["meta/report.pdf"]["http"]["cacheExpiry"] == cache_expiry
    assert set(again["meta/report.pdf"]["checksums"]) == {"md5", "sha256"}

    # A second run of every hop copies nothing.
    for args in (("--from", str(site), "--to", "r2:MEDIA", *project),
                 ("--from", "r2:MEDIA", "--to", s3_bucket, *project),
                 ("--from", s3_bucket, "--to", fresh)):
        rerun = migrate(*args)
        assert rerun["copied"] == 0 and rerun["bytes"] == 0, args
        assert rerun["skipped"] == rerun["objects"] > 0


def test_changed_objects_are_copied_again(site: Path, project: list[str], tmp_path: Path) -> None:
    migrate("--from", str(site), "--to", "r2:MEDIA", *project)
    (site / "css" / "site.css").write_bytes(b"body { color: #444 }")  # same size, other content
    (site / "index.html").write_bytes(b"<h1>longer than before, so another size</h1>")
    os.utime(site / "no_extension", (1, 1))  # only the mtime: content unchanged, not copied
    report = migrate("--from", str(site), "--to", "r2:MEDIA", *project)
    assert sorted(report["copied_keys"]) == ["css/site.css", "index.html"]
    assert report["skipped"] == len(FILES) - 2
    objects = asyncio.run(snapshot(embedded(tmp_path)))
    assert objects["css/site.css"]["md5"] == hashlib.md5(b"body { color: #444 }").hexdigest()


def test_delete_removes_target_objects_missing_from_the_source(site: Path, project: list[str],
                                                               tmp_path: Path) -> None:
    r2 = embedded(tmp_path)
    migrate("--from", str(site), "--to", "r2:MEDIA", *project)
    asyncio.run(put(r2, "css/old.css", b"old"))
    asyncio.run(put(r2, "elsewhere/keep.txt", b"outside the prefix"))

    assert migrate("--from", str(site), "--to", "r2:MEDIA", *project)["deleted"] == 0
    dry = migrate("--from", str(site), "--to", "r2:MEDIA", "--delete", "--dry-run", "--prefix", "css/", *project)
    assert dry["deleted_keys"] == ["css/old.css"] and dry["dry_run"]
    assert asyncio.run(head(r2, "css/old.css")) is not None
    report = migrate("--from", str(site), "--to", "r2:MEDIA", "--delete", "--prefix", "css/", *project)
    assert report["deleted_keys"] == ["css/old.css"] and report["objects"] == 1
    assert asyncio.run(head(r2, "css/old.css")) is None
    assert asyncio.run(head(r2, "elsewhere/keep.txt")) is not None  # outside --prefix
    everything = migrate("--from", str(site), "--to", "r2:MEDIA", "--delete", *project)
    assert everything["deleted_keys"] == ["elsewhere/keep.txt"]
    assert set(asyncio.run(snapshot(r2))) == set(FILES)


def test_dry_run_writes_nothing(site: Path, project: list[str], tmp_path: Path) -> None:
    report = migrate("--from", f"dir://{site}", "--to", "r2:MEDIA", "--dry-run", *project)
    assert report["copied"] == len(FILES) and report["dry_run"]
    assert asyncio.run(snapshot(embedded(tmp_path))) == {}


def test_a_failed_object_exits_non_zero_and_a_rerun_completes(site: Path, project: list[str], tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    real_put = FsR2Backend.put

    async def failing_put(self: FsR2Backend, new: Any, body: Any, condition: Any) -> Any:
        if new.key == "img/logo.png":
            async def half_then_fail() -> AsyncIterator[bytes]:
                async for chunk in body:
                    yield chunk[: len(chunk) // 2]
                    raise OSError("disk on fire (injected)")
            return await real_put(self, new, Hashing("put", half_then_fail()), condition)
        return await real_put(self, new, body, condition)

    monkeypatch.setattr(FsR2Backend, "put", failing_put)
    failed = migrate("--from", str(site), "--to", "r2:MEDIA", *project, code=1)
    assert [f["key"] for f in failed["failures"]] == ["img/logo.png"]
    assert "disk on fire" in failed["failures"][0]["error"]
    assert failed["copied"] == len(FILES) - 1
    assert asyncio.run(head(embedded(tmp_path), "img/logo.png")) is None  # nothing half-written

    monkeypatch.setattr(FsR2Backend, "put", real_put)
    rerun = migrate("--from", str(site), "--to", "r2:MEDIA", *project)
    assert rerun["copied_keys"] == ["img/logo.png"] and rerun["skipped"] == len(FILES) - 1


def test_text_output_and_exit_code_on_failure(site: Path, project: list[str],
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    async def broken(self: DirStore, key: str) -> Any:
        raise PermissionError(f"cannot read {key}")

    monkeypatch.setattr(DirStore, "read", broken)
    result = CliRunner().invoke(cli, ["migrate", "r2", "--from", str(site), "--to", "r2:MEDIA", *project])
    assert result.exit_code == 1
    assert "0 objects copied (0 B), 0 already identical, 0 deleted" in result.stdout
    assert "✘ a/b/c/deep.json: PermissionError: cannot read a/b/c/deep.json" in result.stderr


def test_r2_to_a_directory_and_back(site: Path, project: list[str], tmp_path: Path) -> None:
    migrate("--from", str(site), "--to", "r2:MEDIA", *project)
    out = tmp_path / "out"
    assert migrate("--from", "r2:MEDIA", "--to", f"dir://{out}", *project)["copied"] == len(FILES)
    assert {p.relative_to(out).as_posix(): p.read_bytes() for p in out.rglob("*") if p.is_file()} == FILES
    assert migrate("--from", "r2:MEDIA", "--to", f"dir://{out}", *project)["skipped"] == len(FILES)
    (out / "x" / "y").mkdir(parents=True)
    (out / "x" / "y" / "stale.txt").write_text("stale")
    report = migrate("--from", "r2:MEDIA", "--to", str(out), "--delete", *project)
    assert report["deleted_keys"] == ["x/y/stale.txt"] and not (out / "x").exists()


def test_objects_written_by_other_s3_clients(s3_bucket: str, tmp_path: Path) -> None:
    """A plain S3 object (native Content-Type, x-amz-meta-*) reads as an R2 object; its single-part ETag is an MD5,
    so a re-run skips it."""
    from urllib.parse import urlsplit

    parts = urlsplit(s3_bucket)
    s3 = boto3.client("s3", endpoint_url=f"http://{parts.hostname}:{parts.port}", region_name="us-east-1",
                      aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY)
    bucket = parts.path.strip("/")
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="legacy/photo.jpg", Body=b"\xff\xd8jpeg", ContentType="image/jpeg",
                  CacheControl="no-cache", Metadata={"owner": "bob"})
    target = f"file://{tmp_path / 'r2'}"
    assert migrate("--from", s3_bucket, "--to", target)["copied"] == 1
    obj = asyncio.run(snapshot(by_url(target)))["legacy/photo.jpg"]
    assert obj["http"] == {"contentType": "image/jpeg", "cacheControl": "no-cache"}
    assert obj["custom"] == {"owner": "bob"} and obj["md5"] == hashlib.md5(b"\xff\xd8jpeg").hexdigest()
    assert migrate("--from", s3_bucket, "--to", target)["skipped"] == 1
    s3.close()


def _meta(etag: str, size: int = 10, checksums: dict[str, str] | None = None) -> ObjectMeta:
    return ObjectMeta(key="k", version="v", size=size, etag=etag, uploaded_ms=0, checksums=checksums or {})


async def test_skip_rule_with_multipart_etags(tmp_path: Path) -> None:
    store = BackendStore(FsR2Backend.at(tmp_path / "r2"), "test")
    md5 = hashlib.md5(b"0123456789").hexdigest()
    multipart = hashlib.md5(b"parts").hexdigest() + "-2"
    try:
        assert await same_content(store, _meta(md5), store, _meta(md5))
        assert not await same_content(store, _meta(md5), store, _meta(md5, size=11))
        assert not await same_content(store, _meta(md5), store, _meta("f" * 32))
        # a multipart ETag is no MD5 of the content: compare stored md5 checksums, else copy again
        assert not await same_content(store, _meta(multipart), store, _meta(md5, checksums={"md5": md5}))
        assert await same_content(store, _meta(multipart, checksums={"md5": md5}), store,
                                  _meta(md5, checksums={"md5": md5}))
        assert await same_content(store, _meta(md5), store, _meta(multipart, checksums={"md5": md5}))
        assert not await same_content(store, _meta(multipart), store, _meta(multipart))
    finally:
        await store.close()


async def test_a_large_object_streams_in_bounded_memory(tmp_path: Path) -> None:
    root = tmp_path / "big"
    root.mkdir()
    data = os.urandom(12 * MB)
    (root / "big.bin").write_bytes(data)
    del data
    source = await open_store(str(root), source=True)
    target = await open_store(f"file://{tmp_path / 'r2'}", source=False)
    try:
        tracemalloc.start()
        report = await copy_objects(source, target)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    finally:
        await source.close()
        await target.close()
    assert report.copied == 1 and report.bytes == 12 * MB
    # Up to four 1 MiB chunks are alive at once (the one being read while the reader still holds the last, one
    # hashed on a thread, one being written), plus allocator slack: 4 MiB was at the edge and failed about one
    # run in ten. Half the object still fails at once if it is ever held whole.
    assert peak < 6 * MB, f"peak {peak / MB:.1f} MiB: the object was held whole"


def test_bad_endpoints_are_refused(tmp_path: Path, project: list[str]) -> None:
    runner = CliRunner()
    result = runner.invoke(cli, ["migrate", "r2", "--from", f"file://{tmp_path}/nothing", "--to", str(tmp_path)])
    assert result.exit_code == 1 and "no embedded R2 store there" in result.stderr
    result = runner.invoke(cli, ["migrate", "r2", "--from", str(tmp_path / "missing"), "--to", str(tmp_path)])
    assert result.exit_code == 1 and "not a directory" in result.stderr
    result = runner.invoke(cli, ["migrate", "r2", "--from", "gopher://x", "--to", str(tmp_path)])
    assert result.exit_code == 1 and "unknown object store" in result.stderr
    result = runner.invoke(cli, ["migrate", "r2", "--from", "r2:NOPE", "--to", str(tmp_path), *project])
    assert result.exit_code == 1 and "no R2 bucket named 'NOPE'" in result.stderr

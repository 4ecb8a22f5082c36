"""R2 on any S3-compatible store (AWS S3, MinIO, Ceph RGW, R2 itself), through boto3.

URL: ``s3://ACCESS_KEY:SECRET@host:port/bucket?region=us-east-1&secure=false`` (path-style addressing;
``secure`` defaults to true; no host means AWS; no credentials means boto3's usual chain; no bucket means the
wrangler ``bucket_name``). The bucket is created if missing.

What S3 cannot hold natively (R2's version, upload time in ms, md5/sha checksums, storage class, case-sensitive
custom metadata) travels in one user-metadata header, ``x-amz-meta-r2`` (percent-encoded JSON); HTTP metadata is
also set as the native Content-Type, Cache-Control, ... so other S3 clients see it. Objects written by other
tools read as R2 objects too (etag from the S3 ETag, custom metadata from their ``x-amz-meta-*``).

boto3 is synchronous: every call runs in this backend's thread pool, and bodies stream chunk by chunk — a
streamed put larger than one part becomes an S3 multipart upload, so no object is ever held whole.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import functools
import json
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import parse_qs, quote, unquote, urlsplit

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from portflare.backends import BackendTarget, env_var_for, redact
from portflare.bindings.r2 import validate as v
from portflare.bindings.r2.base import (
    Condition,
    HashingStream,
    ListPage,
    NewObject,
    ObjectMeta,
    PartInfo,
    Read,
    ReadPlan,
    Upload,
)
from portflare.errors import BackendError

PART_SIZE = 8 * 1024 * 1024  # streamed puts: one S3 part, and the most a put holds in memory before uploading
READ_CHUNK = 1024 * 1024
READ_ATTEMPTS = 5  # a ranged get racing with writers of the same key starts over at most this often
THREADS = 16
META = "r2"  # the user-metadata key holding R2's own fields
_NATIVE = {"contentType": "ContentType", "contentLanguage": "ContentLanguage",
           "contentDisposition": "ContentDisposition", "contentEncoding": "ContentEncoding",
           "cacheControl": "CacheControl"}
_MISSING = ("404", "NoSuchKey", "NotFound")
_CHANGED = ("412", "PreconditionFailed")


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


@contextlib.contextmanager
def map_s3_errors(op: str) -> Iterator[None]:
    """Translate driver errors at the edge: R2's wording where S3 has a counterpart, else R2's internal error
    with the S3 error chained (logged by the runtime, never swallowed)."""
    try:
        yield
    except ClientError as exc:
        code = _code(exc)
        known = {"NoSuchUpload": v.NO_SUCH_UPLOAD, "InvalidPart": v.INVALID_PART,
                 "InvalidPartOrder": v.INVALID_PART, "EntityTooSmall": v.ENTITY_TOO_SMALL,
                 "EntityTooLarge": v.ENTITY_TOO_LARGE, "MetadataTooLarge": v.METADATA_TOO_LARGE,
                 "KeyTooLongError": v.INVALID_OBJECT_NAME, "InvalidRange": v.INVALID_RANGE}
        raise v.r2_error(op, known.get(code, v.INTERNAL_ERROR)) from exc
    except BotoCoreError as exc:
        raise v.r2_error(op, v.INTERNAL_ERROR) from exc


def _encode_meta(fields: dict[str, Any]) -> dict[str, str]:
    text = json.dumps(fields, separators=(",", ":"), ensure_ascii=False)
    return {META: quote(text, safe="{}[]\":,@/+=-_.~ ")}


def _put_args(new: NewObject, extra: dict[str, Any]) -> dict[str, Any]:
    args: dict[str, Any] = {native: new.http_metadata[name] for name, native in _NATIVE.items()
                            if name in new.http_metadata}
    if "cacheExpiry" in new.http_metadata:
        args["Expires"] = dt.datetime.fromtimestamp(int(new.http_metadata["cacheExpiry"]) / 1000, tz=dt.UTC)
    fields = {"v": new.version, "h": new.http_metadata, "m": new.custom_metadata, "s": new.storage_class, **extra}
    args["Metadata"] = _encode_meta(fields)
    return args


def _meta(key: str, head: dict[str, Any]) -> ObjectMeta:
    raw_etag = str(head.get("ETag", '""'))
    modified = head.get("LastModified")
    modified_ms = int(modified.timestamp() * 1000) if isinstance(modified, dt.datetime) else 0
    user: dict[str, str] = dict(head.get("Metadata") or {})
    encoded = user.pop(META, None)
    if encoded is None:  # written by another S3 client
        http = {name: str(head[native]) for name, native in _NATIVE.items() if head.get(native)}
        return ObjectMeta(key=key, version=str(head.get("VersionId") or raw_etag.strip('"')),
                          size=int(head.get("ContentLength", 0)), etag=raw_etag.strip('"'), uploaded_ms=modified_ms,
                          http_metadata=http, custom_metadata=user, token=raw_etag)
    fields = json.loads(unquote(encoded))
    return ObjectMeta(key=key, version=fields["v"], size=int(head.get("ContentLength", 0)),
                      etag=fields.get("e") or raw_etag.strip('"'), uploaded_ms=int(fields.get("u") or modified_ms),
                      http_metadata=fields.get("h", {}), custom_metadata=fields.get("m", {}),
                      checksums=fields.get("c", {}), storage_class=fields.get("s", "Standard"), token=raw_etag)


class S3R2Backend:
    def __init__(self, client: Any, bucket: str, *, threads: int = THREADS) -> None:
        self._s3 = client
        self._bucket = bucket
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="portflare-r2-s3")

    @classmethod
    async def open(cls, target: BackendTarget) -> S3R2Backend:
        backend = cls.from_url(target.url or "", default_bucket=target.resource, binding=target.binding)
        await backend.ensure_bucket()
        return backend

    @classmethod
    def from_url(cls, url: str, *, default_bucket: str = "", binding: str = "R2") -> S3R2Backend:
        parts = urlsplit(url)
        query = {k: vals[-1] for k, vals in parse_qs(parts.query).items()}
        secure = query.get("secure", "true").lower() not in ("false", "0", "no")
        bucket = unquote(parts.path.strip("/")) or default_bucket
        if not bucket or "/" in bucket:
            raise BackendError(f"{env_var_for(binding)}={redact(url)}: name one bucket, "
                               "e.g. s3://KEY:SECRET@localhost:9000/media")
        endpoint = None
        if parts.hostname:
            host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
            endpoint = f"{'https' if secure else 'http'}://{host}{f':{parts.port}' if parts.port else ''}"
        client = boto3.session.Session().client(
            "s3", endpoint_url=endpoint, region_name=query.get("region", "us-east-1"),
            aws_access_key_id=unquote(parts.username) if parts.username else None,
            aws_secret_access_key=unquote(parts.password) if parts.password else None,
            config=Config(s3={"addressing_style": "path"}, max_pool_connections=THREADS * 2,
                          retries={"max_attempts": 3, "mode": "standard"},
                          request_checksum_calculation="when_required",
                          response_checksum_validation="when_required"))
        return cls(client, bucket)

    async def _call(self, fn: Callable[..., Any], **kwargs: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(self._pool, functools.partial(fn, **kwargs))

    async def ensure_bucket(self) -> None:
        try:
            await self._call(self._s3.head_bucket, Bucket=self._bucket)
            return
        except ClientError as exc:
            if _code(exc) not in _MISSING and _code(exc) != "NoSuchBucket":
                raise BackendError(f"S3 bucket {self._bucket}: {exc}") from exc
        except BotoCoreError as exc:
            raise BackendError(f"S3 bucket {self._bucket}: {exc}") from exc
        region = self._s3.meta.region_name
        args: dict[str, Any] = {"Bucket": self._bucket}
        if region and region != "us-east-1":
            args["CreateBucketConfiguration"] = {"LocationConstraint": region}
        try:
            await self._call(self._s3.create_bucket, **args)
        except ClientError as exc:
            if _code(exc) not in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
                raise BackendError(f"S3 bucket {self._bucket}: {exc}") from exc

    # -- objects ------------------------------------------------------------------------------------------
    async def head(self, key: str, op: str = "head") -> ObjectMeta | None:
        with map_s3_errors(op):
            try:
                return _meta(key, await self._call(self._s3.head_object, Bucket=self._bucket, Key=key))
            except ClientError as exc:
                if _code(exc) in _MISSING:
                    return None
                raise

    async def get(self, key: str, plan: ReadPlan) -> Read | None:
        # One GetObject serves the usual whole-object read; a range needs the size first, so it is a second,
        # ranged request pinned to the same version with If-Match.
        with map_s3_errors("get"):
            for _ in range(READ_ATTEMPTS):
                try:
                    response = await self._call(self._s3.get_object, Bucket=self._bucket, Key=key)
                except ClientError as exc:
                    if _code(exc) in _MISSING:
                        return None
                    raise
                meta = _meta(key, response)
                body = response["Body"]
                try:
                    span = plan(meta)
                except BaseException:
                    body.close()
                    raise
                if span is None:
                    body.close()
                    return Read(meta, None, None)
                if span == (0, meta.size):
                    return Read(meta, span, self._stream(body))
                body.close()
                offset, length = span
                if length == 0:
                    return Read(meta, span, _empty())
                try:
                    ranged = await self._call(self._s3.get_object, Bucket=self._bucket, Key=key, IfMatch=meta.token,
                                              Range=f"bytes={offset}-{offset + length - 1}")
                except ClientError as exc:
                    if _code(exc) in _MISSING + _CHANGED:
                        continue  # replaced or deleted between the two requests: start over
                    raise
                return Read(meta, span, self._stream(ranged["Body"]))
        raise v.r2_error("get", v.INTERNAL_ERROR)  # the object kept changing under us

    async def _stream(self, body: Any) -> AsyncIterator[bytes]:
        try:
            while True:
                with map_s3_errors("get"):
                    chunk = await self._call(body.read, amt=READ_CHUNK)
                if not chunk:
                    return
                yield chunk
        finally:
            body.close()

    async def put(self, new: NewObject, body: HashingStream, condition: Condition | None) -> ObjectMeta | None:
        guard: dict[str, str] = {}
        if condition is not None:
            current = await self.head(new.key, "put")
            if not condition(current):
                return None
            # Where the store supports conditional writes, nobody may slip in between the check and the write.
            guard = {"IfMatch": current.token} if current is not None else {"IfNoneMatch": "*"}
        chunks = aiter(body)
        # A value already in memory goes up in one PutObject; a stream, part by part once it outgrows one part.
        first, ended = await _fill(chunks, PART_SIZE if body.length is None else body.length + 1)
        with map_s3_errors("put"):
            try:
                if ended:
                    await self._call(self._s3.put_object, Bucket=self._bucket, Key=new.key, Body=first,
                                     **_put_args(new, _final(new, body)), **guard)
                else:
                    await self._put_multipart(new, body, chunks, first, guard)
            except ClientError as exc:
                if condition is not None and _code(exc) in _CHANGED:
                    return None
                raise
        return ObjectMeta(key=new.key, version=new.version, size=body.size, etag=body.md5_hex,
                          uploaded_ms=new.uploaded_ms, http_metadata=new.http_metadata,
                          custom_metadata=new.custom_metadata, checksums=body.checksums,
                          storage_class=new.storage_class)

    async def _put_multipart(self, new: NewObject, body: HashingStream, chunks: AsyncIterator[bytes],
                             first: bytes, guard: dict[str, str]) -> None:
        """A streamed put larger than one part: S3 multipart, uploading part N while reading part N+1; then a
        self-copy writes the md5/checksums that are only known at the end into the metadata."""
        args = _put_args(new, {})
        created = await self._call(self._s3.create_multipart_upload, Bucket=self._bucket, Key=new.key, **args)
        upload_id = created["UploadId"]
        done: list[dict[str, Any]] = []
        pending: asyncio.Future[Any] | None = None
        try:
            data, number, ended = first, 1, False
            while True:
                if pending is not None:
                    await pending
                pending = asyncio.ensure_future(self._upload(new.key, upload_id, number, data, done))
                if ended:
                    break
                data, ended = await _fill(chunks, PART_SIZE)
                if not data:
                    break
                number += 1
            await pending
            done.sort(key=lambda p: int(p["PartNumber"]))
            await self._call(self._s3.complete_multipart_upload, Bucket=self._bucket, Key=new.key,
                             UploadId=upload_id, MultipartUpload={"Parts": done}, **guard)
        except BaseException:
            if pending is not None and not pending.done():
                pending.cancel()
            with contextlib.suppress(ClientError, BotoCoreError):  # the original error is what matters
                await self._call(self._s3.abort_multipart_upload, Bucket=self._bucket, Key=new.key,
                                 UploadId=upload_id)
            raise
        await self._call(self._s3.copy_object, Bucket=self._bucket, Key=new.key, MetadataDirective="REPLACE",
                         CopySource={"Bucket": self._bucket, "Key": new.key}, **_put_args(new, _final(new, body)))

    async def _upload(self, key: str, upload_id: str, number: int, data: bytes, done: list[dict[str, Any]]) -> None:
        response = await self._call(self._s3.upload_part, Bucket=self._bucket, Key=key, UploadId=upload_id,
                                    PartNumber=number, Body=data)
        done.append({"PartNumber": number, "ETag": response["ETag"]})

    async def delete(self, keys: Sequence[str]) -> None:
        with map_s3_errors("delete"):
            response = await self._call(self._s3.delete_objects, Bucket=self._bucket,
                                        Delete={"Objects": [{"Key": k} for k in keys], "Quiet": True})
        errors = response.get("Errors") or []
        if errors:
            raise v.r2_error("delete", v.INTERNAL_ERROR) from BackendError(f"S3 DeleteObjects: {errors[:3]}")

    async def list_page(self, prefix: str, start_after: str | None, limit: int, delimiter: str | None,
                        with_metadata: bool) -> ListPage:
        args: dict[str, Any] = {"Bucket": self._bucket, "Prefix": prefix, "MaxKeys": limit}
        if start_after is not None:
            args["StartAfter"] = start_after
        if delimiter:
            args["Delimiter"] = delimiter
        with map_s3_errors("list"):
            response = await self._call(self._s3.list_objects_v2, **args)
        keys = [item["Key"] for item in response.get("Contents") or ()]
        prefixes = [item["Prefix"] for item in response.get("CommonPrefixes") or ()]
        # ListObjectsV2 has no version, ms upload time or checksums: read each object's head, in parallel.
        heads = await asyncio.gather(*(self.head(key, "list") for key in keys))
        objects = [meta for meta in heads if meta is not None]
        entries = sorted(keys + prefixes, key=lambda s: s.encode("utf-8"))
        return ListPage(objects, prefixes, bool(response.get("IsTruncated")), entries[-1] if entries else None)

    # -- multipart ----------------------------------------------------------------------------------------
    async def create_multipart(self, new: NewObject) -> str:
        with map_s3_errors("createMultipartUpload"):
            created = await self._call(self._s3.create_multipart_upload, Bucket=self._bucket, Key=new.key,
                                       **_put_args(new, {}))
        return str(created["UploadId"])

    async def upload_part(self, key: str, upload_id: str, part_number: int, body: HashingStream) -> PartInfo | None:
        # Look before sending: a part is megabytes, the check a few hundred bytes (and some stores answer a part
        # for a finished upload with a 500 rather than NoSuchUpload).
        if not await self._upload_exists(key, upload_id, "uploadPart"):
            return None
        # S3 needs a part's length up front, so one part is gathered in memory (R2 parts are usually 5-100 MiB).
        data = b"".join([chunk async for chunk in body])
        with map_s3_errors("uploadPart"):
            try:
                await self._call(self._s3.upload_part, Bucket=self._bucket, Key=key, UploadId=upload_id,
                                 PartNumber=part_number, Body=data)
            except ClientError as exc:
                if _code(exc) in ("NoSuchUpload", *_MISSING):
                    return None
                raise
        return PartInfo(part_number, body.md5_hex, body.size)

    async def _upload_exists(self, key: str, upload_id: str, op: str) -> bool:
        """Whether ``upload_id`` is in progress for exactly ``key`` (not every store checks the key itself)."""
        args: dict[str, Any] = {"Bucket": self._bucket, "Prefix": key}
        with map_s3_errors(op):
            while True:
                page = await self._call(self._s3.list_multipart_uploads, **args)
                if any(u["Key"] == key and u["UploadId"] == upload_id for u in page.get("Uploads") or ()):
                    return True
                if not page.get("IsTruncated"):
                    return False
                args.update(KeyMarker=page.get("NextKeyMarker", ""),
                            UploadIdMarker=page.get("NextUploadIdMarker", ""))

    async def get_upload(self, key: str, upload_id: str) -> Upload | None:
        if not await self._upload_exists(key, upload_id, "completeMultipartUpload"):
            return None
        parts: dict[int, PartInfo] = {}
        marker = 0
        with map_s3_errors("completeMultipartUpload"):
            while True:
                try:
                    response = await self._call(self._s3.list_parts, Bucket=self._bucket, Key=key,
                                                UploadId=upload_id, PartNumberMarker=marker)
                except ClientError as exc:
                    if _code(exc) in ("NoSuchUpload", *_MISSING):
                        return None
                    raise
                for part in response.get("Parts") or ():
                    number = int(part["PartNumber"])
                    parts[number] = PartInfo(number, str(part["ETag"]).strip('"'), int(part["Size"]))
                if not response.get("IsTruncated"):
                    return Upload(key, upload_id, parts)
                marker = int(response["NextPartNumberMarker"])

    async def complete_multipart(self, upload: Upload, parts: Sequence[PartInfo], etag: str,
                                 uploaded_ms: int) -> ObjectMeta:
        with map_s3_errors("completeMultipartUpload"):
            await self._call(self._s3.complete_multipart_upload, Bucket=self._bucket, Key=upload.key,
                             UploadId=upload.upload_id, MultipartUpload={
                                 "Parts": [{"PartNumber": p.part_number, "ETag": f'"{p.etag}"'} for p in parts]})
        meta = await self.head(upload.key, "completeMultipartUpload")
        if meta is None:  # deleted the instant it appeared
            raise v.r2_error("completeMultipartUpload", v.INTERNAL_ERROR)
        return meta

    async def abort_multipart(self, key: str, upload_id: str) -> bool:
        # S3's abort is idempotent on some stores; R2 reports an unknown upload, so look first.
        if not await self._upload_exists(key, upload_id, "abortMultipartUpload"):
            return False
        with map_s3_errors("abortMultipartUpload"):
            try:
                await self._call(self._s3.abort_multipart_upload, Bucket=self._bucket, Key=key, UploadId=upload_id)
            except ClientError as exc:
                if _code(exc) in ("NoSuchUpload", *_MISSING):
                    return False
                raise
        return True

    async def clear(self) -> None:
        """Delete every object and the bucket itself (tests)."""
        while True:
            page = await self._call(self._s3.list_objects_v2, Bucket=self._bucket)
            keys = [item["Key"] for item in page.get("Contents") or ()]
            if not keys:
                break
            await self.delete(keys)
        uploads = await self._call(self._s3.list_multipart_uploads, Bucket=self._bucket)
        for item in uploads.get("Uploads") or ():
            await self._call(self._s3.abort_multipart_upload, Bucket=self._bucket, Key=item["Key"],
                             UploadId=item["UploadId"])
        await self._call(self._s3.delete_bucket, Bucket=self._bucket)

    async def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
        self._s3.close()


def _final(new: NewObject, body: HashingStream) -> dict[str, Any]:
    return {"u": new.uploaded_ms, "e": body.md5_hex, "c": body.checksums}


async def _fill(chunks: AsyncIterator[bytes], size: int) -> tuple[bytes, bool]:
    """Up to about ``size`` bytes from ``chunks``, and whether the stream ended."""
    buffer: list[bytes] = []
    held = 0
    while held < size:
        try:
            chunk = await anext(chunks)
        except StopAsyncIteration:
            return b"".join(buffer), True
        buffer.append(chunk)
        held += len(chunk)
    return b"".join(buffer), False


async def _empty() -> AsyncIterator[bytes]:
    return
    yield

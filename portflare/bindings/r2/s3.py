"""R2 on any S3-compatible store (AWS S3, MinIO, Ceph RGW, R2 itself), through boto3.

URL: ``s3://ACCESS_KEY:SECRET@host:port/bucket?region=us-east-1&secure=false`` (path-style addressing;
``secure`` defaults to true; no host means AWS; no credentials means boto3's usual chain; no bucket means the
wrangler ``bucket_name``). The bucket is created if missing.

How R2's records map onto S3 objects and headers is ``s3records.py``.

boto3 is synchronous: every call runs in this backend's thread pool, and bodies stream chunk by chunk — a
streamed put longer than two parts becomes an S3 multipart upload, so no object is ever held whole; a streamed
multipart part is spooled to a temporary file past ``SPOOL_MEMORY``.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import functools
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

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
from portflare.bindings.r2.s3records import (
    CHANGED,
    MISSING,
    error_code,
    etag_fields,
    final_fields,
    map_s3_errors,
    md5_etag,
    object_meta,
    put_args,
    record_args,
    served_span,
)
from portflare.bindings.r2.streams import in_thread
from portflare.errors import BackendError

PART_SIZE = 8 * 1024 * 1024  # one S3 part of a streamed put, which holds about two in memory
SPOOL_MEMORY = PART_SIZE  # a streamed multipart part beyond this spools to a temporary file (parts go to 5 GiB)
COPY_LIMIT = 5 * 1024**3  # the largest object S3's CopyObject copies in one request
READ_CHUNK = 1024 * 1024
READ_ATTEMPTS = 5  # a ranged get racing with writers of the same key starts over at most this often
THREADS = 16


class S3R2Backend:
    def __init__(self, client: Any, bucket: str, *, threads: int = THREADS) -> None:
        self._s3 = client
        self._bucket = bucket
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="portflare-r2-s3")
        self._md5_etags: bool | None = None  # whether PutObject's ETag is the MD5 (``_learn``); None: not known

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
            if error_code(exc) not in MISSING and error_code(exc) != "NoSuchBucket":
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
            if error_code(exc) not in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
                raise BackendError(f"S3 bucket {self._bucket}: {exc}") from exc

    # -- objects ------------------------------------------------------------------------------------------
    async def head(self, key: str, op: str = "head") -> ObjectMeta | None:
        with map_s3_errors(op):
            try:
                return object_meta(key, await self._call(self._s3.head_object, Bucket=self._bucket, Key=key))
            except ClientError as exc:
                if error_code(exc) in MISSING:
                    return None
                raise

    async def get(self, key: str, plan: ReadPlan, range_header: str | None = None) -> Read | None:
        # One GetObject, asking for ``range_header`` when the Worker wants a range: its answer carries the size
        # (Content-Range), so the plan can be checked against what came back. Only when S3 served something
        # else (an unsatisfiable or zero-length range, a store that ignores Range) is there a second request,
        # pinned to the same version with If-Match.
        with map_s3_errors("get"):
            for _ in range(READ_ATTEMPTS):
                args = {} if range_header is None else {"Range": range_header}
                try:
                    response = await self._call(self._s3.get_object, Bucket=self._bucket, Key=key, **args)
                except ClientError as exc:
                    if error_code(exc) in MISSING:
                        return None
                    if range_header is not None and error_code(exc) == "InvalidRange":
                        range_header = None  # let the plan see the size and answer as R2 does
                        continue
                    raise
                meta = object_meta(key, response)
                body = response["Body"]
                try:
                    span = plan(meta)
                except BaseException:
                    body.close()
                    raise
                if span is None:
                    body.close()
                    return Read(meta, None, None)
                if span == served_span(response, meta.size):
                    return Read(meta, span, _S3Body(self._call, body))
                body.close()
                offset, length = span
                if length == 0:
                    return Read(meta, span, _empty())
                try:
                    ranged = await self._call(self._s3.get_object, Bucket=self._bucket, Key=key, IfMatch=meta.token,
                                              Range=f"bytes={offset}-{offset + length - 1}")
                except ClientError as exc:
                    if error_code(exc) in MISSING + CHANGED:
                        continue  # replaced or deleted between the two requests: start over
                    raise
                return Read(meta, span, _S3Body(self._call, ranged["Body"]))
        raise v.r2_error("get", v.INTERNAL_ERROR)  # the object kept changing under us

    async def put(self, new: NewObject, body: HashingStream, condition: Condition | None) -> ObjectMeta | None:
        guard: dict[str, str] = {}
        if condition is not None:
            current = await self.head(new.key, "put")
            if not condition(current):
                return None
            # Where the store supports conditional writes, nobody may slip in between the check and the write.
            guard = {"IfMatch": current.token} if current is not None else {"IfNoneMatch": "*"}
        with map_s3_errors("put"):
            try:
                # Deferred: read unhashed, and hashed by us while it is sent. On a store whose ETags are MD5s,
                # what fits one PutObject then goes to S3 before its MD5 is known (``_put_one``). Not when the
                # caller gave a checksum: that content is checked as it is read, before anything is visible.
                deferred = bool(self._md5_etags) and not body.verifies
                chunks = body.unhashed() if deferred else aiter(body)
                if body.length is None:
                    await self._put_stream(new, body, chunks, deferred, guard)
                else:  # a value in memory: one chunk, so no copy
                    await self._put_one(new, body, b"".join([chunk async for chunk in chunks]), deferred, guard)
            except ClientError as exc:
                if condition is not None and error_code(exc) in CHANGED:
                    return None
                raise
        return ObjectMeta(key=new.key, version=new.version, size=body.size, etag=body.md5_hex,
                          uploaded_ms=new.uploaded_ms, http_metadata=new.http_metadata,
                          custom_metadata=new.custom_metadata, checksums=body.checksums,
                          storage_class=new.storage_class)

    async def _put_one(self, new: NewObject, body: HashingStream, data: bytes | bytearray, deferred: bool,
                       guard: dict[str, str]) -> None:
        """All of ``body``, ``data``, as one PutObject. Hashed as it was read unless ``deferred``.

        Deferred (a store whose PutObject ETags have been MD5s, and no checksum from the caller to check first):
        ``data`` goes to S3 at once while its MD5 is computed on a thread, instead of after it. The MD5 is not
        in our metadata: it is read from S3's ETag (``etag_fields``, ``object_meta``). Once S3 answers, its ETag
        is compared with the MD5; should they differ after all (the bucket is now SSE-KMS encrypted, a gateway),
        the MD5 and checksums go on by the same conditional self-copy as after a multipart upload, and this
        backend hashes first from then on."""
        if not deferred:
            self._learn(body, await self._call(self._s3.put_object, Bucket=self._bucket, Key=new.key, Body=data,
                                               **put_args(new, final_fields(new, body)), **guard))
            return
        sent = asyncio.ensure_future(self._call(self._s3.put_object, Bucket=self._bucket, Key=new.key, Body=data,
                                                **put_args(new, etag_fields(new)), **guard))
        try:
            await body.hash(data)
            body.finish()
        except BaseException:
            sent.cancel()
            raise
        response = await sent
        if md5_etag(response) != body.md5_hex:
            self._md5_etags = False
            await self._stamp(new.key, str(response.get("ETag", "")), put_args(new, final_fields(new, body)))

    def _learn(self, body: HashingStream, response: dict[str, Any]) -> None:
        """Whether this store's ETags are MD5s, learnt from the first PutObject (hashed before it was sent):
        until then, and if they are not, a value's MD5 goes in our metadata."""
        if self._md5_etags is None:
            self._md5_etags = md5_etag(response) == body.md5_hex

    async def _put_stream(self, new: NewObject, body: HashingStream, chunks: AsyncIterator[bytes], deferred: bool,
                          guard: dict[str, str]) -> None:
        """A stream, read from ``chunks``. Up to two parts long, it is one PutObject (a multipart upload holds two
        parts in memory anyway, and would cost three more requests and a copy). Longer, it is an S3 multipart
        upload of equal parts, part N uploading (and, if ``deferred``, being hashed) while part N+1 is read; then
        a self-copy writes the md5/checksums, known only at the end, into the metadata."""
        parts = _Parts(chunks, PART_SIZE)
        head = [await parts.next()]
        if parts.more:
            head.append(await parts.next())
        if not parts.more:
            data = head.pop(0)
            for part in head:
                data += part  # grows in place: no third copy
            head.clear()
            await self._put_one(new, body, data, deferred, guard)
            return
        created = await self._call(self._s3.create_multipart_upload, Bucket=self._bucket, Key=new.key,
                                   **put_args(new, {}))
        upload_id = created["UploadId"]
        done: list[dict[str, Any]] = []
        pending: asyncio.Future[Any] | None = None
        try:
            number = 0
            while head or parts.more:
                data = head.pop(0) if head else await parts.next()  # read while the previous part uploads
                number += 1
                if pending is not None:
                    await pending
                upload = self._upload(new.key, upload_id, number, data, done)
                pending = asyncio.gather(upload, body.hash(data)) if deferred else asyncio.ensure_future(upload)
            if pending is not None:
                await pending
            if deferred:
                body.finish()  # a checksum error aborts the upload
            done.sort(key=lambda p: int(p["PartNumber"]))
            completed = await self._call(self._s3.complete_multipart_upload, Bucket=self._bucket, Key=new.key,
                                         UploadId=upload_id, MultipartUpload={"Parts": done}, **guard)
        except BaseException:
            if pending is not None and not pending.done():
                pending.cancel()
            with contextlib.suppress(ClientError, BotoCoreError):  # the original error is what matters
                await self._call(self._s3.abort_multipart_upload, Bucket=self._bucket, Key=new.key,
                                 UploadId=upload_id)
            raise
        await self._stamp(new.key, completed["ETag"], put_args(new, final_fields(new, body)))

    async def _stamp(self, key: str, token: str, args: dict[str, Any]) -> None:
        """Rewrite the metadata of the object we just completed (S3 ETag ``token``) by copying it onto itself:
        S3 takes no metadata when a multipart upload completes, and ours is known only then.

        ``CopySourceIfMatch``: if another writer replaced the object between our completion and this copy, S3
        answers 412 and their object keeps its own metadata; ours was simply superseded by a later write (and
        one deleted in between stays deleted)."""
        try:
            await self._call(self._s3.copy_object, Bucket=self._bucket, Key=key, MetadataDirective="REPLACE",
                             CopySource={"Bucket": self._bucket, "Key": key}, CopySourceIfMatch=token, **args)
        except ClientError as exc:
            if error_code(exc) not in CHANGED + MISSING:
                raise

    async def _upload(self, key: str, upload_id: str, number: int, data: bytes | bytearray,
                      done: list[dict[str, Any]]) -> None:
        upload = functools.partial(self._s3.upload_part, Bucket=self._bucket, Key=key, UploadId=upload_id,
                                   PartNumber=number)
        response = await in_thread(self._pool, lambda body: upload(Body=body), data)  # the part not kept after
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
                                       **put_args(new, {}))
        return str(created["UploadId"])

    async def upload_part(self, key: str, upload_id: str, part_number: int, body: HashingStream) -> PartInfo | None:
        # Look before sending: a part is megabytes, the check a few hundred bytes (and some stores answer a part
        # for a finished upload with a 500 rather than NoSuchUpload).
        if not await self._upload_exists(key, upload_id, "uploadPart"):
            return None
        # S3 needs a part's length before its bytes. A value already in memory goes as it is; a stream is
        # spooled, to a temporary file past SPOOL_MEMORY (an R2 part may be 5 GiB). Writes to the spool happen
        # on the loop: local page-cache writes cost less than a thread hop per chunk (as in the fs backend).
        with tempfile.SpooledTemporaryFile(max_size=SPOOL_MEMORY) as spool:
            if body.length is not None:
                data: bytes | tempfile.SpooledTemporaryFile[bytes] = b"".join([chunk async for chunk in body])
            else:
                async for chunk in body:
                    spool.write(chunk)
                spool.seek(0)
                data = spool
            with map_s3_errors("uploadPart"):
                try:
                    sent = await self._call(self._s3.upload_part, Bucket=self._bucket, Key=key, UploadId=upload_id,
                                            PartNumber=part_number, Body=data, ContentLength=body.size)
                except ClientError as exc:
                    if error_code(exc) in ("NoSuchUpload", *MISSING):
                        return None
                    raise
        # The part's etag is the store's: complete() checks the caller's etags against ListParts, and
        # CompleteMultipartUpload wants them back. It is the part's MD5 on AWS, MinIO and moto, but not under
        # SSE-KMS/SSE-C, nor on every gateway; the part's MD5 would make complete() refuse every part there.
        return PartInfo(part_number, str(sent.get("ETag") or body.md5_hex).strip('"'), body.size)

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
                    if error_code(exc) in ("NoSuchUpload", *MISSING):
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
        op = "completeMultipartUpload"
        with map_s3_errors(op):
            completed = await self._call(self._s3.complete_multipart_upload, Bucket=self._bucket, Key=upload.key,
                                         UploadId=upload.upload_id, MultipartUpload={
                                             "Parts": [{"PartNumber": p.part_number, "ETag": f'"{p.etag}"'}
                                                       for p in parts]})
        meta = await self.head(upload.key, op)  # the metadata given at creation
        if meta is None:  # deleted the instant it appeared
            raise v.r2_error(op, v.INTERNAL_ERROR)
        if meta.token != completed["ETag"] or meta.size > COPY_LIMIT:
            return meta  # replaced already; or too large to copy: S3's Last-Modified stands for the upload time
        with map_s3_errors(op):
            await self._stamp(upload.key, meta.token, record_args(meta.http_metadata, {
                "v": meta.version, "h": meta.http_metadata, "m": meta.custom_metadata, "s": meta.storage_class,
                "u": uploaded_ms, "e": etag}))
        return dataclasses.replace(meta, uploaded_ms=uploaded_ms, etag=etag)

    async def abort_multipart(self, key: str, upload_id: str) -> bool:
        # S3's abort is idempotent on some stores; R2 reports an unknown upload, so look first.
        if not await self._upload_exists(key, upload_id, "abortMultipartUpload"):
            return False
        with map_s3_errors("abortMultipartUpload"):
            try:
                await self._call(self._s3.abort_multipart_upload, Bucket=self._bucket, Key=key, UploadId=upload_id)
            except ClientError as exc:
                if error_code(exc) in ("NoSuchUpload", *MISSING):
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


class _Parts:
    """A stream cut into parts of exactly ``size`` bytes, the last one shorter: R2's S3 API, like R2 itself,
    refuses a multipart upload whose non-final parts differ in size. Each part is one growing buffer (a list
    and a join would hold it twice); S3 takes a bytearray as a body. ``more``: whether a part follows the one
    just returned (known by reading one chunk ahead)."""

    def __init__(self, chunks: AsyncIterator[bytes], size: int) -> None:
        self._chunks = chunks
        self._size = size
        self._ahead = b""
        self._ended = False

    @property
    def more(self) -> bool:
        return bool(self._ahead) or not self._ended

    async def next(self) -> bytearray:
        part = bytearray(self._ahead)
        self._ahead = b""
        while len(part) < self._size and not self._ended:
            part += await self._chunk()
        if len(part) > self._size:
            self._ahead = bytes(part[self._size:])  # less than a chunk
            del part[self._size:]
        while not self._ahead and not self._ended:
            self._ahead = await self._chunk()
        return part

    async def _chunk(self) -> bytes:
        try:
            return await anext(self._chunks)
        except StopAsyncIteration:
            self._ended = True
            return b""


class _S3Body:
    """A GetObject body: streamed chunk by chunk, a thread call per chunk, or read whole in one thread call by
    ``read_all`` when the Worker wants all of it (``R2ObjectBody.bytes()``): one call and one allocation
    instead of a call per MiB and a join."""

    def __init__(self, call: Callable[..., Awaitable[Any]], body: Any) -> None:
        self._call = call
        self._body = body

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self._chunks()

    async def _chunks(self) -> AsyncIterator[bytes]:
        try:
            while True:
                with map_s3_errors("get"):
                    chunk: bytes = await self._call(self._body.read, amt=READ_CHUNK)
                if not chunk:
                    return
                yield chunk
        finally:
            self._body.close()

    async def read_all(self) -> bytes:
        try:
            with map_s3_errors("get"):
                data: bytes = await self._call(self._body.read)
            return data
        finally:
            self._body.close()

    async def aclose(self) -> None:
        self._body.close()


async def _empty() -> AsyncIterator[bytes]:
    return
    yield

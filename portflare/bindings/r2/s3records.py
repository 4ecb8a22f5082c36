"""How an R2 object record travels in S3, for the S3 backend: one user-metadata header for R2's own fields,
the HTTP metadata as native headers, and S3's answers and errors read back as R2's.

What S3 cannot hold natively (R2's version, upload time in ms, md5/sha checksums, storage class, case-sensitive
custom metadata) travels in ``x-amz-meta-r2`` (percent-encoded JSON: ``v`` version, ``h`` HTTP metadata, ``m``
custom metadata, ``s`` storage class, ``u`` upload time, ``e`` etag, ``c`` checksums, ``d`` the etag and md5
are S3's ETag); HTTP metadata is also set as the native Content-Type, Cache-Control, ... so other S3 clients see
it. Objects written by other tools read as R2 objects too (etag from the S3 ETag, custom metadata from their
``x-amz-meta-*``).

``d`` instead of ``e``: content put while its MD5 was still being computed (it goes in one PutObject, whose ETag
S3 makes the content's MD5) carries no MD5 of its own; it reads S3's ETag as its etag and ``checksums.md5``, as
long as ``md5_etag`` finds the ETag to be an MD5. The writer checks the ETag S3 returned and, if it is not the
MD5, records ``e`` and ``c`` after all (``S3R2Backend._put_one``).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote, unquote

from botocore.exceptions import BotoCoreError, ClientError

from portflare.bindings.r2 import validate as v
from portflare.bindings.r2.base import HashingStream, NewObject, ObjectMeta

META = "r2"  # the user-metadata key holding R2's own fields
_NATIVE = {"contentType": "ContentType", "contentLanguage": "ContentLanguage",
           "contentDisposition": "ContentDisposition", "contentEncoding": "ContentEncoding",
           "cacheControl": "CacheControl"}
MISSING = ("404", "NoSuchKey", "NotFound")
CHANGED = ("412", "PreconditionFailed")


def error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


@contextlib.contextmanager
def map_s3_errors(op: str) -> Iterator[None]:
    """Translate driver errors at the edge: R2's wording where S3 has a counterpart, else R2's internal error
    with the S3 error chained (logged by the runtime, never swallowed)."""
    try:
        yield
    except ClientError as exc:
        code = error_code(exc)
        known = {"NoSuchUpload": v.NO_SUCH_UPLOAD, "InvalidPart": v.INVALID_PART,
                 "InvalidPartOrder": v.INVALID_PART, "EntityTooSmall": v.ENTITY_TOO_SMALL,
                 "EntityTooLarge": v.ENTITY_TOO_LARGE, "MetadataTooLarge": v.METADATA_TOO_LARGE,
                 "KeyTooLongError": v.INVALID_OBJECT_NAME, "InvalidRange": v.INVALID_RANGE}
        raise v.r2_error(op, known.get(code, v.INTERNAL_ERROR)) from exc
    except BotoCoreError as exc:
        raise v.r2_error(op, v.INTERNAL_ERROR) from exc


def encode_meta(fields: dict[str, Any]) -> dict[str, str]:
    text = json.dumps(fields, separators=(",", ":"), ensure_ascii=False)
    return {META: quote(text, safe="{}[]\":,@/+=-_.~ ")}


def put_args(new: NewObject, extra: dict[str, Any]) -> dict[str, Any]:
    return record_args(new.http_metadata, {"v": new.version, "h": new.http_metadata, "m": new.custom_metadata,
                                            "s": new.storage_class, **extra})


def record_args(http_metadata: dict[str, str], fields: dict[str, Any]) -> dict[str, Any]:
    """PutObject/CopyObject arguments storing an R2 record: HTTP metadata as native headers, the rest in ours."""
    args: dict[str, Any] = {native: http_metadata[name] for name, native in _NATIVE.items() if name in http_metadata}
    if "cacheExpiry" in http_metadata:
        args["Expires"] = dt.datetime.fromtimestamp(int(http_metadata["cacheExpiry"]) / 1000, tz=dt.UTC)
    args["Metadata"] = encode_meta(fields)
    return args


def object_size(response: dict[str, Any]) -> int:
    """The object's size from a HEAD or GET answer; a ranged GET's ContentLength is the range's."""
    content_range = response.get("ContentRange")  # "bytes 0-9/100"
    if content_range:
        return int(str(content_range).rpartition("/")[2])
    return int(response.get("ContentLength", 0))


def served_span(response: dict[str, Any], size: int) -> tuple[int, int]:
    """The (offset, length) a GET answer's body holds."""
    content_range = response.get("ContentRange")
    if not content_range:
        return 0, size
    first, _, last = str(content_range).split()[1].partition("/")[0].partition("-")
    return int(first), int(last) - int(first) + 1


def object_meta(key: str, head: dict[str, Any]) -> ObjectMeta:
    raw_etag = str(head.get("ETag", '""'))
    modified = head.get("LastModified")
    modified_ms = int(modified.timestamp() * 1000) if isinstance(modified, dt.datetime) else 0
    user: dict[str, str] = dict(head.get("Metadata") or {})
    encoded = user.pop(META, None)
    if encoded is None:  # written by another S3 client
        http = {name: str(head[native]) for name, native in _NATIVE.items() if head.get(native)}
        return ObjectMeta(key=key, version=str(head.get("VersionId") or raw_etag.strip('"')),
                          size=object_size(head), etag=raw_etag.strip('"'), uploaded_ms=modified_ms,
                          http_metadata=http, custom_metadata=user, token=raw_etag)
    fields = json.loads(unquote(encoded))
    etag, checksums = fields.get("e"), fields.get("c", {})
    if not etag:  # the md5 is S3's ETag ("d"); or a streamed put before its metadata copy: md5 not known yet
        md5 = md5_etag(head) if fields.get("d") else None
        etag = md5 or raw_etag.strip('"')
        if md5:
            checksums = {"md5": md5, **checksums}
    return ObjectMeta(key=key, version=fields["v"], size=object_size(head), etag=etag,
                      uploaded_ms=int(fields.get("u") or modified_ms), http_metadata=fields.get("h", {}),
                      custom_metadata=fields.get("m", {}), checksums=checksums,
                      storage_class=fields.get("s", "Standard"), token=raw_etag)


def md5_etag(response: dict[str, Any]) -> str | None:
    """S3's ETag for an object (a HEAD, GET or PutObject answer) if it is the MD5 of the content, else None.

    S3 documents that an object written by one PutObject or CopyObject has its MD5 as ETag when it is plaintext or
    SSE-S3 encrypted, never when it is SSE-KMS or SSE-C encrypted or was uploaded in parts (``<hex>-N``); MinIO
    documents the same. Stores whose ETags are not MD5s for other reasons (S3 directory buckets, some gateways)
    are caught by the writer, which compares the ETag with the MD5 it computed (``S3R2Backend._learn``)."""
    if response.get("SSECustomerAlgorithm") or str(response.get("ServerSideEncryption", "")).startswith("aws:kms"):
        return None
    return v.plain_md5(str(response.get("ETag", "")))


def final_fields(new: NewObject, body: HashingStream) -> dict[str, Any]:
    return {"u": new.uploaded_ms, "e": body.md5_hex, "c": body.checksums}


def etag_fields(new: NewObject) -> dict[str, Any]:
    """The fields of a put whose md5 is not known yet, and is to be read from S3's ETag."""
    return {"u": new.uploaded_ms, "d": 1}

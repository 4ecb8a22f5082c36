"""``env.<BUCKET>``: the R2 bucket a Worker calls, with Cloudflare's names, options and return shapes."""

from __future__ import annotations

import hashlib
import time
import uuid
from collections.abc import Callable, Mapping
from typing import Any

from portflare.api.headers import Headers
from portflare.bindings.options import options_from as _options_from
from portflare.bindings.r2 import validate as v
from portflare.bindings.r2.base import NewObject, ObjectMeta, PartInfo, R2Backend
from portflare.bindings.r2.conditional import holds, http_range, parse_conditional, parse_range, resolve_range
from portflare.bindings.r2.objects import R2Body, R2Checksums, R2Object, R2ObjectBody
from portflare.bindings.r2.streams import Hashing, source_of
from portflare.errors import JsException, JsRangeError
from portflare.jsobject import JsDict, JsList, py_value


def _unwrap(value: Any) -> Any:
    return value if isinstance(value, Headers) else py_value(value)  # Headers.to_py() would lose its type


def options_from(arg: Any, kwargs: Mapping[str, Any]) -> dict[str, Any]:
    return _options_from(arg, kwargs, unwrap=_unwrap)


def _check_ssec(options: Mapping[str, Any]) -> None:
    key = options.get("ssecKey")
    if key is None:
        return
    raw = bytes.fromhex(key) if isinstance(key, str) and len(key) == 64 else key
    if not isinstance(raw, (bytes, bytearray, memoryview)) or len(bytes(raw)) != 32:
        raise JsException("SSE-C Key must be 32 bytes in length")
    raise JsException("SSE-C (ssecKey) is not supported by portflare: objects are stored unencrypted.")


class R2Bucket:
    """An R2 bucket over any ``R2Backend``."""

    def __init__(self, backend: R2Backend, *, clock: Callable[[], float] = time.time) -> None:
        self._backend = backend
        self._clock = clock

    def _new(self, key: str, opts: Mapping[str, Any], op: str) -> NewObject:
        return NewObject(key=key, version=uuid.uuid4().hex, uploaded_ms=int(self._clock() * 1000),
                         http_metadata=v.http_metadata(opts.get("httpMetadata")),
                         custom_metadata=v.custom_metadata(op, opts.get("customMetadata")),
                         storage_class=v.storage_class(opts.get("storageClass")))

    async def head(self, key: Any) -> R2Object | None:
        meta = await self._backend.head(v.validate_key("head", py_value(key)))
        return None if meta is None else R2Object(meta)

    async def get(self, key: Any, options: Any = None, **kwargs: Any) -> R2ObjectBody | R2Object | None:
        opts = options_from(options, kwargs)
        key = v.validate_key("get", py_value(key))
        cond = parse_conditional(opts.get("onlyIf"))
        spec = parse_range(opts.get("range"))
        _check_ssec(opts)

        def plan(meta: ObjectMeta) -> tuple[int, int] | None:
            if not holds(cond, meta.etag, meta.uploaded_ms):
                return None  # a failed onlyIf: the object's metadata without a body
            return resolve_range(spec, meta.size)

        found = await self._backend.get(key, plan, http_range(spec))
        if found is None:
            return None
        if found.span is None or found.body is None:
            return R2Object(found.meta)
        return R2ObjectBody(found.meta, found.body, found.span)

    async def put(self, key: Any, value: Any, options: Any = None, **kwargs: Any) -> R2Object | None:
        opts = options_from(options, kwargs)
        key = v.validate_key("put", py_value(key))
        # Validate everything before reading the value or touching storage: bad input stores nothing.
        cond = parse_conditional(opts.get("onlyIf"))
        new = self._new(key, opts, "put")
        expected = v.expected_checksum(opts)
        _check_ssec(opts)
        source, length = source_of(value)
        body = Hashing("put", source, expected, length)

        def condition(current: ObjectMeta | None) -> bool:
            return holds(cond, None if current is None else current.etag,
                         None if current is None else current.uploaded_ms)

        meta = await self._backend.put(new, body, None if cond is None else condition)
        return None if meta is None else R2Object(meta)

    async def delete(self, keys: Any) -> None:
        keys = py_value(keys)
        names = [keys] if isinstance(keys, str) or not hasattr(keys, "__iter__") else list(keys)
        if len(names) > v.MAX_DELETE_KEYS:
            raise JsException(f"delete: You can delete at most {v.MAX_DELETE_KEYS} keys at once. (10001)")
        names = [v.validate_key("delete", py_value(name)) for name in names]
        if names:
            await self._backend.delete(list(dict.fromkeys(names)))

    async def list(self, options: Any = None, **kwargs: Any) -> JsDict:
        opts = options_from(options, kwargs)
        limit = v.list_limit(opts.get("limit"))
        prefix = str(opts.get("prefix") or "")
        delimiter = str(opts.get("delimiter") or "") or None
        with_http, with_custom = v.include(opts.get("include"))
        start_after = opts.get("startAfter")
        start_after = None if start_after in (None, "") else str(start_after)
        cursor = v.decode_cursor(opts.get("cursor"))
        if cursor is not None and (start_after is None or cursor.encode() > start_after.encode()):
            start_after = cursor
        page = await self._backend.list_page(prefix, start_after, limit, delimiter, with_http or with_custom)
        result = JsDict(
            objects=JsList(R2Object(m, http=with_http, custom=with_custom) for m in page.objects),
            delimitedPrefixes=JsList(page.delimited_prefixes),
            truncated=page.truncated,
        )
        if page.truncated and page.last is not None:
            is_prefix = bool(page.delimited_prefixes) and page.last == page.delimited_prefixes[-1]
            result["cursor"] = v.encode_cursor(page.last, is_prefix)
        return result

    async def createMultipartUpload(self, key: Any, options: Any = None, **kwargs: Any) -> R2MultipartUpload:
        opts = options_from(options, kwargs)
        key = v.validate_key("createMultipartUpload", py_value(key))
        new = self._new(key, opts, "createMultipartUpload")
        _check_ssec(opts)
        upload_id = await self._backend.create_multipart(new)
        return R2MultipartUpload(self._backend, key, upload_id, self._clock)

    create_multipart_upload = createMultipartUpload

    def resumeMultipartUpload(self, key: Any, uploadId: Any) -> R2MultipartUpload:
        """Synchronous and unchecked, as on Cloudflare: a bad id shows up on the next call."""
        return R2MultipartUpload(self._backend, str(py_value(key)), str(py_value(uploadId)), self._clock)

    resume_multipart_upload = resumeMultipartUpload

    async def _aclose(self) -> None:
        await self._backend.close()

    def __repr__(self) -> str:
        return f"R2Bucket({type(self._backend).__name__})"


def _part_fields(part: Any) -> tuple[Any, Any]:
    part = py_value(part)
    if isinstance(part, Mapping):
        return part.get("partNumber"), part.get("etag")
    return getattr(part, "partNumber", None), getattr(part, "etag", None)


def multipart_etag(parts: list[PartInfo]) -> str:
    """S3's and R2's form: the MD5 of the parts' binary MD5s, then ``-<number of parts>``. A part etag that is
    not an MD5 (a store whose part ETags are opaque) takes part as its text, so the result stays stable."""
    return f"{hashlib.md5(b''.join(_etag_bytes(p.etag) for p in parts)).hexdigest()}-{len(parts)}"


def _etag_bytes(etag: str) -> bytes:
    md5 = v.plain_md5(etag)
    return bytes.fromhex(md5) if md5 is not None else etag.encode()


def check_parts(upload_parts: Mapping[int, PartInfo], requested: Any) -> list[PartInfo]:
    """The parts to join, in order, after R2's checks (which part is missing, sizes equal, minimum size)."""
    op = "completeMultipartUpload"
    chosen: dict[int, PartInfo] = {}
    for part in py_value(requested) or ():
        number, etag = _part_fields(part)
        if not isinstance(number, int) or isinstance(number, bool) or number in chosen:
            raise v.r2_error(op, v.INTERNAL_ERROR)
        found = upload_parts.get(number)
        if found is None or found.etag != etag:
            raise v.r2_error(op, v.INVALID_PART)
        chosen[number] = found
    ordered = [chosen[n] for n in sorted(chosen)]
    if not ordered:
        raise v.r2_error(op, v.BAD_UPLOAD)
    *body, last = ordered
    if any(p.size < v.MIN_PART_SIZE for p in body):
        raise v.r2_error(op, v.ENTITY_TOO_SMALL)
    if body and (any(p.size != body[0].size for p in body) or last.size > body[0].size):
        raise v.r2_error(op, v.BAD_UPLOAD)
    return ordered


class R2MultipartUpload:
    def __init__(self, backend: R2Backend, key: str, upload_id: str,
                 clock: Callable[[], float] = time.time) -> None:
        self._backend = backend
        self._clock = clock
        self.key = key
        self.uploadId = upload_id

    @property
    def upload_id(self) -> str:
        return self.uploadId

    async def uploadPart(self, partNumber: Any, value: Any, options: Any = None, **kwargs: Any) -> JsDict:
        opts = options_from(options, kwargs)
        number = py_value(partNumber)
        if isinstance(number, float) and number.is_integer():
            number = int(number)
        if not isinstance(number, int) or isinstance(number, bool) or not 1 <= number <= v.MAX_PART_NUMBER:
            raise JsRangeError(f"Part number must be an integer between 1 and {v.MAX_PART_NUMBER}, "
                               f"not {number}.")
        _check_ssec(opts)
        source, length = source_of(value, "uploadPart")
        body = Hashing("uploadPart", source, None, length)
        info = await self._backend.upload_part(self.key, self.uploadId, number, body)
        if info is None:
            raise v.r2_error("uploadPart", v.NO_SUCH_UPLOAD)
        return JsDict(partNumber=info.part_number, etag=info.etag)

    upload_part = uploadPart

    async def abort(self) -> None:
        if not await self._backend.abort_multipart(self.key, self.uploadId):
            raise v.r2_error("abortMultipartUpload", v.NO_SUCH_UPLOAD)

    async def complete(self, parts: Any) -> R2Object:
        upload = await self._backend.get_upload(self.key, self.uploadId)
        if upload is None:
            raise v.r2_error("completeMultipartUpload", v.NO_SUCH_UPLOAD)
        ordered = check_parts(upload.parts, parts)
        meta = await self._backend.complete_multipart(upload, ordered, multipart_etag(ordered),
                                                     int(self._clock() * 1000))
        return R2Object(meta)

    def __repr__(self) -> str:
        return f"R2MultipartUpload(key={self.key!r}, uploadId={self.uploadId!r})"


__all__ = ["R2Body", "R2Bucket", "R2Checksums", "R2MultipartUpload", "R2Object", "R2ObjectBody"]

"""What R2 calls return: ``R2Object``, ``R2ObjectBody``, ``R2Objects``' entries and ``R2Checksums``.

Fields read as attributes or items (``obj.size``, ``obj["key"]``), as on Cloudflare's Python SDK.
"""

from __future__ import annotations

import builtins
import datetime as dt
import json
from collections.abc import AsyncIterable, AsyncIterator
from email.utils import format_datetime
from typing import Any

from portflare.api.blob import Blob
from portflare.bindings.r2 import validate as v
from portflare.bindings.r2.base import ObjectMeta
from portflare.errors import JsSyntaxError, JsTypeError
from portflare.jsobject import JsDict, js_value

BODY_USED = "Body has already been used. It can only be used once. Use tee() first if you need to read it twice."
_HEADER_FOR = {"contentType": "content-type", "contentLanguage": "content-language",
               "contentDisposition": "content-disposition", "contentEncoding": "content-encoding",
               "cacheControl": "cache-control"}


def _utc(ms: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(ms / 1000, tz=dt.UTC)


class R2Checksums:
    """Checksums as bytes-like values (``md5``, ``sha1``, ...); ``toJSON()`` gives hex strings."""

    __slots__ = ("_hex",)

    def __init__(self, hex_values: dict[str, str]) -> None:
        self._hex = dict(hex_values)

    def __getattr__(self, name: str) -> memoryview | None:
        if name not in v.HASH_ALGORITHMS:
            raise AttributeError(name)
        value = self._hex.get(name)
        return None if value is None else memoryview(bytes.fromhex(value))

    def __getitem__(self, name: str) -> memoryview | None:
        return self.__getattr__(name)

    def toJSON(self) -> JsDict:
        return JsDict(self._hex)

    to_json = toJSON

    def __eq__(self, other: object) -> bool:
        return isinstance(other, R2Checksums) and other._hex == self._hex

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"R2Checksums({self._hex})"


class R2Object:
    """An object's metadata (``head``, ``put``, ``list`` entries, a ``get`` whose ``onlyIf`` failed)."""

    _FIELDS = ("key", "version", "size", "etag", "httpEtag", "uploaded", "httpMetadata", "customMetadata",
               "range", "checksums", "storageClass")

    def __init__(self, meta: ObjectMeta, *, http: bool = True, custom: bool = True,
                 range_: tuple[int, int] | None = None) -> None:
        self._meta = meta
        self.key = meta.key
        self.version = meta.version
        self.size = meta.size
        self.etag = meta.etag
        self.httpEtag = f'"{meta.etag}"'
        self.uploaded = _utc(meta.uploaded_ms)
        self.httpMetadata: JsDict | None = _http_view(meta.http_metadata) if http else None
        self.customMetadata: JsDict | None = JsDict(meta.custom_metadata) if custom else None
        self.range: JsDict | None = None if range_ is None else JsDict(offset=range_[0], length=range_[1])
        self.checksums = R2Checksums(meta.checksums)
        self.storageClass = meta.storage_class

    def writeHttpMetadata(self, headers: Any) -> None:
        """Set Content-Type, -Language, -Disposition, -Encoding, Cache-Control and Expires on ``headers``."""
        if self.httpMetadata is None:
            raise JsTypeError(f"HTTP metadata unknown for key `{self.key}`. Did you forget to add "
                              "'httpMetadata' to `include` when listing?")
        for name, header in _HEADER_FOR.items():
            value = self.httpMetadata.get(name)
            if value is not None:
                headers.set(header, value) if hasattr(headers, "set") else headers.__setitem__(header, value)
        expiry = self.httpMetadata.get("cacheExpiry")
        if expiry is not None:
            text = format_datetime(expiry, usegmt=True)
            headers.set("expires", text) if hasattr(headers, "set") else headers.__setitem__("expires", text)

    write_http_metadata = writeHttpMetadata

    def __getitem__(self, name: str) -> Any:
        if name not in self._FIELDS and name not in ("body", "bodyUsed"):
            raise KeyError(name)
        return getattr(self, name)

    def __contains__(self, name: object) -> bool:
        return name in self._FIELDS

    def to_py(self, *args: Any, **kwargs: Any) -> R2Object:
        return self

    def __repr__(self) -> str:
        return f"{type(self).__name__}(key={self.key!r}, size={self.size}, etag={self.etag!r})"


def _http_view(stored: dict[str, str]) -> JsDict:
    view = JsDict({k: val for k, val in stored.items() if k != "cacheExpiry"})
    if "cacheExpiry" in stored:
        view["cacheExpiry"] = _utc(int(stored["cacheExpiry"]))
    return view


class R2Body:
    """``R2ObjectBody.body``: the content as an async iterable of bytes chunks, readable once (also usable as a
    ``Response`` body)."""

    def __init__(self, source: AsyncIterable[bytes]) -> None:
        self._source: AsyncIterable[bytes] | None = source

    @property
    def locked(self) -> bool:
        return self._source is None

    def __aiter__(self) -> AsyncIterator[bytes]:
        return aiter(self._take())

    def _take(self) -> AsyncIterable[bytes]:
        if self._source is None:
            raise JsTypeError(BODY_USED)
        source, self._source = self._source, None
        return source

    async def cancel(self, reason: Any = None) -> None:
        if self._source is not None:
            source, self._source = self._source, None
            aclose = getattr(source, "aclose", None)
            if aclose is not None:
                await aclose()


class R2ObjectBody(R2Object):
    """A ``get`` result: metadata plus the content."""

    def __init__(self, meta: ObjectMeta, source: AsyncIterable[bytes], range_: tuple[int, int]) -> None:
        super().__init__(meta, range_=range_)
        self.body = R2Body(source)

    @property
    def bodyUsed(self) -> bool:
        return self.body.locked

    body_used = bodyUsed

    async def bytes(self) -> builtins.bytes:
        source = self.body._take()
        read_all = getattr(source, "read_all", None)  # a backend that can hand the whole span over at once
        if read_all is not None:
            data: builtins.bytes = await read_all()
            return data
        return b"".join([chunk async for chunk in source])

    async def arrayBuffer(self) -> memoryview:
        return memoryview(await self.bytes())

    array_buffer = arrayBuffer

    async def text(self) -> str:
        return (await self.bytes()).decode("utf-8", errors="replace")

    async def json(self) -> Any:
        try:
            return js_value(json.loads(await self.bytes()))
        except ValueError as exc:
            raise JsSyntaxError(f"Unexpected token in JSON: {exc}") from None

    async def blob(self) -> Blob:
        content_type = self.httpMetadata.get("contentType") if self.httpMetadata is not None else None
        return Blob([await self.bytes()], content_type=content_type)

"""``env.<KV>``: the KV namespace a Worker calls, with Cloudflare's names, options and return shapes.

Python shapes follow the Workers SDK: options as keywords or a trailing dict (or a ``to_js`` value), a JS
``ArrayBuffer`` as a ``memoryview``, JS objects as ``JsDict``, a JS ``Map`` (bulk get) as a dict.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterable, AsyncIterator, Callable, Mapping
from typing import Any

from portflare.bindings.kv import validate as v
from portflare.bindings.kv.base import Entry, KVBackend
from portflare.bindings.options import options_from
from portflare.errors import JsSyntaxError, JsTypeError
from portflare.jsobject import JsDict, JsList, py_value

STREAM_CHUNK = 64 * 1024
_PUT_TYPE_ERROR = "KV put() accepts only strings, ArrayBuffers, ArrayBufferViews, and ReadableStreams as values."


class KVValueStream:
    """A ``get(key, "stream")`` result: an async iterable of bytes, usable as a ``Response`` body.

    Like a ``ReadableStream`` it can be read once (``async for``, or ``getReader().read()``).
    """

    def __init__(self, data: bytes) -> None:
        self._data = data
        self.locked = False

    def __aiter__(self) -> AsyncIterator[bytes]:
        if self.locked:
            raise JsTypeError("This ReadableStream is currently locked to a reader.")
        self.locked = True
        return self._chunks()

    async def _chunks(self) -> AsyncIterator[bytes]:
        data, self._data = self._data, b""
        view = memoryview(data)
        for start in range(0, len(data), STREAM_CHUNK):
            yield bytes(view[start:start + STREAM_CHUNK])

    def getReader(self) -> _StreamReader:
        return _StreamReader(self.__aiter__())

    async def cancel(self, reason: Any = None) -> None:
        self.locked, self._data = True, b""


class _StreamReader:
    def __init__(self, chunks: AsyncIterator[bytes]) -> None:
        self._chunks = chunks

    async def read(self) -> JsDict:
        try:
            return JsDict(done=False, value=await anext(self._chunks))
        except StopAsyncIteration:
            return JsDict(done=True, value=None)

    def releaseLock(self) -> None:
        pass


def _reject_constant(name: str) -> Any:
    raise ValueError(f"Unexpected token '{name[0]}'")  # JSON.parse has no NaN/Infinity


def _parse_json(data: bytes | str) -> Any:
    try:
        return json.loads(data, object_hook=JsDict, parse_constant=_reject_constant)
    except ValueError as exc:
        raise JsSyntaxError(f"Unexpected token in JSON: {exc}") from None


def _decode(entry: Entry, value_type: str) -> Any:
    if value_type == "text":
        return entry.value.decode("utf-8", errors="replace")  # as TextDecoder: bad bytes become U+FFFD
    if value_type == "json":
        return _parse_json(entry.value.decode("utf-8", errors="replace"))
    if value_type == "arrayBuffer":
        return memoryview(entry.value)  # the SDK hands an ArrayBuffer to Python as a memoryview
    return KVValueStream(entry.value)


def _metadata(entry: Entry | None) -> Any:
    if entry is None or entry.metadata is None:
        return None
    return _parse_json(entry.metadata)


def _value_source(value: Any) -> bytes | AsyncIterable[Any]:
    """workerd's put() body check, before any I/O: a stream is returned unread."""
    value = py_value(value)
    if isinstance(value, str):
        return v.utf8(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value)
    if isinstance(value, AsyncIterable):
        return value
    raise JsTypeError(_PUT_TYPE_ERROR)


async def _read_stream(stream: AsyncIterable[Any]) -> bytes:
    """Read a streamed value; past the limit keep counting but not keeping, so the error has the full length
    (as the KV service's length-counting stream does)."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in stream:
        if isinstance(chunk, str):
            chunk = chunk.encode("utf-8")
        elif not isinstance(chunk, (bytes, bytearray, memoryview)):
            raise JsTypeError("This WritableStream only supports writing byte types.")
        size += len(chunk)
        if size <= v.MAX_VALUE_SIZE:
            chunks.append(bytes(chunk))
    v.check_value_size(size)
    return b"".join(chunks)


class KVNamespace:
    """A Workers KV namespace over any ``KVBackend``.

    ``clock`` returns "now" in epoch seconds: expirations are computed and checked against it, so tests can
    move time without sleeping (backends with their own expiry, like Redis, also expire keys for real).
    """

    def __init__(self, backend: KVBackend, *, clock: Callable[[], float] = time.time) -> None:
        self._backend = backend
        self._clock = clock

    async def get(self, key: Any, type_or_options: Any = None, **kwargs: Any) -> Any:
        if type_or_options is None and not kwargs and type(key) is str:  # the common case, kept short
            entry = await self._backend.get(v.validate_key("GET", key), self._clock())
            return None if entry is None else entry.value.decode("utf-8", "replace")
        options = options_from(type_or_options, kwargs, type_key="type")
        key = py_value(key)
        if isinstance(key, (list, tuple)):
            return await self._get_bulk(list(key), options, with_metadata=False)
        entry, value_type = await self._get_one(key, options)
        return None if entry is None else _decode(entry, value_type)

    async def getWithMetadata(self, key: Any, type_or_options: Any = None, **kwargs: Any) -> Any:
        options = options_from(type_or_options, kwargs, type_key="type")
        key = py_value(key)
        if isinstance(key, (list, tuple)):
            return await self._get_bulk(list(key), options, with_metadata=True)
        entry, value_type = await self._get_one(key, options)
        value = None if entry is None else _decode(entry, value_type)
        return JsDict(value=value, metadata=_metadata(entry), cacheStatus=None)

    get_with_metadata = getWithMetadata

    async def _get_one(self, key: Any, options: Mapping[str, Any]) -> tuple[Entry | None, str]:
        value_type = str(options.get("type") or "text")
        cache_ttl = v.int_option(options, "cacheTtl")  # workerd converts options before anything else
        key = v.validate_key("GET", key)
        v.validate_cache_ttl({"cacheTtl": cache_ttl})
        entry = await self._backend.get(key, self._clock())
        if entry is not None:
            v.check_get_type(value_type)
        return entry, value_type

    async def _get_bulk(self, keys: list[Any], options: Mapping[str, Any], *, with_metadata: bool) -> JsDict:
        value_type = str(options.get("type") or "")
        cache_ttl = v.int_option(options, "cacheTtl")
        names = v.validate_bulk(keys, value_type)
        v.validate_cache_ttl({"cacheTtl": cache_ttl}, "GET_BULK")
        entries = await self._backend.get_many(names, self._clock())
        result, total = JsDict(), 0
        for name in names:
            entry = entries.get(name)
            if entry is None:
                result[name] = None
                continue
            text = entry.value.decode("utf-8", errors="replace")
            total += len(text)
            if value_type == "json":
                try:
                    value = _parse_json(text)
                except JsSyntaxError:
                    raise v.kv_error("GET_BULK", 400,
                                     "At least one of the requested keys corresponds to a non-json value") from None
            else:
                value = text
            result[name] = JsDict(value=value, metadata=_metadata(entry)) if with_metadata else value
        if total > v.MAX_BULK_SIZE:
            raise v.kv_error("GET_BULK", 413, "Total size of request exceeds the limit of 25MB")
        return result

    async def put(self, key: Any, value: Any, options: Any = None, **kwargs: Any) -> None:
        """Checks run in Cloudflare's order (runtime first, then the KV service), and all of them before
        anything is stored: bad input stores nothing."""
        if options is None and not kwargs and type(key) is str and type(value) is str:  # the common case
            key = v.validate_key("PUT", key)
            data = v.utf8(value)
            v.check_value_size(len(data))
            await self._backend.put(key, data, None, None)
            return
        opts = options_from(options, kwargs)
        for name in ("expiration", "expirationTtl"):
            v.int_option(opts, name)
        key = v.validate_key("PUT", py_value(key))
        metadata = v.serialise_metadata(opts.get("metadata"))
        source = _value_source(value)
        expiration = v.expiration_from(opts, self._clock())
        v.check_metadata_size(metadata)
        data = source if isinstance(source, bytes) else await _read_stream(source)
        v.check_value_size(len(data))
        await self._backend.put(key, data, expiration, metadata)

    async def delete(self, key: Any) -> None:
        await self._backend.delete(v.validate_key("DELETE", py_value(key)))

    async def list(self, options: Any = None, **kwargs: Any) -> JsDict:
        opts = options_from(options, kwargs)
        limit = v.list_limit(opts)
        prefix = v.validate_prefix(opts.get("prefix"))
        start_after = v.decode_cursor(opts.get("cursor"))
        keys, more = await self._backend.list_page(prefix, start_after, limit, self._clock())
        listed = JsList()
        for item in keys:
            entry = JsDict(name=item.name)
            if item.expiration is not None:
                entry["expiration"] = item.expiration
            if item.metadata is not None:
                entry["metadata"] = _parse_json(item.metadata)
            listed.append(entry)
        result = JsDict(keys=listed, list_complete=not more)
        if more:
            result["cursor"] = v.encode_cursor(keys[-1].name)
        result["cacheStatus"] = None
        return result

    async def _aclose(self) -> None:
        await self._backend.close()

    def __repr__(self) -> str:
        return f"KVNamespace({type(self._backend).__name__})"

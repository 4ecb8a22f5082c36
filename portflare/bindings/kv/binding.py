"""``env.<KV>``: the KV namespace a Worker calls, with Cloudflare's names, options and return shapes."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any

from portflare.bindings.kv import validate as v
from portflare.bindings.kv.base import Entry, KVBackend
from portflare.errors import JsSyntaxError, JsTypeError
from portflare.jsobject import JsDict, JsList, py_value

STREAM_CHUNK = 64 * 1024


def options_from(arg: Any, kwargs: Mapping[str, Any], *, type_key: str | None = None) -> dict[str, Any]:
    """Options given as a trailing dict (also a JsDict or a ``to_js`` value), as keywords, or both.

    For ``get`` a bare string is the response type, as in ``kv.get(key, "json")``.
    """
    options: dict[str, Any] = {}
    arg = py_value(arg)
    if isinstance(arg, str) and type_key is not None:
        options[type_key] = arg
    elif isinstance(arg, Mapping):
        options.update(arg)
    elif arg is not None:
        raise JsTypeError(f"Options must be an object, got {type(arg).__name__}.")
    options.update({k: py_value(val) for k, val in kwargs.items()})
    return options


class KVValueStream:
    """A ``get(key, "stream")`` result: an async iterable of bytes, usable as a ``Response`` body."""

    def __init__(self, data: bytes) -> None:
        self._data = data
        self.locked = False

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self._chunks()

    async def _chunks(self) -> AsyncIterator[bytes]:
        if self.locked:
            raise JsTypeError("This ReadableStream is currently locked to a reader.")
        self.locked = True
        for start in range(0, len(self._data), STREAM_CHUNK):
            yield self._data[start:start + STREAM_CHUNK]


def _decode(entry: Entry | None, value_type: str) -> Any:
    if entry is None:
        return None
    if value_type == "text":
        return entry.value.decode("utf-8", errors="replace")
    if value_type == "json":
        try:
            return json.loads(entry.value)
        except ValueError as exc:
            raise JsSyntaxError(f"Unexpected token in JSON: {exc}") from None
    if value_type == "arrayBuffer":
        return memoryview(entry.value)  # the SDK hands an ArrayBuffer over as a memoryview
    return KVValueStream(entry.value)


def _metadata(entry: Entry | None) -> Any:
    if entry is None or entry.metadata is None:
        return None
    return json.loads(entry.metadata, object_hook=JsDict)


async def _value_bytes(value: Any) -> bytes:
    value = py_value(value)
    if isinstance(value, str):
        return value.encode("utf-8")
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value)
    stream = getattr(value, "body", None) if not hasattr(value, "__aiter__") else value
    if stream is not None and hasattr(stream, "__aiter__"):
        chunks, size = [], 0
        async for chunk in stream:
            data = chunk.encode("utf-8") if isinstance(chunk, str) else bytes(chunk)
            size += len(data)
            v.check_value_size(size)  # stop reading an oversized stream early
            chunks.append(data)
        return b"".join(chunks)
    raise JsTypeError("KV put() accepts only strings, ArrayBuffers, ArrayBufferViews, and ReadableStreams as values.")


class KVNamespace:
    """A Workers KV namespace over any ``KVBackend``."""

    def __init__(self, backend: KVBackend, *, clock: Callable[[], float] = time.time) -> None:
        self._backend = backend
        self._clock = clock

    async def get(self, key: Any, type_or_options: Any = None, **kwargs: Any) -> Any:
        options = options_from(type_or_options, kwargs, type_key="type")
        key = py_value(key)
        if isinstance(key, (list, tuple)):
            return await self._get_bulk(list(key), options, with_metadata=False)
        value_type = v.validate_get_type(options.get("type"))
        key = v.validate_key("GET", key)
        v.validate_cache_ttl(options)
        return _decode(await self._backend.get(key, self._clock()), value_type)

    async def getWithMetadata(self, key: Any, type_or_options: Any = None, **kwargs: Any) -> Any:
        options = options_from(type_or_options, kwargs, type_key="type")
        key = py_value(key)
        if isinstance(key, (list, tuple)):
            return await self._get_bulk(list(key), options, with_metadata=True)
        value_type = v.validate_get_type(options.get("type"))
        key = v.validate_key("GET", key)
        v.validate_cache_ttl(options)
        entry = await self._backend.get(key, self._clock())
        return JsDict(value=_decode(entry, value_type), metadata=_metadata(entry), cacheStatus=None)

    get_with_metadata = getWithMetadata

    async def _get_bulk(self, keys: list[Any], options: Mapping[str, Any], *, with_metadata: bool) -> JsDict:
        value_type = str(options.get("type") or "text")
        names = v.validate_bulk(keys, value_type)
        v.validate_cache_ttl(options, "GET_BULK")
        entries = await self._backend.get_many(names, self._clock())
        total = sum(len(e.value) for e in entries.values() if e is not None)
        if total > v.MAX_VALUE_SIZE:
            raise v.kv_error("GET_BULK", 413, "Total size of request exceeds the limit of 25MB")
        result = JsDict()
        for name in names:
            entry = entries.get(name)
            try:
                value = _decode(entry, value_type)
            except JsSyntaxError:
                raise v.kv_error("GET_BULK", 400,
                                 "At least one of the requested keys corresponds to a non-json value") from None
            if with_metadata:
                result[name] = None if entry is None else JsDict(value=value, metadata=_metadata(entry))
            else:
                result[name] = value
        return result

    async def put(self, key: Any, value: Any, options: Any = None, **kwargs: Any) -> None:
        opts = options_from(options, kwargs)
        key = v.validate_key("PUT", py_value(key))
        now = self._clock()
        # Validate everything before reading the value or touching storage: bad input stores nothing.
        expiration = v.expiration_from(opts, now)
        metadata = v.encode_metadata(opts.get("metadata"))
        data = await _value_bytes(value)
        v.check_value_size(len(data))
        await self._backend.put(key, data, expiration, metadata)

    async def delete(self, key: Any) -> None:
        await self._backend.delete(v.validate_key("DELETE", py_value(key)))

    async def list(self, options: Any = None, **kwargs: Any) -> JsDict:
        opts = options_from(options, kwargs)
        limit = v.validate_list_limit(opts.get("limit"))
        prefix = v.validate_prefix(opts.get("prefix"))
        start_after = v.decode_cursor(opts.get("cursor"))
        keys, more = await self._backend.list_page(prefix, start_after, limit, self._clock())
        listed = JsList()
        for item in keys:
            entry = JsDict(name=item.name)
            if item.expiration is not None:
                entry["expiration"] = item.expiration
            if item.metadata is not None:
                entry["metadata"] = json.loads(item.metadata, object_hook=JsDict)
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

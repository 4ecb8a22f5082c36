"""Values a Worker may store, as one stream of bytes chunks that counts and hashes itself on the way to a backend."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterable, AsyncIterator, Callable
from concurrent.futures import Executor
from typing import Any, TypeVar

from portflare.api.blob import Blob
from portflare.bindings.r2 import validate as v
from portflare.errors import JsTypeError
from portflare.jsobject import py_value

THREAD_HASH_BYTES = 256 * 1024  # below this, hashing on the loop thread costs less than a thread hop

T = TypeVar("T")


async def in_thread(executor: Executor | None, fn: Callable[[Any], T], data: Any) -> T:
    """``fn(data)`` on an ``executor`` thread, letting go of ``data`` the moment ``fn`` returns. A pool thread
    holds the call it ran until it next gets the GIL, after the call is reported done; meanwhile the next part of
    a stream may be read, and a buffer kept that long would put a third part in memory."""
    held = [data]
    del data
    return await asyncio.get_running_loop().run_in_executor(executor, lambda: fn(held.pop()))


def source_of(value: Any, op: str = "put") -> tuple[AsyncIterable[bytes], int | None]:
    """The chunks of a put/part value, and its length when it is already in memory: str, bytes-like, Blob, None
    (empty), an async iterable of bytes, or anything exposing one as ``.body`` (a Request, Response,
    R2ObjectBody)."""
    value = py_value(value)
    data: bytes | None = None
    if value is None:
        data = b""
    elif isinstance(value, str):
        data = value.encode("utf-8")
    elif isinstance(value, (bytes, bytearray, memoryview)):
        data = bytes(value)
    elif isinstance(value, Blob):
        data = value._data
    if data is not None:
        return _whole(data), len(data)
    if hasattr(value, "__aiter__"):
        return _as_bytes(value), None
    body = getattr(value, "body", None)
    if body is not None and not isinstance(value, (dict, list, tuple)):
        return source_of(body, op)
    if body is None and hasattr(value, "bodyUsed"):
        return _whole(b""), 0  # a Request/Response without a body
    raise JsTypeError(f"Failed to execute '{op}' on 'R2Bucket': parameter 2 is not of type 'ReadableStream or "
                      "ArrayBuffer or ArrayBufferView or string or Blob'.")


async def _whole(data: bytes) -> AsyncIterator[bytes]:
    yield data  # already in memory: one chunk, no copies


async def _as_bytes(source: AsyncIterable[Any]) -> AsyncIterator[bytes]:
    async for chunk in source:
        if isinstance(chunk, bytes):
            yield chunk
        elif isinstance(chunk, (bytearray, memoryview)):
            yield bytes(chunk)
        elif isinstance(chunk, str):
            yield chunk.encode("utf-8")
        else:
            raise JsTypeError(f"A stream chunk must be bytes, not {type(chunk).__name__}.")


class Hashing:
    """The ``HashingStream`` handed to backends: md5 always, plus the algorithm the caller asked to verify. Raises
    R2's size or checksum error in place of ending, so content that breaks a rule is never committed."""

    def __init__(self, op: str, source: AsyncIterable[bytes], expected: tuple[str, str] | None = None,
                 length: int | None = None) -> None:
        self._op = op
        self.length = length
        self._source = source
        self._expected = expected
        self.verifies = expected is not None
        self._md5 = hashlib.md5()
        self._extra = v.hasher(expected[0]) if expected and expected[0] != "md5" else None
        self._hashed = 0
        self.size = 0
        self.md5_hex = ""
        self.checksums: dict[str, str] = {}

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self._iterate()

    def unhashed(self) -> AsyncIterator[bytes]:
        return self._chunks()

    async def hash(self, data: bytes | bytearray) -> None:
        if len(data) >= THREAD_HASH_BYTES:  # on a thread (hashlib lets go of the GIL): the caller sends meanwhile
            await in_thread(None, self._update, data)
        else:
            self._update(data)

    def _update(self, chunk: bytes | bytearray) -> None:
        self._md5.update(chunk)
        if self._extra is not None:
            self._extra.update(chunk)
        self._hashed += len(chunk)

    async def _chunks(self) -> AsyncIterator[bytes]:
        async for chunk in self._source:
            if not chunk:
                continue
            self.size += len(chunk)
            v.check_size(self._op, self.size)
            yield chunk

    async def _iterate(self) -> AsyncIterator[bytes]:
        # A large chunk is hashed on a thread (hashlib lets go of the GIL) while the backend writes it.
        pending: asyncio.Future[None] | None = None
        async for chunk in self._chunks():
            if pending is not None:
                await pending
                pending = None
            if len(chunk) >= THREAD_HASH_BYTES:
                pending = asyncio.get_running_loop().run_in_executor(None, self._update, chunk)
            else:
                self._update(chunk)
            yield chunk
        if pending is not None:
            await pending
        self.finish()

    def finish(self) -> None:
        if self._hashed != self.size:  # a backend hashed less (or more) than it read: never a wrong md5
            raise AssertionError(f"{self._op}: {self._hashed} bytes hashed of {self.size}")
        self.md5_hex = self._md5.hexdigest()
        self.checksums = {"md5": self.md5_hex}
        if self._expected is not None:
            name, expected_hex = self._expected
            actual = self.md5_hex if self._extra is None else self._extra.hexdigest()
            if actual != expected_hex:
                raise v.checksum_mismatch(self._op, name, expected_hex, actual)
            self.checksums[name] = actual

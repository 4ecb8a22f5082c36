"""The body shared by ``Request`` and ``Response``: what a body may be built from, and reading it once.

A body is either bytes held in memory or an async iterator of byte chunks (a request streamed from the
server, a fetch() response, a generator the Worker returns). Like JS, it can be consumed once; ``clone()``
tees a stream so both copies can be read.

The host streams a body with ``aiter_bytes()``: an async iterator of ``bytes`` chunks that marks it used.
"""

from __future__ import annotations

import asyncio
import builtins
import collections
import json
from collections.abc import AsyncIterable, AsyncIterator, Iterable
from typing import TYPE_CHECKING, Any, TypeAlias

from portflare.api.blob import Blob
from portflare.api.formdata import FormData
from portflare.api.typedarrays import Uint8Array
from portflare.jsobject import JsDict, js_value

if TYPE_CHECKING:
    from portflare.api.headers import Headers

JSBody: TypeAlias = Any
Source: TypeAlias = "bytes | AsyncIterator[bytes] | None"


class BodyUsedError(TypeError):
    def __init__(self) -> None:
        super().__init__("TypeError: Body has already been used. It can only be used once. Use tee() first if "
                         "you need to read it twice.")


def extract_body(init: Any) -> tuple[Source, str | None]:
    """(source, default content type) for anything a Request/Response body may be built from."""
    if init is None:
        return None, None
    if isinstance(init, str):
        return init.encode("utf-8"), "text/plain;charset=UTF-8"  # workerd's exact default
    if isinstance(init, (bytes, bytearray, memoryview)):
        return bytes(init), None
    if isinstance(init, Uint8Array):  # js.Uint8Array: a TypedArray body, as on Cloudflare
        return init.to_bytes(), None
    if isinstance(init, FormData):
        data, ctype = init.encode_multipart()
        return data, ctype
    if isinstance(init, Blob):
        return init._data, init.content_type or None
    if isinstance(init, ReadableStream):
        return init._take(), None
    if isinstance(init, AsyncIterable):
        return _chunks(init), None
    if hasattr(init, "body") and not isinstance(init, (dict, list, tuple)):
        # A Response, an R2 object body or anything else exposing its stream as `.body`.
        source, _ = extract_body(init.body)
        found = getattr(getattr(init, "headers", None), "get", lambda _: None)("content-type")
        return source, found if isinstance(found, str) else None
    if (isinstance(init, Iterable) and not isinstance(init, (dict, list, tuple, set))) or isinstance(init, list):
        return _sync_chunks(init), None
    raise TypeError(f"Unsupported body type {type(init).__name__}: expected str, bytes, FormData, Blob or a "
                    f"stream of bytes")


def _as_bytes(chunk: Any) -> bytes:
    if isinstance(chunk, bytes):
        return chunk
    if isinstance(chunk, str):
        return chunk.encode("utf-8")
    if isinstance(chunk, (bytearray, memoryview, Uint8Array)):
        return bytes(chunk)
    raise TypeError(f"A body stream yielded {type(chunk).__name__}; body chunks must be bytes")


async def _chunks(source: AsyncIterable[Any]) -> AsyncIterator[bytes]:
    async for chunk in source:
        if chunk:
            yield _as_bytes(chunk)


async def _sync_chunks(source: Iterable[Any]) -> AsyncIterator[bytes]:
    for chunk in source:
        if chunk:
            yield _as_bytes(chunk)


def tee(source: AsyncIterator[bytes]) -> tuple[AsyncIterator[bytes], AsyncIterator[bytes]]:
    """Two iterators over one stream; each chunk is pulled from the source once and buffered for the other."""
    buffers: tuple[collections.deque[bytes], collections.deque[bytes]] = (collections.deque(), collections.deque())
    lock = asyncio.Lock()
    finished = False

    async def branch(mine: collections.deque[bytes]) -> AsyncIterator[bytes]:
        nonlocal finished
        while True:
            if mine:
                yield mine.popleft()
                continue
            if finished:
                return
            async with lock:
                if mine or finished:
                    continue
                try:
                    chunk = await anext(source)
                except StopAsyncIteration:
                    finished = True
                    continue
                for buf in buffers:
                    buf.append(chunk)

    return branch(buffers[0]), branch(buffers[1])


class ReadableStream:
    """A body as a stream: async-iterate it for bytes chunks (or ``getReader().read()`` as in JS)."""

    def __init__(self, owner: Body) -> None:
        self._owner = owner

    def _take(self) -> AsyncIterator[bytes]:
        return self._owner.aiter_bytes()

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self._take()

    @property
    def locked(self) -> bool:
        return self._owner.body_used

    def getReader(self) -> _Reader:
        return _Reader(self._take())

    async def cancel(self, reason: Any = None) -> None:
        it = self._take()
        aclose = getattr(it, "aclose", None)
        if aclose is not None:
            await aclose()


class _Reader:
    def __init__(self, it: AsyncIterator[bytes]) -> None:
        self._it = it

    async def read(self) -> JsDict:
        try:
            return JsDict(done=False, value=await anext(self._it))
        except StopAsyncIteration:
            return JsDict(done=True, value=None)

    def releaseLock(self) -> None:
        pass


class Body:
    """Mixin holding one body; subclasses set ``self.headers`` and call ``_set_body``."""

    headers: Headers
    _source: Source
    _used: bool

    def _set_body(self, init: Any) -> None:
        self._source, ctype = extract_body(init)
        self._used = False
        if ctype and not self.headers.has("content-type"):
            self.headers.append("content-type", ctype)  # `set` when absent, without its second scan

    @property
    def body(self) -> ReadableStream | None:
        return None if self._source is None else ReadableStream(self)

    @property
    def body_used(self) -> bool:
        return self._used

    @property
    def bodyUsed(self) -> bool:
        return self._used

    def aiter_bytes(self) -> AsyncIterator[builtins.bytes]:
        """Stream the body as bytes chunks (what the host sends); marks the body used."""
        if self._used:
            raise BodyUsedError()
        self._used = True
        source, self._source = self._source, None
        if source is None:
            return _sync_chunks(())
        if isinstance(source, bytes):
            return _sync_chunks((source,))
        return source

    def take_buffered(self) -> builtins.bytes | None:
        """The whole body when it is held in memory (``b""`` for none), marking it used; else None and the
        body stays as it was (stream it with ``aiter_bytes()``). Lets the host send it in one message."""
        if self._used:
            raise BodyUsedError()
        source = self._source
        if source is None:
            self._used = True
            return b""
        if isinstance(source, builtins.bytes):
            self._used, self._source = True, None
            return source
        return None

    def known_length(self) -> int | None:
        """The body's length when it is held in memory (the host sends Content-Length then), else None."""
        if self._used:
            return None
        if self._source is None:
            return 0
        return len(self._source) if isinstance(self._source, builtins.bytes) else None

    def _clone_source(self) -> Source:
        if self._used:
            raise TypeError("TypeError: Cannot clone a body that has already been used.")
        if self._source is None or isinstance(self._source, bytes):
            return self._source
        self._source, other = tee(self._source)
        return other

    async def bytes(self) -> builtins.bytes:
        return b"".join([chunk async for chunk in self.aiter_bytes()])

    async def text(self) -> str:
        return (await self.bytes()).decode("utf-8", errors="replace")

    string = text  # pyodide.http.FetchResponse's name, which the SDK's Response inherits

    async def json(self, **kwargs: Any) -> Any:
        # JsDict is a dict, so SDK-style code sees a dict while legacy `(await request.json()).name` still works.
        return js_value(json.loads(await self.bytes(), **kwargs))

    async def buffer(self) -> builtins.memoryview:
        return memoryview(await self.bytes())

    arrayBuffer = buffer

    async def memoryview(self) -> builtins.memoryview:
        return memoryview(await self.bytes())

    async def form_data(self) -> FormData:
        return FormData.parse(await self.bytes(), self.headers.get("content-type"))

    formData = form_data

    async def blob(self) -> Blob:
        return Blob([await self.bytes()], content_type=self.headers.get("content-type"))

"""``Blob`` and ``File``: immutable bytes with a content type (and, for a File, a name)."""

from __future__ import annotations

import builtins
import time
from collections.abc import AsyncIterator, Iterable
from typing import Any, TypeAlias

BlobValue: TypeAlias = "str | bytes | bytearray | memoryview | Blob"
BlobEnding: TypeAlias = str


def _part_bytes(part: Any, endings: str | None) -> bytes:
    if isinstance(part, Blob):
        return part._data
    if isinstance(part, str):
        text: str = part.replace("\r\n", "\n") if endings == "native" else part
        return text.encode("utf-8")
    if isinstance(part, (bytes, bytearray, memoryview)):
        return bytes(part)
    raise TypeError(f"Blob parts must be str, bytes or Blob, not {type(part).__name__}")


class Blob:
    def __init__(self, blob_parts: Iterable[BlobValue] | BlobValue | None = None, content_type: str | None = None,
                 endings: str | None = None) -> None:
        if blob_parts is None:
            parts: Iterable[Any] = ()
        elif isinstance(blob_parts, (str, bytes, bytearray, memoryview, Blob)):
            parts = (blob_parts,)
        else:
            parts = blob_parts
        self._data: builtins.bytes = b"".join(_part_bytes(p, endings) for p in parts)
        if content_type is None and isinstance(blob_parts, Blob):
            content_type = blob_parts.content_type  # Blob(other) keeps its type, as the SDK; Blob([other]) does not
        self._type = (content_type or "").lower()

    @property
    def size(self) -> int:
        return len(self._data)

    @property
    def content_type(self) -> str:
        return self._type

    @property
    def type(self) -> str:
        return self._type

    @property
    def js_object(self) -> Blob:
        return self

    async def text(self) -> str:
        return self._data.decode("utf-8", errors="replace")

    async def bytes(self) -> builtins.bytes:
        return self._data

    async def arrayBuffer(self) -> memoryview:
        return memoryview(self._data)

    async def stream(self) -> AsyncIterator[builtins.bytes]:
        yield self._data

    def slice(self, start: int | None = None, end: int | None = None, content_type: str | None = None) -> Blob:
        return Blob([self._data[start:end]], content_type=content_type)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(size={self.size}, type={self._type!r})"


class File(Blob):
    def __init__(self, blob_parts: Iterable[BlobValue] | BlobValue | None, filename: str,
                 content_type: str | None = None, endings: str | None = None,
                 last_modified: int | float | None = None) -> None:
        super().__init__(blob_parts, content_type, endings)
        self._name = filename
        self._last_modified = int(time.time() * 1000) if last_modified is None else last_modified

    @property
    def name(self) -> str:
        return self._name

    @property
    def last_modified(self) -> int | float:
        return self._last_modified

    @property
    def lastModified(self) -> int | float:
        return self._last_modified

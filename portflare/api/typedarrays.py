"""``Uint8Array`` and ``ArrayBuffer`` as Worker code reaches them through ``js``, on CPython.

Under Pyodide a JS ``ArrayBuffer`` arrives in Python as a ``memoryview`` (``.to_py()``), which is what portflare's
bindings return for one; so ``ArrayBuffer`` here *is* ``memoryview``, and a ``Uint8Array`` is a view of bytes
over one. As in JS, ``Uint8Array(buffer)`` shares the buffer's memory, while ``Uint8Array(typed_array)``,
``Uint8Array(bytes)`` or ``Uint8Array([1, 2])`` copy; values are stored modulo 256. The Pyodide buffer methods
(``to_bytes``, ``to_py``, ``to_memoryview``, ``to_string``, ``assign``, ``assign_to``) work too.
"""

from __future__ import annotations

import operator
from collections.abc import Iterable, Iterator
from typing import Any, SupportsIndex


def new_array_buffer(length: int = 0) -> memoryview:
    """``new ArrayBuffer(length)``: zeroed, writable bytes."""
    return memoryview(bytearray(operator.index(length)))


class Uint8Array:
    __slots__ = ("_view",)
    _view: memoryview

    def __init__(self, source: Any = 0, byte_offset: int = 0, length: int | None = None) -> None:
        if isinstance(source, bool):
            raise TypeError("Uint8Array: a boolean is not a length or a source of bytes")
        view: memoryview
        if isinstance(source, int):
            view = new_array_buffer(source)
        elif isinstance(source, memoryview) and not source.readonly:  # an ArrayBuffer: share it
            flat = source.cast("B") if source.format != "B" or source.ndim != 1 else source
            end = len(flat) if length is None else byte_offset + length
            if not 0 <= byte_offset <= end <= len(flat):
                raise ValueError("RangeError: Start offset or length is outside the bounds of the buffer")
            view = flat[byte_offset:end]
        elif isinstance(source, Uint8Array):
            view = memoryview(bytearray(source._view))
        elif isinstance(source, (bytes, bytearray, memoryview)):
            view = memoryview(bytearray(source))  # read-only memory (or Python bytes): a copy
        elif isinstance(source, Iterable) and not isinstance(source, str):
            view = memoryview(bytearray(int(value) & 0xFF for value in source))
        else:
            raise TypeError(f"Uint8Array: cannot be built from {type(source).__name__}")
        self._view = view

    @classmethod
    def new(cls, source: Any = 0, byte_offset: int = 0, length: int | None = None) -> Uint8Array:
        return cls(source, byte_offset, length)

    @classmethod
    def of(cls, *values: int) -> Uint8Array:
        return cls(values)

    @classmethod
    def from_(cls, values: Iterable[Any]) -> Uint8Array:
        return cls(list(values))

    # -- JS properties and methods -------------------------------------------------------------------------

    @property
    def length(self) -> int:
        return len(self._view)

    byteLength = length

    @property
    def buffer(self) -> memoryview:
        """The ArrayBuffer this array views (the part it spans)."""
        return self._view

    def subarray(self, begin: int = 0, end: int | None = None) -> Uint8Array:
        """A view of part of this array: writes show through both."""
        view = Uint8Array.__new__(Uint8Array)
        view._view = self._view[slice(begin, end)]
        return view

    def slice(self, begin: int = 0, end: int | None = None) -> Uint8Array:
        return Uint8Array(bytes(self._view[slice(begin, end)]))

    def set(self, source: Iterable[int], offset: int = 0) -> None:
        values = bytes(source._view) if isinstance(source, Uint8Array) else bytes(int(v) & 0xFF for v in source)
        if offset < 0 or offset + len(values) > len(self._view):
            raise ValueError("RangeError: offset is out of bounds")
        self._view[offset:offset + len(values)] = values

    def fill(self, value: int, start: int = 0, end: int | None = None) -> Uint8Array:
        part = range(len(self._view))[slice(start, end)]
        for i in part:
            self._view[i] = int(value) & 0xFF
        return self

    def indexOf(self, value: int, from_index: int = 0) -> int:
        try:
            return bytes(self._view).index(int(value), from_index)
        except ValueError:
            return -1

    def includes(self, value: int) -> bool:
        return self.indexOf(value) != -1

    # -- Pyodide's JsBuffer methods ------------------------------------------------------------------------

    def to_bytes(self) -> bytes:
        return bytes(self._view)

    def to_memoryview(self) -> memoryview:
        return self._view

    to_py = to_memoryview

    def to_string(self, encoding: str | None = None) -> str:
        return bytes(self._view).decode(encoding or "utf-8")

    def assign(self, source: Any) -> None:
        """Copy ``source`` (same length, any buffer) into this array."""
        data = bytes(source._view) if isinstance(source, Uint8Array) else bytes(source)
        if len(data) != len(self._view):
            raise ValueError("cannot assign from a buffer of a different length")
        self._view[:] = data

    def assign_to(self, target: Any) -> None:
        """Copy this array into ``target`` (a writable buffer of the same length)."""
        memoryview(target).cast("B")[:] = self._view

    # -- Python protocols ----------------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._view)

    def __getitem__(self, index: SupportsIndex) -> int:
        return int(self._view[index])

    def __setitem__(self, index: SupportsIndex, value: int) -> None:
        self._view[index] = int(value) & 0xFF

    def __iter__(self) -> Iterator[int]:
        return iter(self._view.tolist())

    def __bytes__(self) -> bytes:
        return bytes(self._view)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Uint8Array):
            return self._view == other._view
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]  # mutable, as bytearray

    def __repr__(self) -> str:
        return f"Uint8Array({list(self._view.tolist())!r})"


def is_view(value: Any) -> bool:
    """``ArrayBuffer.isView(value)``."""
    return isinstance(value, Uint8Array)

"""A per-backend cache of what was derived from one statement's text, bounded to its most recently used entries.

A Worker prepares the same few statements over and over, so caching per statement text pays; but SQL built at
run time (an ``IN (?, ?, …)`` list sized by the input, a column list picked per request) makes new texts
without end, and an unbounded cache would grow with them.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")


class Lru(Generic[K, V]):
    """A mapping holding at most ``size`` entries; adding one more drops the least recently used."""

    __slots__ = ("_entries", "size")

    def __init__(self, size: int) -> None:
        if size < 1:
            raise ValueError(f"an Lru holds at least one entry, not {size}")
        self._entries: OrderedDict[K, V] = OrderedDict()
        self.size = size

    def get(self, key: K) -> V | None:
        entries = self._entries
        value = entries.get(key)
        if value is not None:
            entries.move_to_end(key)
        return value

    def put(self, key: K, value: V) -> None:
        entries = self._entries
        entries[key] = value
        entries.move_to_end(key)
        if len(entries) > self.size:
            entries.popitem(last=False)

    def clear(self) -> None:
        self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, key: object) -> bool:
        return key in self._entries

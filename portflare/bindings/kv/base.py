"""The KV backend interface: small, async, bytes-level.

Backends store bytes, an absolute expiration (epoch seconds) and metadata already serialised as JSON text.
Decoding, TTL arithmetic, validation and cursors live once, in ``binding.py`` and ``validate.py``.
Every read takes ``now`` so an entry whose expiration has passed is never returned, whatever the backend's
own expiry does, and so tests can control time.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple, Protocol

from portflare.backends import BackendTarget
from portflare.errors import JsException


class Entry(NamedTuple):  # a tuple, not a dataclass: built on every read, and cheaper to build
    value: bytes
    expiration: int | None  # epoch seconds
    metadata: str | None  # JSON text


@dataclass(frozen=True, slots=True)
class ListedKey:
    name: str
    expiration: int | None
    metadata: str | None


class KVBackend(Protocol):
    """Keys arrive validated (non-empty, at most 512 UTF-8 bytes, no lone surrogates)."""

    @classmethod
    async def open(cls, target: BackendTarget) -> KVBackend: ...

    async def get(self, key: str, now: float) -> Entry | None:
        """The entry, or None when missing or when its expiration is at or before ``now``."""
        ...

    async def get_many(self, keys: Sequence[str], now: float) -> dict[str, Entry | None]:
        """``get`` for each key (1-100 of them), in as few round trips as the store allows."""
        ...

    async def put(self, key: str, value: bytes, expiration: int | None, metadata: str | None) -> None:
        """Replace the key's value, expiration and metadata together (atomically: never a mix of two puts)."""
        ...

    async def delete(self, key: str) -> None:
        """Remove the key; a missing key is not an error."""
        ...

    async def list_page(self, prefix: str, start_after: str | None, limit: int,
                        now: float) -> tuple[list[ListedKey], bool]:
        """Up to ``limit`` live keys after ``start_after`` with ``prefix``, in UTF-8 byte order, and whether
        more follow."""
        ...

    async def close(self) -> None: ...


def storage_error(op: str, exc: Exception) -> JsException:
    """A store failure as the Worker sees KV's own failures: ``Error: KV <OP> failed: 500 ...``.

    Backends catch their driver's errors with a plain ``try`` (free on the fast path, unlike a context
    manager) and raise this from them.
    """
    return JsException(f"KV {op} failed: 500 {type(exc).__name__}: {exc}")


def is_live(expiration: int | None, now: float) -> bool:
    return expiration is None or expiration > now

"""``Headers``: the fetch API's case-insensitive, multi-valued header list.

Cloudflare's SDK hands Python code an ``http.client.HTTPMessage``-like Mapping (``headers.get(name)``,
``headers[name]``, ``headers.get_all(name)``, ``name in headers``), while code written against raw JS uses
``get/set/append/delete/has/entries``. One class serves both idioms.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, TypeAlias

HeadersInit: TypeAlias = "Headers | Mapping[str, Any] | Iterable[tuple[str, Any]] | None"

_SET_COOKIE = "set-cookie"
# Characters a header name may not contain (one regex search: names are checked on every append/set).
_BAD_NAME = re.compile(r'[ \t\r\n:()<>@,;\\"/\[\]?={}]')


def _check_name(name: str) -> str:
    if not isinstance(name, str) or not name or _BAD_NAME.search(name):
        from portflare.errors import JsTypeError

        raise JsTypeError(f"Invalid header name '{name}'.")
    return name.lower()


def _normalize_value(value: Any) -> str:
    # Like the fetch spec: values are stringified and stripped of leading/trailing whitespace.
    text = value.decode("latin-1") if isinstance(value, bytes) else str(value)
    if "\r" in text or "\n" in text or "\0" in text:
        from portflare.errors import JsTypeError

        raise JsTypeError(f"Invalid header value '{text}'.")
    return text.strip(" \t")


class Headers:
    """Header list keeping insertion order and duplicates; names compare case-insensitively."""

    __slots__ = ("_items",)

    def __init__(self, init: HeadersInit = None) -> None:
        self._items: list[tuple[str, str]] = []
        if init is None:
            return
        if isinstance(init, Headers):
            self._items = list(init._items)
            return
        pairs: Iterable[Any]
        if isinstance(init, Mapping):
            pairs = init.items()
        elif hasattr(init, "items") and callable(init.items):  # HTTPMessage, httpx.Headers
            pairs = init.items()
        else:
            pairs = init
        for pair in pairs:
            name, value = pair
            self.append(name, value)

    # -- JS API ----------------------------------------------------------------------------------------

    def append(self, name: str, value: Any) -> None:
        self._items.append((_check_name(name), _normalize_value(value)))

    def set(self, name: str, value: Any) -> None:
        key, text = _check_name(name), _normalize_value(value)
        if self._has(key):
            self._items = [(k, v) for k, v in self._items if k != key]
        self._items.append((key, text))

    def delete(self, name: str) -> None:
        key = name.lower()
        self._items = [(k, v) for k, v in self._items if k != key]

    def has(self, name: str) -> bool:
        return self._has(name.lower())

    def _has(self, key: str) -> bool:
        # A plain loop: any() over a generator costs more than the scan itself for a few headers.
        for k, _ in self._items:
            if k == key:
                return True
        return False

    def get(self, name: str, default: Any = None) -> Any:
        """The values for ``name`` joined with ", " (as JS ``get``), or ``default`` (as ``Mapping.get``)."""
        values = self.get_all(name)
        return ", ".join(values) if values else default

    def getSetCookie(self) -> list[str]:
        return [v for k, v in self._items if k == _SET_COOKIE]

    def get_all(self, name: str, failobj: Any = None) -> Any:
        """Every value for ``name`` in order, like ``HTTPMessage.get_all`` (empty list when absent)."""
        key = name.lower()
        values = [v for k, v in self._items if k == key]
        if not values and failobj is not None:
            return failobj
        return values

    def entries(self) -> Iterator[tuple[str, str]]:
        return iter(self.items())

    def forEach(self, callback: Any) -> None:
        for name, value in self.items():
            callback(value, name, self)

    def items(self) -> list[tuple[str, str]]:
        """(name, value) pairs as JS iterates: sorted lowercase names, values of one name combined with
        ", " except Set-Cookie, whose values cannot be combined and stay one pair each."""
        result: list[tuple[str, str]] = []
        for key in sorted({k for k, _ in self._items}):
            if key == _SET_COOKIE:
                result.extend((key, v) for v in self.get_all(key))
            else:
                result.append((key, ", ".join(self.get_all(key))))
        return result

    def keys(self) -> list[str]:
        return [k for k, _ in self.items()]

    def values(self) -> list[str]:
        return [v for _, v in self.items()]

    def raw(self) -> list[tuple[str, str]]:
        """Every header as added, duplicates and order preserved (what goes on the wire)."""
        return list(self._items)

    def copy(self) -> Headers:
        return Headers(self)

    def to_py(self, *args: Any, **kwargs: Any) -> dict[str, str]:
        return dict(self.items())

    @property
    def js_object(self) -> Headers:
        return self

    # -- Mapping protocol (HTTPMessage-like) -----------------------------------------------------------

    def __getitem__(self, name: str) -> str | None:
        # HTTPMessage returns None for a missing header instead of raising; the SDK exposes that.
        values = self.get_all(name)
        return ", ".join(values) if values else None

    def __setitem__(self, name: str, value: Any) -> None:
        self.set(name, value)

    def __delitem__(self, name: str) -> None:
        self.delete(name)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self.has(name)

    def __iter__(self) -> Iterator[tuple[str, str]]:
        # JS iteration yields [name, value] pairs, so `for k, v in headers` works as `for (const [k, v] of h)`.
        return iter(self.items())

    def __len__(self) -> int:
        return len(self.items())

    def __bool__(self) -> bool:
        return True

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Headers):
            return self.items() == other.items()
        if isinstance(other, Mapping):
            return dict(self.items()) == {str(k).lower(): str(v) for k, v in other.items()}
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Headers({self.items()!r})"

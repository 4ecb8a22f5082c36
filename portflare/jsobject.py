"""Python values shaped like the JS objects Cloudflare's Python SDK hands to Workers.

The current SDK converts plain JS objects into ``JsDict``: a ``dict`` that also allows attribute access, so
``result.results`` and ``result["results"]`` both work. Code written for the older SDK calls ``.to_py()`` on
binding results; on our values that is a no-op returning the value itself.
"""

from __future__ import annotations

from typing import Any, final


@final  # __getattribute__ knows this class's own attribute names only
class JsDict(dict[str, Any]):
    """A dict with attribute access, like the SDK's ``JsDict``. ``d.keys`` stays the dict method."""

    __slots__ = ()

    def __getattribute__(self, name: str) -> Any:
        # Not __getattr__: Python calls that only after the ordinary lookup has failed, and on CPython 3.11
        # failing builds an AttributeError, which made `result.meta` cost 0.45 µs instead of 0.07 µs.
        if name in _CLASS_ATTRIBUTES:  # methods and dunders first, as the ordinary lookup would find them
            return object.__getattribute__(self, name)
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None

    def __setattr__(self, name: str, value: Any) -> None:
        self[name] = value

    def __delattr__(self, name: str) -> None:
        try:
            del self[name]
        except KeyError:
            raise AttributeError(name) from None

    def to_py(self, *args: Any, **kwargs: Any) -> JsDict:
        return self

    def as_object_map(self) -> JsDict:
        return self


_CLASS_ATTRIBUTES = frozenset(dir(JsDict))


class JsList(list[Any]):
    """A list whose ``.to_py()`` is a no-op, for results that are JS arrays on Cloudflare."""

    __slots__ = ()

    def to_py(self, *args: Any, **kwargs: Any) -> JsList:
        return self


def js_value(value: Any) -> Any:
    """Deep-convert plain Python data into JsDict/JsList, as the SDK's ``python_from_rpc`` does."""
    if isinstance(value, dict) and not isinstance(value, JsDict):
        return JsDict({k: js_value(v) for k, v in value.items()})
    if isinstance(value, list) and not isinstance(value, JsList):
        return JsList(js_value(v) for v in value)
    return value


def py_value(value: Any) -> Any:
    """Unwrap what Workers code may pass in: ``to_js(...)`` results, JsProxy-likes with ``to_py``."""
    to_py = getattr(value, "to_py", None)
    if callable(to_py) and not isinstance(value, (JsDict, JsList)):
        return to_py()
    return value


def js_typeof(value: Any) -> str:
    """What JavaScript's ``typeof`` says of a Python value once converted (None is JS null: "object")."""
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if callable(value):
        return "function"
    return "object"

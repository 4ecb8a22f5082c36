"""Options as Workers code passes them to a binding call, once for every binding.

Python Workers pass options as keywords (``kv.put(k, v, expirationTtl=60)``), as a trailing dict
(``kv.put(k, v, {"expirationTtl": 60})``), as a ``to_js(...)`` value from older SDK code, or both; keywords win.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from portflare.errors import JsTypeError
from portflare.jsobject import py_value


def options_from(arg: Any, kwargs: Mapping[str, Any], *, type_key: str | None = None,
                 unwrap: Callable[[Any], Any] = py_value) -> dict[str, Any]:
    """Merge a trailing options object and keywords into one dict, each value passed through ``unwrap``.

    With ``type_key``, a bare string is that option, as in ``kv.get(key, "json")``.
    """
    options: dict[str, Any] = {}
    arg = py_value(arg)
    if type_key is not None and isinstance(arg, str):
        options[type_key] = arg
    elif isinstance(arg, Mapping):
        options.update((key, unwrap(value)) for key, value in arg.items())
    elif arg is not None:
        raise JsTypeError(f"Options must be an object, got {type(arg).__name__}.")
    options.update((key, unwrap(value)) for key, value in kwargs.items())
    return options

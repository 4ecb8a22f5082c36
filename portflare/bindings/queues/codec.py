"""Message bodies to bytes and back, per content type (``text``, ``bytes``, ``json``, ``v8``).

``v8`` is V8's structured-clone format on Cloudflare. There is no V8 here, so ``v8`` bodies are stored as
*tagged JSON*: plain JSON, with the values structured clone carries and JSON does not (bytes, datetimes,
sets, dicts with non-string keys, NaN/Infinity) wrapped as ``{"__portflare_v8__": <kind>, "v": ...}``. It is
never pickle: a queue shared by several nodes must not execute what it reads. Values structured clone rejects
(functions, arbitrary objects) raise ``DataCloneError`` as on Cloudflare.
"""

from __future__ import annotations

import base64
import json
import math
from datetime import UTC, datetime
from typing import Any

from portflare.errors import JsException, JsSyntaxError, JsTypeError
from portflare.jsobject import js_typeof, js_value, py_value

TAG = "__portflare_v8__"


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):  # JSON.stringify(date) is date.toJSON(): ISO 8601 in UTC, milliseconds
        return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def encode(body: Any, content_type: str) -> bytes:
    body = py_value(body)
    if content_type == "text":
        if not isinstance(body, str):
            raise JsTypeError(f'Content Type "text" requires a value of type string, but received: {js_typeof(body)}')
        return body.encode("utf-8")
    if content_type == "bytes":
        if not isinstance(body, (bytes, bytearray, memoryview)):
            raise JsTypeError('Content Type "bytes" requires a value of type ArrayBufferView, but received: '
                              f"{js_typeof(body)}")
        return bytes(body)
    if content_type == "json":
        try:
            return json.dumps(body, ensure_ascii=False, separators=(",", ":"), allow_nan=False,
                              default=_json_default).encode("utf-8")
        except (TypeError, ValueError) as exc:
            raise JsTypeError(f"Message body cannot be serialized as JSON: {exc}") from None
    return json.dumps(_clone(body), ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def decode(data: bytes, content_type: str) -> Any:
    """The body a consumer sees: str for text, memoryview for bytes (an ArrayBuffer, as the SDK hands it
    over), JsDict/JsList data for json and v8."""
    if content_type == "text":
        return data.decode("utf-8", errors="replace")
    if content_type == "bytes":
        return memoryview(data)
    try:
        if content_type == "json":
            return js_value(json.loads(data))
        return json.loads(data, object_hook=_unclone)
    except ValueError as exc:
        raise JsSyntaxError(f"Unexpected token in JSON: {exc}") from None


def _tag(kind: str, value: Any) -> dict[str, Any]:
    return {TAG: kind, "v": value}


def _clone(value: Any) -> Any:
    value = py_value(value)
    if value is None or isinstance(value, (str, bool, int)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else _tag("number", repr(value))
    if isinstance(value, (list, tuple)):
        return [_clone(v) for v in value]
    if isinstance(value, dict):
        if all(isinstance(k, str) for k in value) and TAG not in value:
            return {k: _clone(v) for k, v in value.items()}
        return _tag("map", [[_clone(k), _clone(v)] for k, v in value.items()])
    if isinstance(value, (bytes, bytearray, memoryview)):
        return _tag("bytes", base64.b64encode(bytes(value)).decode("ascii"))
    if isinstance(value, datetime):
        return _tag("date", value.timestamp() * 1000)
    if isinstance(value, (set, frozenset)):
        return _tag("set", [_clone(v) for v in value])
    raise JsException(f"{value!r} could not be cloned.", name="DataCloneError")


def _unclone(obj: dict[str, Any]) -> Any:
    kind = obj.get(TAG)
    if kind is None or set(obj) != {TAG, "v"}:
        return js_value(obj)
    value = obj["v"]
    if kind == "number":
        return float(value)
    if kind == "bytes":
        return memoryview(base64.b64decode(value))
    if kind == "date":
        return datetime.fromtimestamp(value / 1000, UTC)
    if kind == "set":
        return {_hashable(v) for v in value}
    if kind == "map":
        return {_hashable(k): v for k, v in value}
    return obj


def _hashable(key: Any) -> Any:
    """Set members and map keys were hashable when sent: tuples came back as lists, bytes as memoryviews."""
    if isinstance(key, memoryview):
        return key.tobytes()
    if isinstance(key, list):
        return tuple(_hashable(k) for k in key)
    return key

"""Cloudflare's KV limits and error wording, once for every backend.

Two layers, as on Cloudflare. workerd checks some things before any I/O and throws ``TypeError``s (key names,
value types, and option numbers, which it converts to a C++ ``int``). Everything else is checked by the KV
service and reaches the Worker as ``Error: KV <OP> failed: <status> <text>``; the texts here are Miniflare's
KV gateway (``workers/kv/validator.worker.ts``, ``namespace.worker.ts``).
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
from collections.abc import Mapping
from typing import Any

from portflare.errors import JsException, JsTypeError

MAX_KEY_SIZE = 512
MAX_VALUE_SIZE = 25 * 1024 * 1024  # 26,214,400 bytes
MAX_BULK_SIZE = 25 * 1024 * 1024
MAX_METADATA_SIZE = 1024
MIN_EXPIRATION_TTL = 60
MIN_CACHE_TTL = 30  # Miniflare's current minimum; older docs say 60 (Appendix B of the spec)
MAX_LIST_LIMIT = 1000
MAX_BULK_KEYS = 100

GET_TYPES = frozenset(("text", "json", "arrayBuffer", "stream"))
BULK_TYPES = ("text", "json")
INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1


def kv_error(op: str, status: int, text: str) -> JsException:
    return JsException(f"KV {op} failed: {status} {text}")


def js_str(value: Any) -> str:
    """A value as JavaScript's ``String(value)`` prints it (``30``, not ``30.0``; ``NaN``)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        if math.isinf(value):
            return "Infinity" if value > 0 else "-Infinity"
        if value.is_integer() and abs(value) < 1e21:
            return str(int(value))
    if value is None:
        return "null"
    return str(value)


_JS_NUMBER = re.compile(r"[+-]?(\d+\.?\d*([eE][+-]?\d+)?|\.\d+([eE][+-]?\d+)?|Infinity)")


def js_number(value: Any) -> float:
    """JavaScript's ``Number(value)`` for the values Python code passes."""
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return 0.0
        if re.fullmatch(r"0[xX][0-9a-fA-F]+", text):
            return float(int(text, 16))
        if _JS_NUMBER.fullmatch(text):
            return float(text.replace("Infinity", "inf"))
    return math.nan


def js_int(value: Any) -> int:
    """An option workerd declares as C++ ``int``: ``Number(value)``, finite, in int32 range, truncated."""
    number = js_number(value)
    if not math.isfinite(number):
        raise JsTypeError("The value cannot be converted because it is not an integer.")
    if not INT32_MIN <= number <= INT32_MAX:
        raise JsTypeError(f"Value out of range. Must be between {INT32_MIN} and {INT32_MAX} (inclusive).")
    return int(number)


def usv(text: str) -> str:
    """A string as JS hands it to the runtime as UTF-8: lone surrogates become U+FFFD."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    return text


def utf8(text: str) -> bytes:
    """``usv(text)`` in UTF-8, encoded once when it has no lone surrogate (as nearly every value has none)."""
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        return usv(text).encode("utf-8")


def key_name(key: Any) -> str:
    """The key as a string, as JS coerces it (``kv.get(42)`` reads ``"42"``)."""
    if isinstance(key, str):
        return usv(key)
    if isinstance(key, (int, float)):
        return js_str(key)
    raise JsTypeError(f"KV key must be a string, got {type(key).__name__}.")


def _too_long(op: str, size: int) -> JsException:
    return kv_error(op, 414, f"UTF-8 encoded length of {size} exceeds key length limit of {MAX_KEY_SIZE}.")


def validate_key(op: str, key: Any) -> str:
    """workerd's ``validateKeyName``: checked in the runtime, before any I/O."""
    try:
        size = len(key.encode("utf-8"))  # the hot path: a valid str, encoded once
        name: str = key
    except (AttributeError, UnicodeEncodeError):
        name = key_name(key)
        size = len(name.encode("utf-8"))
    if size > MAX_KEY_SIZE:
        raise _too_long(op, size)
    if size < 3 and name in ("", ".", ".."):
        if name == "":
            raise JsTypeError("Key name cannot be empty.")
        raise JsTypeError(f'"{name}" is not allowed as a key name.')
    return name


def validate_bulk_key(key: Any) -> str:
    """Bulk get sends keys unchecked; the KV service answers with its own wording."""
    name = key_name(key)
    if name == "":
        raise kv_error("GET_BULK", 400, "Key names must not be empty")
    if name in (".", ".."):
        raise kv_error("GET_BULK", 400, f'Illegal key name "{name}". Please use a different name.')
    size = len(name.encode("utf-8"))
    if size > MAX_KEY_SIZE:
        raise _too_long("GET_BULK", size)
    return name


def int_option(options: Mapping[str, Any], name: str) -> int | None:
    value = options.get(name)
    return None if value is None else js_int(value)


def expiration_from(options: Mapping[str, Any], now: float) -> int | None:
    """The absolute expiration (epoch s) that ``expiration``/``expirationTtl`` ask for; the TTL wins."""
    ttl, expiration = int_option(options, "expirationTtl"), int_option(options, "expiration")
    now_s = math.floor(now)
    if ttl is not None:
        if ttl <= 0:
            raise kv_error("PUT", 400, f"Invalid expiration_ttl of {ttl}. Please specify integer greater than 0.")
        if ttl < MIN_EXPIRATION_TTL:
            raise kv_error("PUT", 400, f"Invalid expiration_ttl of {ttl}. "
                                       f"Expiration TTL must be at least {MIN_EXPIRATION_TTL}.")
        return now_s + ttl
    if expiration is not None:
        if expiration <= now_s:
            raise kv_error("PUT", 400, f"Invalid expiration of {expiration}. Please specify integer "
                                       "greater than the current number of seconds since the UNIX epoch.")
        if expiration < now_s + MIN_EXPIRATION_TTL:
            raise kv_error("PUT", 400, f"Invalid expiration of {expiration}. "
                                       f"Expiration times must be at least {MIN_EXPIRATION_TTL} seconds in the future.")
        return expiration
    return None


def _no_nan(value: str) -> Any:
    raise ValueError(f"{value} is not JSON")


def serialise_metadata(metadata: Any) -> str | None:
    """``JSON.stringify(metadata)``, done by the runtime before the request (so before value checks)."""
    if metadata is None:
        return None
    try:
        return json.dumps(metadata, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise JsTypeError(f"KV metadata must be JSON-serialisable: {exc}") from None


def check_metadata_size(text: str | None) -> None:
    if text is None:
        return
    size = len(text.encode("utf-8"))
    if size > MAX_METADATA_SIZE:
        raise kv_error("PUT", 413, f"Metadata length of {size} exceeds limit of {MAX_METADATA_SIZE}.")


def check_value_size(size: int) -> None:
    if size > MAX_VALUE_SIZE:
        raise kv_error("PUT", 413, f"Value length of {size} exceeds limit of {MAX_VALUE_SIZE}.")


def validate_cache_ttl(options: Mapping[str, Any], op: str = "GET") -> None:
    cache_ttl = int_option(options, "cacheTtl")
    if cache_ttl is not None and cache_ttl < MIN_CACHE_TTL:
        raise kv_error(op, 400, f"Invalid cache_ttl of {cache_ttl}. Cache TTL must be at least {MIN_CACHE_TTL}.")


def check_get_type(value_type: str) -> None:
    """Checked by workerd only once a value came back: a missing key with a bad type is just ``None``."""
    if value_type not in GET_TYPES:
        raise JsTypeError('Unknown response type. Possible types are "text", "arrayBuffer", "json", and "stream".')


def validate_bulk(keys: list[Any], value_type: str) -> list[str]:
    """The KV service's order: the type, the key count, then each key."""
    if value_type and value_type not in BULK_TYPES:
        raise kv_error("GET_BULK", 400, f'"{value_type}" is not a valid type. Use "json" or "text"')
    if len(keys) > MAX_BULK_KEYS:
        raise kv_error("GET_BULK", 400, f"You can request a maximum of {MAX_BULK_KEYS} keys")
    if not keys:
        raise kv_error("GET_BULK", 400, "You must request a minimum of 1 key")
    return [validate_bulk_key(key) for key in keys]


def list_limit(options: Mapping[str, Any]) -> int:
    """workerd sends ``limit`` only when it is > 0, so 0 or a negative limit lists the default 1000."""
    limit = int_option(options, "limit")
    if limit is None or limit <= 0:
        return MAX_LIST_LIMIT
    if limit > MAX_LIST_LIMIT:
        raise kv_error("GET", 400, f"Invalid key_count_limit of {limit}. "
                                   f"Please specify an integer less than {MAX_LIST_LIMIT}.")
    return limit


def validate_prefix(prefix: Any) -> str:
    if prefix is None:
        return ""
    text = key_name(prefix)
    size = len(text.encode("utf-8"))
    if size > MAX_KEY_SIZE:
        raise _too_long("GET", size)
    return text


def encode_cursor(last_key: str) -> str:
    """Opaque to callers; like Miniflare's, the base64 of the last key returned (the next page starts after)."""
    return base64.b64encode(last_key.encode("utf-8")).decode("ascii")


def decode_cursor(cursor: Any) -> str | None:
    if cursor is None or cursor == "":
        return None
    text = str(cursor).strip().replace("-", "+").replace("_", "/")
    try:
        return base64.b64decode(text + "=" * (-len(text) % 4), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeError, ValueError):
        # Miniflare decodes any string leniently; production rejects garbage. We reject it, in KV's shape.
        raise kv_error("GET", 400, "Invalid cursor.") from None

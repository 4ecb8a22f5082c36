"""Cloudflare's KV limits and error wording, once for every backend.

Wording follows workerd (TypeErrors thrown before any I/O) and Miniflare's KV gateway (``KV <OP> failed:
<status> <text>`` errors), which is what a Worker sees on Cloudflare.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
from collections.abc import Mapping
from typing import Any

from portflare.errors import JsException, JsTypeError

MAX_KEY_SIZE = 512
MAX_VALUE_SIZE = 25 * 1024 * 1024  # 26,214,400 bytes
MAX_METADATA_SIZE = 1024
MIN_EXPIRATION_TTL = 60
MIN_CACHE_TTL = 30  # Miniflare's current minimum; older docs say 60 (docs/compat.md)
MAX_LIST_LIMIT = 1000
MAX_BULK_KEYS = 100

GET_TYPES = ("text", "json", "arrayBuffer", "stream")
BULK_TYPES = ("text", "json")


def kv_error(op: str, status: int, text: str) -> JsException:
    return JsException(f"KV {op} failed: {status} {text}")


def js_str(value: Any) -> str:
    """A value as JavaScript's ``String(value)`` prints it (``30``, not ``30.0``; ``NaN``)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        if value.is_integer():
            return str(int(value))
    if value is None:
        return "null"
    return str(value)


def validate_key(op: str, key: Any) -> str:
    if isinstance(key, (int, float)) and not isinstance(key, bool):
        key = js_str(key)  # JS coerces numbers to strings
    if not isinstance(key, str):
        raise JsTypeError(f"KV key must be a string, got {type(key).__name__}.")
    if key == "":
        raise JsTypeError("Key name cannot be empty.")
    if key in (".", ".."):
        raise JsTypeError(f'"{key}" is not allowed as a key name.')
    size = len(key.encode("utf-8"))
    if size > MAX_KEY_SIZE:
        raise kv_error(op, 414, f"UTF-8 encoded length of {size} exceeds key length limit of {MAX_KEY_SIZE}.")
    return key


def _number(value: Any) -> float:
    if isinstance(value, bool):
        return float(value)
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


def expiration_from(options: Mapping[str, Any], now: float) -> int | None:
    """The absolute expiration (epoch s) that ``expiration``/``expirationTtl`` ask for; the TTL wins."""
    ttl, expiration = options.get("expirationTtl"), options.get("expiration")
    if ttl is not None:
        seconds = _number(ttl)
        if math.isnan(seconds) or seconds <= 0:
            raise kv_error("PUT", 400, f"Invalid expiration_ttl of {js_str(ttl)}. "
                                       "Please specify integer greater than 0.")
        if seconds < MIN_EXPIRATION_TTL:
            raise kv_error("PUT", 400, f"Invalid expiration_ttl of {js_str(ttl)}. "
                                       f"Expiration TTL must be at least {MIN_EXPIRATION_TTL}.")
        return int(now + seconds)
    if expiration is not None:
        at = _number(expiration)
        if math.isnan(at) or at <= now:
            raise kv_error("PUT", 400, f"Invalid expiration of {js_str(expiration)}. Please specify integer "
                                       "greater than the current number of seconds since the UNIX epoch.")
        if at < now + MIN_EXPIRATION_TTL:
            raise kv_error("PUT", 400, f"Invalid expiration of {js_str(expiration)}. "
                                       f"Expiration times must be at least {MIN_EXPIRATION_TTL} seconds in the future.")
        return int(at)
    return None


def encode_metadata(metadata: Any) -> str | None:
    if metadata is None:
        return None
    try:
        text = json.dumps(metadata, separators=(",", ":"), ensure_ascii=False)
    except (TypeError, ValueError) as exc:
        raise JsTypeError(f"KV metadata must be JSON-serialisable: {exc}") from None
    size = len(text.encode("utf-8"))
    if size > MAX_METADATA_SIZE:
        raise kv_error("PUT", 413, f"Metadata length of {size} exceeds limit of {MAX_METADATA_SIZE}.")
    return text


def check_value_size(size: int) -> None:
    if size > MAX_VALUE_SIZE:
        raise kv_error("PUT", 413, f"Value length of {size} exceeds limit of {MAX_VALUE_SIZE}.")


def validate_cache_ttl(options: Mapping[str, Any], op: str = "GET") -> None:
    cache_ttl = options.get("cacheTtl")
    if cache_ttl is None:
        return
    seconds = _number(cache_ttl)
    if math.isnan(seconds) or seconds < MIN_CACHE_TTL:
        raise kv_error(op, 400, f"Invalid cache_ttl of {js_str(cache_ttl)}. "
                                f"Cache TTL must be at least {MIN_CACHE_TTL}.")


def validate_get_type(value_type: Any) -> str:
    if value_type is None:
        return "text"
    if value_type not in GET_TYPES:
        raise JsTypeError('Unknown response type. Possible types are "text", "arrayBuffer", "json", and "stream".')
    return str(value_type)


def validate_bulk(keys: list[Any], value_type: str) -> list[str]:
    if len(keys) > MAX_BULK_KEYS:
        raise kv_error("GET_BULK", 400, f"You can request a maximum of {MAX_BULK_KEYS} keys")
    if not keys:
        raise kv_error("GET_BULK", 400, "You must request a minimum of 1 key")
    if value_type not in BULK_TYPES:
        raise kv_error("GET_BULK", 400, f'"{value_type}" is not a valid type. Use "json" or "text"')
    return [validate_key("GET_BULK", key) for key in keys]


def validate_list_limit(limit: Any) -> int:
    if limit is None:
        return MAX_LIST_LIMIT
    number = _number(limit)
    if math.isnan(number) or number < 1:
        raise kv_error("GET", 400, f"Invalid key_count_limit of {js_str(limit)}. "
                                   "Please specify an integer greater than 0.")
    if number > MAX_LIST_LIMIT:
        raise kv_error("GET", 400, f"Invalid key_count_limit of {js_str(limit)}. "
                                   f"Please specify an integer less than {MAX_LIST_LIMIT}.")
    return int(number)


def validate_prefix(prefix: Any) -> str:
    if prefix is None:
        return ""
    text = str(prefix)
    size = len(text.encode("utf-8"))
    if size > MAX_KEY_SIZE:
        raise kv_error("GET", 414, f"UTF-8 encoded length of {size} exceeds key length limit of {MAX_KEY_SIZE}.")
    return text


def encode_cursor(last_key: str) -> str:
    """Opaque to callers; like Miniflare's, the base64 of the last key returned."""
    return base64.urlsafe_b64encode(last_key.encode("utf-8")).decode("ascii")


def decode_cursor(cursor: Any) -> str | None:
    if cursor in (None, ""):
        return None
    try:
        decoded: str = base64.urlsafe_b64decode(str(cursor).encode("ascii")).decode("utf-8")
        return decoded
    except (binascii.Error, UnicodeError, ValueError):
        raise kv_error("GET", 400, "Invalid cursor.") from None

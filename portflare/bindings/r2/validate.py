"""Cloudflare's R2 limits and error wording, once for every backend.

Backend errors read as workerd throws them: ``Error("<op>: <message> (<v4code>)")``; client-side checks raise
the ``TypeError``/``RangeError`` workerd raises before any I/O.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import math
import re
from collections.abc import Mapping
from typing import Any

from portflare.errors import JsException, JsRangeError, JsTypeError

MAX_KEY_SIZE = 1024
MAX_VALUE_SIZE = 5_368_709_120 - 5_242_880  # 5 GiB - 5 MiB, single put and each part
MAX_METADATA_SIZE = 2048  # Miniflare's customMetadata limit (docs/r2.md: production may allow 8 KiB)
MAX_LIST_LIMIT = 1000
MAX_DELETE_KEYS = 1000
MIN_PART_SIZE = 5 * 1024 * 1024
MAX_PART_NUMBER = 10_000

HASH_ALGORITHMS = {  # option name -> (hashlib name, display name, digest bytes)
    "md5": ("md5", "MD5", 16),
    "sha1": ("sha1", "SHA-1", 20),
    "sha256": ("sha256", "SHA-256", 32),
    "sha384": ("sha384", "SHA-384", 48),
    "sha512": ("sha512", "SHA-512", 64),
}
HTTP_FIELDS = ("contentType", "contentLanguage", "contentDisposition", "contentEncoding", "cacheControl")
HTTP_HEADERS = {"content-type": "contentType", "content-language": "contentLanguage",
                "content-disposition": "contentDisposition", "content-encoding": "contentEncoding",
                "cache-control": "cacheControl", "expires": "cacheExpiry"}
INCLUDE_VALUES = ("httpMetadata", "customMetadata")
STORAGE_CLASSES = ("Standard", "InfrequentAccess")
_PLAIN_MD5 = re.compile(r"^[0-9a-f]{32}$")

# v4 codes and messages (spec §3.4)
INTERNAL_ERROR = (10001, "We encountered an internal error. Please try again.")
ENTITY_TOO_LARGE = (100100, "Your proposed upload exceeds the maximum allowed object size.")
ENTITY_TOO_SMALL = (10011, "Your proposed upload is smaller than the minimum allowed object size.")
METADATA_TOO_LARGE = (10012, "Your metadata headers exceed the maximum allowed metadata size.")
INVALID_OBJECT_NAME = (10020, "The specified object name is not valid.")
INVALID_MAX_KEYS = (10022, "MaxKeys params must be positive integer <= 1000.")
NO_SUCH_UPLOAD = (10024, "The specified multipart upload does not exist.")
INVALID_PART = (10025, "One or more of the specified parts could not be found.")
INVALID_METADATA = (10029, "Metadata missing or invalid")
INVALID_RANGE = (10039, "The requested range is not satisfiable")
BAD_UPLOAD = (10048, "There was a problem with the multipart upload.")


def r2_error(op: str, error: tuple[int, str]) -> JsException:
    code, message = error
    return JsException(f"{op}: {message} ({code})")


def validate_key(op: str, key: Any) -> str:
    if isinstance(key, (int, float)) and not isinstance(key, bool):
        key = str(int(key)) if isinstance(key, float) and key.is_integer() else str(key)  # JS String(key)
    if not isinstance(key, str):
        raise JsTypeError(f"R2 key must be a string, got {type(key).__name__}.")
    if len(key.encode("utf-8", errors="surrogatepass")) > MAX_KEY_SIZE:
        raise r2_error(op, INVALID_OBJECT_NAME)
    return key


def _serialised_length(text: str) -> int:
    # Miniflare's count: one byte per char if every char fits in Latin-1, else two.
    return len(text) if all(ord(c) < 256 for c in text) else 2 * len(text)


def custom_metadata(op: str, value: Any) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise JsTypeError("customMetadata must be an object of string keys and values.")
    result = {str(k): str(v) for k, v in value.items()}
    if sum(_serialised_length(k) + _serialised_length(v) for k, v in result.items()) > MAX_METADATA_SIZE:
        raise r2_error(op, METADATA_TOO_LARGE)
    return result


def epoch_ms(value: Any, what: str) -> int:
    """A JS ``Date`` as Workers code passes it: a datetime (naive = UTC), epoch ms, or an ISO/HTTP date string."""
    if isinstance(value, dt.datetime):
        aware: dt.datetime = value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)
        return math.floor(aware.timestamp() * 1000)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return int(value)
    if isinstance(value, str):
        try:
            return epoch_ms(dt.datetime.fromisoformat(value.replace("Z", "+00:00")), what)
        except ValueError:
            from email.utils import parsedate_to_datetime

            try:
                parsed = parsedate_to_datetime(value)
            except (TypeError, ValueError):
                pass
            else:
                return epoch_ms(parsed, what)
    raise JsTypeError(f"{what} must be a Date.")


def http_metadata(value: Any) -> dict[str, str]:
    """``R2HTTPMetadata`` (an object, or ``Headers``) as stored: strings, cacheExpiry as epoch ms text."""
    if value is None:
        return {}
    result: dict[str, str] = {}
    if hasattr(value, "get") and hasattr(value, "has"):  # Headers
        for header, name in HTTP_HEADERS.items():
            found = value.get(header)
            if found is not None:
                result[name] = str(epoch_ms(found, "Expires")) if name == "cacheExpiry" else str(found)
        return result
    if not isinstance(value, Mapping):
        raise JsTypeError("httpMetadata must be an object or Headers.")
    for name in HTTP_FIELDS:
        if value.get(name) is not None:
            result[name] = str(value[name])
    if value.get("cacheExpiry") is not None:
        result["cacheExpiry"] = str(epoch_ms(value["cacheExpiry"], "cacheExpiry"))
    return result


def storage_class(value: Any) -> str:
    if value is None:
        return "Standard"
    if value not in STORAGE_CLASSES:
        raise JsTypeError(f"Unknown storage class \"{value}\". Possible values are \"Standard\" and "
                          "\"InfrequentAccess\".")
    return str(value)


def expected_checksum(options: Mapping[str, Any]) -> tuple[str, str] | None:
    """The one checksum a put asks to verify: (algorithm, expected hex)."""
    given = [name for name in HASH_ALGORITHMS if options.get(name) is not None]
    if len(given) > 1:
        raise JsTypeError("You cannot specify multiple hashing algorithms.")
    if not given:
        return None
    name = given[0]
    _, display, size = HASH_ALGORITHMS[name]
    value = options[name]
    if isinstance(value, str):
        if len(value) != 2 * size:
            raise JsTypeError(f"{display} is {2 * size} hex characters, not {len(value)}")
        try:
            return name, bytes.fromhex(value).hex()
        except ValueError:
            raise JsTypeError(f"Provided {display} wasn't a valid hex string") from None
    if isinstance(value, (bytes, bytearray, memoryview)):
        raw = bytes(value)
        if len(raw) != size:
            raise JsTypeError(f"{display} is {size} bytes, not {len(raw)}")
        return name, raw.hex()
    raise JsTypeError(f"{display} must be an ArrayBuffer or a hex string.")


def checksum_mismatch(op: str, name: str, expected: str, actual: str) -> JsException:
    display = HASH_ALGORITHMS[name][1]
    return JsException(f"{op}: The {display} checksum you specified did not match what we received.\n"
                       f"You provided a {display} checksum with value: {expected}\n"
                       f"Actual {display} was: {actual} (10037)")


def plain_md5(etag: str) -> str | None:
    """The etag itself if it has the form of a single-part MD5, else None (``<hex>-N`` multipart, or not 32 hex)."""
    etag = etag.strip('"').lower()
    return etag if _PLAIN_MD5.match(etag) else None


def hasher(name: str) -> Any:
    return hashlib.new(HASH_ALGORITHMS[name][0])


def check_size(op: str, size: int) -> None:
    if size > MAX_VALUE_SIZE:
        raise r2_error(op, ENTITY_TOO_LARGE)


def list_limit(value: Any) -> int:
    if value is None:
        return MAX_LIST_LIMIT
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = math.nan
    if math.isnan(number) or number < 1 or number > MAX_LIST_LIMIT:
        raise r2_error("list", INVALID_MAX_KEYS)
    return int(number)


def include(value: Any) -> tuple[bool, bool]:
    """(httpMetadata, customMetadata) for ``include``."""
    names = list(value or ())
    for name in names:
        if name not in INCLUDE_VALUES:
            raise JsRangeError(f"Unsupported include value {name}")
    return "httpMetadata" in names, "customMetadata" in names


# Past every key that starts with a delimited prefix: U+10FFFF is the largest code point, so its UTF-8 bytes sort
# after any other continuation (a key continuing with U+10FFFF itself is the one, absurd, exception).
PREFIX_END = "\U0010ffff"


def encode_cursor(last: str, is_prefix: bool) -> str:
    """Opaque to callers; like Miniflare's, base64 of where the next page starts after."""
    return base64.urlsafe_b64encode((last + PREFIX_END if is_prefix else last).encode("utf-8")).decode("ascii")


def decode_cursor(cursor: Any) -> str | None:
    if cursor in (None, ""):
        return None
    try:
        return base64.urlsafe_b64decode(str(cursor).encode("ascii")).decode("utf-8")
    except (binascii.Error, UnicodeError, ValueError):
        raise JsException("list: Invalid cursor. (10001)") from None

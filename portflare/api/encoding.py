"""``atob``/``btoa`` and ``TextEncoder``/``TextDecoder`` for Worker code that reaches them through ``js``.

``atob`` decodes forgiving-base64 as workerd does (ASCII whitespace ignored, padding optional) and both raise
workerd's ``InvalidCharacterError`` texts.
"""

from __future__ import annotations

import base64
import binascii
import codecs
import re
from typing import Any

from portflare.api.typedarrays import Uint8Array
from portflare.errors import JsException, JsRangeError, JsTypeError

_WHITESPACE = re.compile(r"[\t\n\f\r ]")
_BASE64 = re.compile(r"[A-Za-z0-9+/]*")
_ATOB_ERROR = ("atob() called with invalid base64-encoded data. (Only whitespace, '+', '/', alphanumeric ASCII, "
               "and up to two terminal '=' signs when the input data length is divisible by 4 are allowed.)")


def _js_string(value: Any) -> str:
    if isinstance(value, str):
        return value
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def btoa(data: Any) -> str:
    """Base64 of a string whose characters are all in Latin-1 (one byte each)."""
    text = _js_string(data)
    try:
        raw = text.encode("latin-1")
    except UnicodeEncodeError:
        raise JsException("btoa() can only operate on characters in the Latin1 (ISO/IEC 8859-1) range.",
                          name="InvalidCharacterError") from None
    return base64.b64encode(raw).decode("ascii")


def atob(data: Any) -> str:
    """The Latin-1 string a base64 text encodes (WHATWG forgiving-base64)."""
    text = _WHITESPACE.sub("", _js_string(data))
    if len(text) % 4 == 0:
        text = text[:-2] if text.endswith("==") else text[:-1] if text.endswith("=") else text
    if len(text) % 4 == 1 or not _BASE64.fullmatch(text):
        raise JsException(_ATOB_ERROR, name="InvalidCharacterError")
    try:
        return base64.b64decode(text + "=" * (-len(text) % 4)).decode("latin-1")
    except binascii.Error:
        raise JsException(_ATOB_ERROR, name="InvalidCharacterError") from None


class TextEncoder:
    encoding = "utf-8"

    @classmethod
    def new(cls) -> TextEncoder:
        return cls()

    def encode(self, text: Any = "") -> Uint8Array:
        return Uint8Array(text.encode("utf-8", "surrogatepass") if isinstance(text, str) else
                          _js_string(text).encode("utf-8"))


class TextDecoder:
    def __init__(self, label: str = "utf-8", options: Any = None) -> None:
        try:
            self.encoding = codecs.lookup(label.strip()).name  # "utf8", "UTF-8" -> "utf-8"
        except LookupError:
            raise JsRangeError(f'Invalid or unsupported encoding label "{label}"') from None
        self.fatal = bool(getattr(options, "get", lambda *_: False)("fatal", False))

    @classmethod
    def new(cls, label: str = "utf-8", options: Any = None) -> TextDecoder:
        return cls(label, options)

    def decode(self, data: Any = b"") -> str:
        raw = data.to_bytes() if isinstance(data, Uint8Array) else bytes(data)
        if self.encoding == "utf-8" and raw.startswith(b"\xef\xbb\xbf"):
            raw = raw[3:]  # the BOM is not part of the text (ignoreBOM defaults to false)
        try:
            return raw.decode(self.encoding, "strict" if self.fatal else "replace")
        except UnicodeDecodeError:
            raise JsTypeError("The encoded data was not valid.") from None

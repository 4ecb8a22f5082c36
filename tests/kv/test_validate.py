"""Pure pieces of KV: JS number conversion, cursors, the SQLite prefix bound."""

from __future__ import annotations

import math

import pytest

from portflare.bindings.kv import validate as v
from portflare.bindings.kv.sqlite import prefix_end
from portflare.errors import JsException, JsTypeError


@pytest.mark.parametrize(
    ("value", "expected"),
    [(60, 60), (60.9, 60), (-1.5, -1), ("90", 90), (" 12 ", 12), ("0x10", 16), ("", 0), (True, 1), ("1e3", 1000)],
)
def test_js_int_converts_as_workerd(value: object, expected: int) -> None:
    assert v.js_int(value) == expected


@pytest.mark.parametrize("value", ["soon", math.nan, math.inf, "12abc", [1, 2], {}])
def test_js_int_rejects_non_integers(value: object) -> None:
    with pytest.raises(JsTypeError, match="^TypeError: The value cannot be converted because it is not an integer"):
        v.js_int(value)


def test_js_int_range() -> None:
    assert v.js_int(2**31 - 1) == 2**31 - 1
    with pytest.raises(JsTypeError, match="Value out of range"):
        v.js_int(2**31)


@pytest.mark.parametrize(("value", "text"), [(30, "30"), (30.0, "30"), (1.5, "1.5"), (math.nan, "NaN"),
                                             (None, "null"), (True, "true")])
def test_js_str(value: object, text: str) -> None:
    assert v.js_str(value) == text


@pytest.mark.parametrize("key", ["a", "é/😀", "x" * 512, "\x00", " "])
def test_cursor_roundtrip(key: str) -> None:
    assert v.decode_cursor(v.encode_cursor(key)) == key


def test_cursor_accepts_urlsafe_and_unpadded_base64() -> None:
    assert v.decode_cursor("Pz8-") == v.decode_cursor("Pz8+") == "??>"
    assert v.decode_cursor("YQ") == "a"
    assert v.decode_cursor(None) is None and v.decode_cursor("") is None
    with pytest.raises(JsException, match="KV GET failed: 400"):
        v.decode_cursor("%%%")


@pytest.mark.parametrize(
    ("prefix", "end"),
    [("a", "b"), ("ab", "ac"), ("é", "ê"), ("a\U0010ffff", "b"), ("\U0010ffff", None), ("\ud7ff", "\ue000"),
     ("z\U0010ffff\U0010ffff", "{")],
)
def test_prefix_end(prefix: str, end: str | None) -> None:
    assert prefix_end(prefix) == end
    if end is not None:  # every string with the prefix sorts below the bound, in UTF-8 byte order
        for suffix in ("", "\x00", "\U0010ffff" * 3):
            assert (prefix + suffix).encode("utf-8") < end.encode("utf-8")


def test_usv_replaces_lone_surrogates() -> None:
    assert v.usv("a\ud800b") == "a\ufffdb"
    assert v.usv("😀") == "😀"

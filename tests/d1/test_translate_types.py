"""SQLite's conversions as the translation reimplements them in Python, checked against SQLite itself."""

from __future__ import annotations

import random
import sqlite3
import struct

import pytest

from portflare.bindings.d1.base import SqlError
from portflare.bindings.d1.translate_types import (
    NO_LIMIT,
    coerce,
    int_prefix,
    numeric_text,
    real_prefix,
    real_text,
    truncate_real,
)

_SQLITE = sqlite3.connect(":memory:")


def _sqlite(sql: str, *params: object) -> object:
    return _SQLITE.execute(sql, params).fetchone()[0]


def _floats() -> list[float]:
    rng = random.Random(3)
    values = [0.0, 2.0, 0.1 + 0.2, 1e20, 1.5e-7, 1e15, 1e14, 123456789012345.0, 1234567890123456.0, 0.0001,
              0.00001, 1e-300, -2.5, 1e308, 5e-324, 9.995, 100.0, 1 / 3, -0.0]
    values += [rng.uniform(-1e6, 1e6) for _ in range(200)]
    values += [struct.unpack("d", struct.pack("Q", rng.getrandbits(64)))[0] for _ in range(300)]
    return [v for v in values if v == v and abs(v) != float("inf")]


def test_real_text_is_sqlites() -> None:
    for value in _floats():
        assert real_text(value) == _sqlite("SELECT CAST(? AS TEXT)", value), value


@pytest.mark.parametrize("text", ["12abc", "  -7x", "+5", "", "abc", "1e3", "1.9", "99999999999999999999",
                                  "-99999999999999999999", "0x10", "\t42", "007"])
def test_text_to_integer_and_real_prefixes(text: str) -> None:
    assert int_prefix(text) == _sqlite("SELECT CAST(? AS INTEGER)", text)
    assert real_prefix(text) == _sqlite("SELECT CAST(? AS REAL)", text)


@pytest.mark.parametrize("value", [1.9, -1.9, 1e20, -1e20, 0.5, 2.0**63, -(2.0**63)])
def test_truncate_real(value: float) -> None:
    assert truncate_real(value) == _sqlite("SELECT CAST(? AS INTEGER)", value)


@pytest.mark.parametrize("text", ["5", " 5 ", "5.0", "5.5", "1e3", "abc", "5x", "", "-0", "+7", ".5", "5."])
def test_numeric_text_is_numeric_affinity(text: str) -> None:
    _SQLITE.execute("CREATE TABLE IF NOT EXISTS n (v NUMERIC)")
    _SQLITE.execute("DELETE FROM n")
    _SQLITE.execute("INSERT INTO n VALUES (?)", (text,))
    stored = _SQLITE.execute("SELECT v FROM n").fetchone()[0]
    expected = None if isinstance(stored, str) else stored
    got = numeric_text(text)
    assert got == expected and type(got) is type(expected), text


def test_coerce_for_mysql_bound_values() -> None:
    assert coerce(2.0, "text") == "2.0" and coerce(7, "text") == "7" and coerce(b"x", "text") == b"x"
    assert coerce("12", "integer") == 12 and coerce(3.0, "integer") == 3
    assert coerce("1", "limit") == 1 and coerce(-1, "limit") == NO_LIMIT and coerce(-5, "offset") == 0
    assert coerce("4", "numeric") == 4 and coerce(2.5, "numeric") == 2.5
    assert coerce(1.5, "typeof") == "real" and coerce(None, "typeof") == "null"
    assert coerce("é", "json") == '"é"' and coerce(2.0, "json") == "2.0"
    with pytest.raises(SqlError, match="datatype mismatch: 1.5 in an INTEGER column"):
        coerce(1.5, "integer")
    with pytest.raises(SqlError, match="datatype mismatch"):
        coerce("1.5", "limit")
    with pytest.raises(SqlError, match="datatype mismatch: 'abc' where a number is expected"):
        coerce("abc", "numeric")

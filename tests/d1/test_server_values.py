"""``sqlite_value``: a PostgreSQL or MySQL driver value as SQLite would have returned it."""

from __future__ import annotations

import datetime
import uuid
from decimal import Decimal

import pytest

from portflare.bindings.d1.server import sqlite_value


@pytest.mark.parametrize(("value", "expected"), [
    (True, 1),  # SQLite has no booleans: 1 and 0, as ints (a bool is an int, so this is checked first)
    (False, 0),
    (7, 7),
    (1.5, 1.5),
    ("text", "text"),
    (b"\x00\x01", b"\x00\x01"),
    (None, None),
    (Decimal("12"), 12),
    (Decimal("2.5"), 2.5),
    (bytearray(b"ab"), b"ab"),
    (memoryview(b"ab"), b"ab"),
    (datetime.datetime(2024, 5, 6, 7, 8, 9), "2024-05-06 07:08:09"),
    (datetime.date(2024, 5, 6), "2024-05-06"),
    (datetime.time(7, 8, 9), "07:08:09"),
    (uuid.UUID(int=1), "00000000-0000-0000-0000-000000000001"),
    ({"a": [1, "é"]}, '{"a":[1,"é"]}'),
])
def test_sqlite_value(value: object, expected: object) -> None:
    got = sqlite_value(value)
    assert got == expected
    assert type(got) is type(expected)

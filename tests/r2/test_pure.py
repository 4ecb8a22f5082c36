"""R2's pure rules (conditionals, ranges, checksums, metadata, parts, cursors) as tables."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest

from portflare.api.headers import Headers
from portflare.bindings.r2 import validate as v
from portflare.bindings.r2.base import PartInfo
from portflare.bindings.r2.binding import check_parts, multipart_etag
from portflare.bindings.r2.conditional import (
    Conditional,
    Etag,
    RangeSpec,
    holds,
    http_range,
    parse_conditional,
    parse_range,
    resolve_range,
)
from portflare.errors import JsException, JsTypeError

T = 1_700_000_000_500  # an upload time in ms, half-way through a second


@pytest.mark.parametrize(("cond", "etag", "uploaded", "expected"), [
    (None, None, None, True),
    (Conditional(), "e", T, True),
    # missing object: only etagMatches / uploadedAfter fail
    (Conditional(etag_matches=(Etag("e"),)), None, None, False),
    (Conditional(uploaded_after=T), None, None, False),
    (Conditional(etag_does_not_match=(Etag("*"),)), None, None, True),
    (Conditional(uploaded_before=T), None, None, True),
    # strong If-Match, weak If-None-Match
    (Conditional(etag_matches=(Etag("e", weak=True),)), "e", T, False),
    (Conditional(etag_matches=(Etag("x"), Etag("e"))), "e", T, True),
    (Conditional(etag_does_not_match=(Etag("e", weak=True),)), "e", T, False),
    (Conditional(etag_does_not_match=(Etag("x"),)), "e", T, True),
    # dates are exclusive
    (Conditional(uploaded_after=T), "e", T, False),
    (Conditional(uploaded_after=T - 1), "e", T, True),
    (Conditional(uploaded_before=T), "e", T, False),
    (Conditional(uploaded_before=T + 1), "e", T, True),
    # seconds granularity truncates the upload time
    (Conditional(uploaded_after=T - 400, seconds_granularity=True), "e", T, False),
    (Conditional(uploaded_before=T - 400, seconds_granularity=True), "e", T, True),
    # an etag condition that holds overrides the matching date condition
    (Conditional(etag_matches=(Etag("e"),), uploaded_before=T - 5000), "e", T, True),
    (Conditional(etag_does_not_match=(Etag("x"),), uploaded_after=T + 5000), "e", T, True),
    (Conditional(etag_matches=(Etag("x"),), uploaded_before=T + 5000), "e", T, False),
])
def test_holds(cond: Conditional | None, etag: str | None, uploaded: int | None, expected: bool) -> None:
    assert holds(cond, etag, uploaded) is expected


def test_parse_conditional_from_headers() -> None:
    cond = parse_conditional(Headers({"If-Match": '"a", W/"b", *', "If-None-Match": '"c"',
                                      "If-Modified-Since": "Tue, 14 Nov 2023 22:13:20 GMT"}))
    assert cond == Conditional(etag_matches=(Etag("a"), Etag("b", weak=True), Etag("*")),
                               etag_does_not_match=(Etag("c"),), uploaded_after=1_700_000_000_000,
                               seconds_granularity=True)
    with pytest.raises(JsTypeError, match="wrapped in quotes"):
        parse_conditional({"etagDoesNotMatch": '"x"'})


@pytest.mark.parametrize(("spec", "size", "expected"), [
    (None, 10, (0, 10)),
    (RangeSpec(offset=4), 10, (4, 6)),
    (RangeSpec(length=4), 10, (0, 4)),
    (RangeSpec(offset=8, length=5), 10, (8, 2)),
    (RangeSpec(offset=10), 10, (10, 0)),
    (RangeSpec(suffix=3), 10, (7, 3)),
    (RangeSpec(suffix=30), 10, (0, 10)),
    (RangeSpec(suffix=1), 0, (0, 0)),
])
def test_resolve_range(spec: RangeSpec | None, size: int, expected: tuple[int, int]) -> None:
    assert resolve_range(spec, size) == expected


@pytest.mark.parametrize("spec", [RangeSpec(offset=11), RangeSpec(length=0), RangeSpec(suffix=0)])
def test_unsatisfiable_ranges(spec: RangeSpec) -> None:
    with pytest.raises(JsException, match=r"^Error: get: The requested range is not satisfiable \(10039\)$"):
        resolve_range(spec, 10)


@pytest.mark.parametrize(("header", "expected"), [
    ("bytes=0-4", RangeSpec(offset=0, length=5)),
    ("bytes=5-", RangeSpec(offset=5)),
    ("bytes=-5", RangeSpec(suffix=5)),
    ("bytes = 1 - 2", RangeSpec(offset=1, length=2)),
    ("bytes=0-1,4-5", None),
    ("bytes=4-1", None),
    ("bytes=-", None),
    ("items=1-2", None),
])
def test_range_headers(header: str, expected: RangeSpec | None) -> None:
    assert parse_range(Headers({"Range": header})) == expected


@pytest.mark.parametrize(("options", "expected"), [
    ({}, None),
    ({"md5": "AB" * 16}, ("md5", "ab" * 16)),
    ({"sha256": b"\x01" * 32}, ("sha256", "01" * 32)),
    ({"sha1": memoryview(b"\x02" * 20)}, ("sha1", "02" * 20)),
])
def test_expected_checksum(options: dict[str, Any], expected: tuple[str, str] | None) -> None:
    assert v.expected_checksum(options) == expected


@pytest.mark.parametrize(("meta", "ok"), [
    ({"k": "v" * 2047}, True),
    ({"k": "v" * 2048}, False),
    ({"k": "é" * 2047}, True),  # Latin-1 counts one per char
    ({"k": "✓" * 1023}, True),  # otherwise two: 1 + 2046
    ({"k": "✓" * 1024}, False),
])
def test_custom_metadata_size(meta: dict[str, str], ok: bool) -> None:
    if ok:
        assert v.custom_metadata("put", meta) == meta
    else:
        with pytest.raises(JsException, match=r"\(10012\)"):
            v.custom_metadata("put", meta)


MIB5 = 5 * 1024 * 1024
PARTS = {1: PartInfo(1, "a" * 32, MIB5), 2: PartInfo(2, "b" * 32, MIB5), 3: PartInfo(3, "c" * 32, 10),
         4: PartInfo(4, "d" * 32, MIB5 + 1), 5: PartInfo(5, "e" * 32, 10)}


@pytest.mark.parametrize(("numbers", "code"), [
    ([1, 2, 3], None),
    ([3], None),
    ([3, 1, 2], None),
    ([], 10048),
    ([1, 1], 10001),
    ([1, 9], 10025),
    ([3, 5], 10011),
    ([1, 4, 5], 10048),  # unequal non-last parts
    ([1, 4], 10048),  # the last part larger than the others
])
def test_check_parts(numbers: list[int], code: int | None) -> None:
    requested = [{"partNumber": n, "etag": PARTS[n].etag if n in PARTS else "f" * 32} for n in numbers]
    if code is None:
        assert [p.part_number for p in check_parts(PARTS, requested)] == sorted(numbers)
    else:
        with pytest.raises(JsException, match=rf"^Error: completeMultipartUpload: .* \({code}\)$"):
            check_parts(PARTS, requested)


def test_multipart_etag() -> None:
    parts = [PartInfo(1, hashlib.md5(b"a").hexdigest(), 1), PartInfo(2, hashlib.md5(b"b").hexdigest(), 1)]
    expected = hashlib.md5(hashlib.md5(b"a").digest() + hashlib.md5(b"b").digest()).hexdigest() + "-2"
    assert multipart_etag(parts) == expected


@pytest.mark.parametrize(("last", "is_prefix"), [("a/b", False), ("dir/", True), ("é😀", False)])
def test_cursor_round_trip(last: str, is_prefix: bool) -> None:
    decoded = v.decode_cursor(v.encode_cursor(last, is_prefix))
    assert decoded == (last + v.PREFIX_END if is_prefix else last)


def test_bad_cursor() -> None:
    with pytest.raises(JsException, match="Invalid cursor"):
        v.decode_cursor("_w==")  # not UTF-8


@pytest.mark.parametrize(("spec", "header"), [
    (None, None),
    (RangeSpec(offset=0), None),  # the whole object
    (RangeSpec(offset=10), "bytes=10-"),
    (RangeSpec(offset=10, length=5), "bytes=10-14"),
    (RangeSpec(length=5), "bytes=0-4"),
    (RangeSpec(offset=3, length=0), None),  # HTTP cannot ask for nothing: resolved once the size is known
    (RangeSpec(suffix=7), "bytes=-7"),
    (RangeSpec(suffix=0), None),  # R2's error needs the object first
])
def test_http_range_asks_for_the_range_up_front(spec: RangeSpec | None, header: str | None) -> None:
    assert http_range(spec) == header

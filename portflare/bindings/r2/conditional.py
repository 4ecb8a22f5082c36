"""``onlyIf`` conditionals and ``range`` for R2, as pure functions (spec §3.5; Miniflare ``_testR2Conditional``,
adapted from the R2 gateway; RFC 7232/7233)."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from portflare.bindings.r2 import validate as v
from portflare.errors import JsRangeError, JsTypeError


@dataclass(frozen=True, slots=True)
class Etag:
    value: str  # unquoted; "*" for the wildcard
    weak: bool = False

    @property
    def wildcard(self) -> bool:
        return self.value == "*" and not self.weak


@dataclass(frozen=True, slots=True)
class Conditional:
    etag_matches: tuple[Etag, ...] | None = None
    etag_does_not_match: tuple[Etag, ...] | None = None
    uploaded_before: int | None = None  # epoch ms
    uploaded_after: int | None = None
    seconds_granularity: bool = False


def _is_headers(value: Any) -> bool:
    return hasattr(value, "get") and hasattr(value, "has") and not isinstance(value, Mapping)


def _option_etags(value: Any) -> tuple[Etag, ...] | None:
    if value is None:
        return None
    items = [value] if isinstance(value, str) else list(value)
    etags = []
    for item in items:
        text = str(item)
        if len(text) >= 2 and text.startswith('"') and text.endswith('"'):
            raise JsTypeError(f"Conditional ETag should not be wrapped in quotes ({text}).")
        etags.append(Etag(text))
    return tuple(etags)


_ETAG_LIST = re.compile(r'\s*(\*|(W/)?"([^"]*)")\s*(?:,|$)')


def _header_etags(value: str | None) -> tuple[Etag, ...] | None:
    if value is None:
        return None
    etags, pos = [], 0
    while pos < len(value):
        match = _ETAG_LIST.match(value, pos)
        if match is None:
            break
        etags.append(Etag("*") if match.group(1) == "*" else Etag(match.group(3), weak=bool(match.group(2))))
        pos = match.end()
    return tuple(etags)


def parse_conditional(value: Any) -> Conditional | None:
    """``onlyIf`` as an ``R2Conditional`` object or as ``Headers`` (which implies seconds granularity)."""
    if value is None:
        return None
    if _is_headers(value):
        since, unmodified = value.get("if-modified-since"), value.get("if-unmodified-since")
        return Conditional(
            etag_matches=_header_etags(value.get("if-match")),
            etag_does_not_match=_header_etags(value.get("if-none-match")),
            uploaded_after=v.epoch_ms(since, "If-Modified-Since") if since else None,
            uploaded_before=v.epoch_ms(unmodified, "If-Unmodified-Since") if unmodified else None,
            seconds_granularity=True,
        )
    if not isinstance(value, Mapping):
        raise JsTypeError("onlyIf must be an object or Headers.")
    before, after = value.get("uploadedBefore"), value.get("uploadedAfter")
    return Conditional(
        etag_matches=_option_etags(value.get("etagMatches")),
        etag_does_not_match=_option_etags(value.get("etagDoesNotMatch")),
        uploaded_before=None if before is None else v.epoch_ms(before, "uploadedBefore"),
        uploaded_after=None if after is None else v.epoch_ms(after, "uploadedAfter"),
        seconds_granularity=bool(value.get("secondsGranularity", False)),
    )


def _strong_match(etags: tuple[Etag, ...], etag: str) -> bool:
    return any(e.wildcard or (not e.weak and e.value == etag) for e in etags)


def _weak_match(etags: tuple[Etag, ...], etag: str) -> bool:
    return any(e.wildcard or e.value == etag for e in etags)


def holds(cond: Conditional | None, etag: str | None, uploaded_ms: int | None) -> bool:
    """Whether ``cond`` passes for an object with this etag and upload time (both None: no object)."""
    if cond is None:
        return True
    if etag is None or uploaded_ms is None:
        return cond.etag_matches is None and cond.uploaded_after is None
    modified = uploaded_ms - uploaded_ms % 1000 if cond.seconds_granularity else uploaded_ms
    if_match = cond.etag_matches is None or _strong_match(cond.etag_matches, etag)
    if_none_match = cond.etag_does_not_match is None or not _weak_match(cond.etag_does_not_match, etag)
    if_modified_since = (cond.uploaded_after is None or cond.uploaded_after < modified
                         or (cond.etag_does_not_match is not None and if_none_match))
    if_unmodified_since = (cond.uploaded_before is None or modified < cond.uploaded_before
                           or (cond.etag_matches is not None and if_match))
    return if_match and if_none_match and if_modified_since and if_unmodified_since


# -- ranges ------------------------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class RangeSpec:
    offset: int | None = None
    length: int | None = None
    suffix: int | None = None


def _integer(value: Any, message: str) -> int:
    number = float(value)
    if number < 0:
        raise JsRangeError(message)
    if not number.is_integer() or math.isinf(number):
        raise JsRangeError(message.split(" must ")[0] + " must be an integer, not floating point.")
    return int(number)


_RANGE_HEADER = re.compile(r"^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$")


def parse_range(value: Any) -> RangeSpec | None:
    """``range`` as an ``R2Range`` (validated as workerd does) or as ``Headers`` with one ``Range: bytes=``
    range; several or malformed ranges in a header mean the whole object."""
    if value is None:
        return None
    if _is_headers(value):
        header = value.get("range")
        match = _RANGE_HEADER.match(header) if header else None
        if match is None or (not match.group(1) and not match.group(2)):
            return None
        first, last = match.group(1), match.group(2)
        if not first:
            return RangeSpec(suffix=int(last))
        if not last:
            return RangeSpec(offset=int(first))
        if int(last) < int(first):
            return None
        return RangeSpec(offset=int(first), length=int(last) - int(first) + 1)
    if not isinstance(value, Mapping):
        raise JsTypeError("range must be an object or Headers.")
    offset, length, suffix = value.get("offset"), value.get("length"), value.get("suffix")
    if suffix is not None:
        if offset is not None:
            raise JsTypeError("Suffix is incompatible with offset.")
        if length is not None:
            raise JsTypeError("Suffix is incompatible with length.")
        return RangeSpec(suffix=_integer(suffix, f"Invalid suffix. Suffix ({suffix}) must be greater than or "
                                                 "equal to 0."))
    return RangeSpec(
        offset=None if offset is None else _integer(
            offset, f"Invalid range. Starting offset ({offset}) must be greater than or equal to 0."),
        length=None if length is None else _integer(
            length, f"Invalid range. Length ({length}) must be greater than or equal to 0."),
    )


def resolve_range(spec: RangeSpec | None, size: int) -> tuple[int, int]:
    """(offset, length) actually read, clamped to the object; R2's 416 error when nothing can be served."""
    if spec is None:
        return 0, size
    if spec.suffix is not None:
        if spec.suffix <= 0:
            raise v.r2_error("get", v.INVALID_RANGE)
        length = min(spec.suffix, size)
        return size - length, length
    offset = spec.offset or 0
    if offset > size or (spec.length is not None and spec.length <= 0):
        raise v.r2_error("get", v.INVALID_RANGE)
    length = size - offset if spec.length is None else min(spec.length, size - offset)
    return offset, length


def http_range(spec: RangeSpec | None) -> str | None:
    """The ``Range`` header asking a store for ``spec`` before the size is known, or None for the whole object
    (or a range only the size can settle: zero length, a zero suffix). The answer must still go through
    ``resolve_range`` once the size is known: R2 and HTTP differ at the edges."""
    if spec is None:
        return None
    if spec.suffix is not None:
        return f"bytes=-{spec.suffix}" if spec.suffix > 0 else None
    offset = spec.offset or 0
    if spec.length is None:
        return f"bytes={offset}-" if offset else None
    return f"bytes={offset}-{offset + spec.length - 1}" if spec.length > 0 else None

"""Cron expressions in Cloudflare's dialect, next-fire times and missed-tick accounting, as tables."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from portflare.errors import ConfigError
from portflare.runtime.cron import Missed, is_last_weekday, missed_ticks, next_fire, parse_cron, ticks_between


def ts(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()


def iso(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%d %H:%M %a")


# 2026-01-01 is a Thursday.
@pytest.mark.parametrize(("cron", "after", "expected"), [
    ("* * * * *", "2026-01-01 00:00:00", "2026-01-01 00:01 Thu"),
    ("* * * * *", "2026-01-01 00:00:30", "2026-01-01 00:01 Thu"),
    ("*/3 * * * *", "2026-01-01 00:04:00", "2026-01-01 00:06 Thu"),
    ("0 15 1 * *", "2026-01-01 16:00:00", "2026-02-01 15:00 Sun"),
    ("30 23 * * *", "2026-12-31 23:30:00", "2027-01-01 23:30 Fri"),  # strictly after
    # day of week: Cloudflare counts 1 = Sunday .. 7 = Saturday
    ("0 17 * * 1", "2026-01-01 00:00:00", "2026-01-04 17:00 Sun"),
    ("0 17 * * sun", "2026-01-01 00:00:00", "2026-01-04 17:00 Sun"),
    ("0 17 * * SUN", "2026-01-01 00:00:00", "2026-01-04 17:00 Sun"),
    ("0 17 * * 7", "2026-01-01 00:00:00", "2026-01-03 17:00 Sat"),
    ("0 9 * * 2-6", "2026-01-02 10:00:00", "2026-01-05 09:00 Mon"),  # 2-6 = Mon-Fri
    ("0 9 * * mon-fri", "2026-01-02 10:00:00", "2026-01-05 09:00 Mon"),
    ("0 9 * * 1,7", "2026-01-01 00:00:00", "2026-01-03 09:00 Sat"),
    ("0 9 * * */2", "2026-01-01 10:00:00", "2026-01-03 09:00 Sat"),  # 1,3,5,7 = Sun,Tue,Thu,Sat
    ("0 9 * * 2/2", "2026-01-01 00:00:00", "2026-01-02 09:00 Fri"),  # 2,4,6 = Mon,Wed,Fri
    # extensions: L, W, LW in the day of month; <day>L and <day>#<n> in the day of week
    ("0 18 * * 6L", "2026-01-01 00:00:00", "2026-01-30 18:00 Fri"),  # last Friday
    ("0 18 * * friL", "2026-02-01 00:00:00", "2026-02-27 18:00 Fri"),
    ("0 0 * * 6#3", "2026-01-01 00:00:00", "2026-01-16 00:00 Fri"),  # third Friday
    ("0 0 * * mon#1", "2026-01-01 00:00:00", "2026-01-05 00:00 Mon"),
    ("59 23 L * *", "2026-02-01 00:00:00", "2026-02-28 23:59 Sat"),
    ("0 0 15W * *", "2026-02-01 00:00:00", "2026-02-16 00:00 Mon"),  # the 15th is a Sunday
    ("59 23 LW * *", "2026-01-01 00:00:00", "2026-01-30 23:59 Fri"),  # Jan 31 2026 is a Saturday
    ("59 23 LW * *", "2026-05-01 00:00:00", "2026-05-29 23:59 Fri"),  # May 31 is a Sunday
    ("59 23 LW * *", "2026-03-01 00:00:00", "2026-03-31 23:59 Tue"),
    ("0 0 1 jan *", "2026-01-01 00:00:00", "2027-01-01 00:00 Fri"),
    ("0 0 1 JAN-MAR *", "2026-01-01 00:00:00", "2026-02-01 00:00 Sun"),
])
def test_next_fire(cron: str, after: str, expected: str) -> None:
    assert iso(next_fire(parse_cron(cron), ts(after))) == expected


@pytest.mark.parametrize(("cron", "problem"), [
    ("* * * *", "have 5 fields"),
    ("* * * * * *", "have 5 fields"),
    ("0 0 * * 0", "day of week 0 is out of range"),
    ("0 0 * * 8", "day of week 8 is out of range"),
    ("0 0 * * funday", "cannot read day-of-week item"),
    ("0 0 * * xyz", "unknown day of week 'xyz'"),
    ("61 * * * *", "cron '61 \\* \\* \\* \\*'"),
    ("0 0 LW * 2", "LW cannot be combined"),
])
def test_invalid_expressions(cron: str, problem: str) -> None:
    with pytest.raises(ConfigError, match=problem):
        parse_cron(cron)


def test_controller_cron_is_the_source_text() -> None:
    assert parse_cron("0 17 * * sun").source == "0 17 * * sun"


@pytest.mark.parametrize(("day", "last"), [
    ("2026-01-30", True), ("2026-01-31", False), ("2026-05-29", True), ("2026-03-31", True), ("2026-03-30", False),
    ("2026-02-27", True), ("2026-08-31", True),
])
def test_is_last_weekday(day: str, last: bool) -> None:
    assert is_last_weekday(datetime.fromisoformat(day)) is last


@pytest.mark.parametrize(("cron", "start", "end", "count"), [
    ("* * * * *", "2026-01-01 00:00:00", "2026-01-01 00:10:00", 10),  # (start, end]
    ("*/5 * * * *", "2026-01-01 00:00:00", "2026-01-01 01:00:00", 12),
    ("0 * * * *", "2026-01-01 00:00:00", "2026-01-01 00:59:59", 0),
])
def test_ticks_between(cron: str, start: str, end: str, count: int) -> None:
    assert len(ticks_between(parse_cron(cron), ts(start), ts(end))) == count


@pytest.mark.parametrize(("cron", "last_fired", "now", "expected"), [
    # nothing ever fired: nothing to report
    ("* * * * *", None, "2026-01-01 12:00:00", Missed(0)),
    # up to date: the next tick is not due yet
    ("* * * * *", "2026-01-01 11:59:00", "2026-01-01 11:59:30", Missed(0)),
    # within the lateness grace (60 s): still to fire, not missed
    ("* * * * *", "2026-01-01 11:59:00", "2026-01-01 12:00:40", Missed(0)),
    # down from 11:00 to 12:00: 11:01 .. 11:59 are missed (12:00 is still within the grace)
    ("* * * * *", "2026-01-01 11:00:00", "2026-01-01 12:00:30", Missed(59, False, ts("2026-01-01 11:59:00"))),
    ("0 * * * *", "2026-01-01 00:00:00", "2026-01-02 00:00:30", Missed(23, False, ts("2026-01-01 23:00:00"))),
    # a year down with a per-minute cron: counted up to the cap, the last missed tick still exact
    ("* * * * *", "2025-01-01 00:00:00", "2026-01-01 00:00:30", Missed(10_000, True, ts("2025-12-31 23:59:00"))),
])
def test_missed_ticks(cron: str, last_fired: str | None, now: str, expected: Missed) -> None:
    last = None if last_fired is None else ts(last_fired)
    assert missed_ticks(parse_cron(cron), last, ts(now), max_lateness=60) == expected

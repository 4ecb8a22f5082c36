"""Cron Triggers: ``[triggers] crons`` run the Worker's ``scheduled`` handler, once per tick across all nodes.

Pure parts first (``parse_cron``, ``next_fire``, ``ticks_between``, ``missed_ticks``), then a dumb loop
(``CronScheduler``) and the two places a tick is claimed (``CronStore``): one SQLite file per Worker under the
state directory (``INSERT`` of a unique ``(cron, tick)`` row: several processes of one machine) or Redis
(``SET NX PX`` per cron and tick: many nodes), chosen by ``PORTFLARE_CRON``. The node whose claim succeeds runs
the tick; the others skip it.

Expressions are Cloudflare's: five fields, UTC, day of week **1 = Sunday .. 7 = Saturday** (or ``SUN``..``SAT``),
``L``/``W``/``LW`` in the day of month, ``<day>L`` (last Friday: ``6L``) and ``<day>#<n>`` in the day of week.
They are rewritten into croniter's dialect (0 = Sunday, ``L5``), and ``LW`` (which croniter lacks) is a filter.
A tick is fired if the scheduler sees it at most ``max_lateness`` seconds late; ticks missed while every node
was down (or the machine slept) are not replayed: they are counted and logged once.
"""

from __future__ import annotations

import asyncio
import calendar
import logging
import os
import re
import socket
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any, Protocol

from croniter import CroniterError, croniter

from portflare.backends import REDIS_SCHEMES, BackendTarget, sqlite_path
from portflare.errors import BackendError, ConfigError
from portflare.runtime.scheduled import ScheduledController
from portflare.sqlitefile import connect_wal

log = logging.getLogger("portflare.cron")

ScheduledHandler = Callable[[ScheduledController], Awaitable[None]]

MAX_LATENESS = 60.0  # seconds: a tick seen later than this is missed, not fired
MISSED_COUNT_CAP = 10_000  # counting stops here ("at least 10000 ticks")
WALL_TIME_SECONDS = 15 * 60  # Cloudflare's wall-time limit for a scheduled run
CLAIM_RETENTION_MS = 7 * 24 * 3600 * 1000  # how long claimed ticks are remembered
DAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
_VALUE = r"(\d+|[a-z]{3})"
WHILE_DOWN = "while no node was running it"
WHILE_STALLED = "while this node was suspended (the machine slept or the process was paused) and no other node ran it"


@dataclass(frozen=True)
class CronSchedule:
    source: str  # exactly as configured: what controller.cron reports
    expression: str  # croniter's dialect
    last_weekday: bool = False  # day of month "LW"


def _weekday(value: str, source: str) -> int:
    if value.isdigit():
        if not 1 <= int(value) <= 7:
            raise ConfigError(f"cron '{source}': day of week {value} is out of range: Cloudflare numbers days "
                              "1 (Sunday) to 7 (Saturday); or use SUN..SAT")
        return int(value) - 1
    if value not in DAYS:
        raise ConfigError(f"cron '{source}': unknown day of week '{value}'")
    return DAYS.index(value)


def _translate_dow(field: str, source: str) -> str:
    items = []
    for item in field.lower().split(","):
        if m := re.fullmatch(r"\*(/\d+)?", item):
            items.append(item)
        elif m := re.fullmatch(_VALUE + "l", item):
            items.append(f"L{_weekday(m[1], source)}")
        elif m := re.fullmatch(_VALUE + r"#([1-5])", item):
            items.append(f"{_weekday(m[1], source)}#{m[2]}")
        elif m := re.fullmatch(_VALUE + "(?:-" + _VALUE + r")?(/\d+)?", item):
            text = str(_weekday(m[1], source))
            if m[2]:
                text += f"-{_weekday(m[2], source)}"
            items.append(text + (m[3] or ""))
        else:
            raise ConfigError(f"cron '{source}': cannot read day-of-week item '{item}'")
    return ",".join(items)


@lru_cache(maxsize=256)
def parse_cron(source: str) -> CronSchedule:
    """A Cloudflare cron expression, checked and rewritten for croniter; ``ConfigError`` says what is wrong."""
    fields = source.split()
    if len(fields) != 5:
        raise ConfigError(f"cron '{source}': Cloudflare cron expressions have 5 fields (minute hour day-of-month "
                          f"month day-of-week), got {len(fields)}")
    minute, hour, dom, month, dow = fields
    last_weekday = dom.upper() == "LW"
    if last_weekday:
        if dow != "*":
            raise ConfigError(f"cron '{source}': LW cannot be combined with a day of week")
        dom = "26-31"  # the last weekday of a month always falls on one of these; the filter picks it
    expression = " ".join((minute, hour, dom, month, _translate_dow(dow, source)))
    try:
        croniter(expression, datetime(2000, 1, 1, tzinfo=UTC))
    except (CroniterError, ValueError) as exc:
        raise ConfigError(f"cron '{source}': {exc}") from None
    return CronSchedule(source, expression, last_weekday)


def is_last_weekday(day: datetime) -> bool:
    last = calendar.monthrange(day.year, day.month)[1]
    end = day.replace(day=last)
    while end.weekday() >= 5:  # Saturday, Sunday
        end -= timedelta(days=1)
    return day.day == end.day


def next_fire(schedule: CronSchedule, after: float) -> float:
    """The first tick strictly after ``after`` (epoch seconds), in UTC."""
    start = datetime.fromtimestamp(after, UTC)
    it = croniter(schedule.expression, start)
    while True:
        tick: datetime = it.get_next(datetime)
        if not schedule.last_weekday or is_last_weekday(tick):
            return tick.timestamp()
        it = croniter(schedule.expression, tick.replace(hour=23, minute=59, second=59))  # skip to the next day


def ticks_between(schedule: CronSchedule, start: float, end: float, cap: int = MISSED_COUNT_CAP) -> list[float]:
    """Ticks ``t`` with ``start < t <= end``, at most ``cap`` of them."""
    ticks: list[float] = []
    t = next_fire(schedule, start)
    while t <= end and len(ticks) < cap:
        ticks.append(t)
        t = next_fire(schedule, t)
    return ticks


@dataclass(frozen=True)
class Missed:
    count: int
    capped: bool = False  # there were at least ``count``
    last: float | None = None  # the latest missed tick


def missed_ticks(schedule: CronSchedule, last_fired: float | None, now: float,
                 max_lateness: float = MAX_LATENESS) -> Missed:
    """Ticks after the last one any node fired that are now too late to fire (none if nothing ever fired)."""
    if last_fired is None:
        return Missed(0)
    ticks = ticks_between(schedule, last_fired, now - max_lateness, MISSED_COUNT_CAP + 1)
    if not ticks:
        return Missed(0)
    capped = len(ticks) > MISSED_COUNT_CAP
    # With the cap hit, the true last missed tick lies further on: find it directly.
    last = ticks[-1] if not capped else _last_tick_before(schedule, now - max_lateness)
    return Missed(min(len(ticks), MISSED_COUNT_CAP), capped, last)


def _last_tick_before(schedule: CronSchedule, end: float) -> float:
    it = croniter(schedule.expression, datetime.fromtimestamp(end + 1e-3, UTC))
    while True:
        tick: datetime = it.get_prev(datetime)
        if not schedule.last_weekday or is_last_weekday(tick):
            return tick.timestamp()


# ---------------------------------------------------------------------------------------------------------
# Where ticks are claimed


class CronStore(Protocol):
    async def claim(self, cron: str, tick_ms: int, node: str) -> bool:
        """Record ``(cron, tick)`` as taken by ``node``; True for exactly one caller, whichever node it is on."""
        ...

    async def last_tick(self, cron: str) -> int | None:
        """The latest tick (ms) claimed for ``cron``, fired or reported missed."""
        ...

    async def close(self) -> None: ...


class SqliteCronStore:
    SCHEMA = """
    CREATE TABLE IF NOT EXISTS cron_ticks (
        cron TEXT NOT NULL,
        tick_ms INTEGER NOT NULL,
        node TEXT NOT NULL,
        claimed_at REAL NOT NULL,
        PRIMARY KEY (cron, tick_ms)
    ) WITHOUT ROWID;
    """

    def __init__(self, path: str) -> None:
        self._db = connect_wal(path, busy_timeout=10.0)
        self._db.executescript(self.SCHEMA)

    async def claim(self, cron: str, tick_ms: int, node: str) -> bool:
        cursor = self._db.execute("INSERT OR IGNORE INTO cron_ticks (cron, tick_ms, node, claimed_at) "
                                  "VALUES (?, ?, ?, ?)", (cron, tick_ms, node, time.time()))
        if cursor.rowcount != 1:
            return False
        self._db.execute("DELETE FROM cron_ticks WHERE cron = ? AND tick_ms < ?", (cron, tick_ms - CLAIM_RETENTION_MS))
        return True

    async def last_tick(self, cron: str) -> int | None:
        row = self._db.execute("SELECT max(tick_ms) FROM cron_ticks WHERE cron = ?", (cron,)).fetchone()
        return None if row[0] is None else int(row[0])

    async def close(self) -> None:
        self._db.close()


class RedisCronStore:
    # KEYS: tick key, last key; ARGV: node, ttl ms, tick ms
    CLAIM = """
    if not redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return 0 end
    if tonumber(ARGV[3]) > tonumber(redis.call('GET', KEYS[2]) or '-1') then redis.call('SET', KEYS[2], ARGV[3]) end
    return 1
    """

    def __init__(self, client: Any, worker: str) -> None:
        self._redis = client
        self._prefix = f"portflare:cron:{{{worker}}}:"
        self._claim = client.register_script(self.CLAIM)

    async def claim(self, cron: str, tick_ms: int, node: str) -> bool:
        keys = [f"{self._prefix}tick:{cron}:{tick_ms}", f"{self._prefix}last:{cron}"]
        return bool(await self._claim(keys=keys, args=[node, CLAIM_RETENTION_MS, tick_ms]))

    async def last_tick(self, cron: str) -> int | None:
        value = await self._redis.get(f"{self._prefix}last:{cron}")
        return None if value is None else int(value)

    async def clear(self) -> None:
        """Delete this Worker's cron keys (tests)."""
        async for key in self._redis.scan_iter(match=self._prefix + "*"):
            await self._redis.delete(key)

    async def close(self) -> None:
        await self._redis.aclose()


async def open_cron_store(target: BackendTarget) -> CronStore:
    """SQLite (embedded, or ``sqlite:///path``) or Redis (``redis://``...), keyed by the Worker's name."""
    if target.scheme in ("embedded", "sqlite"):
        return SqliteCronStore(str(sqlite_path(target)))
    if target.scheme in REDIS_SCHEMES:
        from portflare.bindings.kv.redis import client_from_url

        assert target.url is not None
        return RedisCronStore(client_from_url(target.url), target.resource)
    raise BackendError(f"PORTFLARE_{target.binding}: no cron backend for scheme '{target.scheme}://' "
                       "(supported: sqlite://, redis://, rediss://, valkey://, valkeys://)")


# ---------------------------------------------------------------------------------------------------------
# The loop


def node_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


class CronScheduler:
    def __init__(self, crons: Sequence[str], store: CronStore, handler: ScheduledHandler, *,
                 node: str | None = None, clock: Callable[[], float] = time.time,
                 sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
                 max_lateness: float = MAX_LATENESS) -> None:
        self.schedules = [parse_cron(c) for c in dict.fromkeys(crons)]
        self.store = store
        self.handler = handler
        self.node = node or node_name()
        self.clock = clock
        self.sleep = sleep
        self.max_lateness = max_lateness
        self.running: set[asyncio.Task[None]] = set()
        self._stopping = False

    def stop(self) -> None:
        """Ask ``run`` to return; cancel its task too (see ``Consumer.stop`` for why both)."""
        self._stopping = True

    async def run(self) -> None:
        """Fire ticks until stopped or cancelled (running handlers are left to the caller: ``self.running``)."""
        self._stopping = False
        now = self.clock()
        cursor: dict[CronSchedule, float] = {}  # the latest tick this node has dealt with, per schedule
        for schedule in self.schedules:
            last_ms = await self.store.last_tick(schedule.source)
            last = None if last_ms is None else last_ms / 1000
            await self._report(schedule, missed_ticks(schedule, last, now, self.max_lateness), WHILE_DOWN)
            # A tick that is late but within the grace (no node was up to fire it) still fires.
            cursor[schedule] = now if last is None else max(last, now - self.max_lateness)
        while not self._stopping:
            now = self.clock()
            for schedule in self.schedules:
                if now - next_fire(schedule, cursor[schedule]) > self.max_lateness:
                    # This loop stalled (the machine slept, the process was paused): other nodes may have fired
                    # some of the ticks meanwhile. What nobody fired is reported once, as at start, not replayed.
                    cursor[schedule] = await self._skip_stall(schedule, cursor[schedule], now)
                for tick in ticks_between(schedule, cursor[schedule], now):
                    cursor[schedule] = tick
                    if await self._claim(schedule, tick):
                        self._fire(schedule, tick)
            upcoming = min(next_fire(s, cursor[s]) for s in self.schedules)
            await self.sleep(max(0.0, upcoming - self.clock()))

    async def _skip_stall(self, schedule: CronSchedule, cursor: float, now: float) -> float:
        """Account for the ticks a stalled loop is too late for; return the cursor to go on from."""
        last = cursor
        try:
            claimed = await self.store.last_tick(schedule.source)
            if claimed is not None:
                last = max(last, claimed / 1000)
            await self._report(schedule, missed_ticks(schedule, last, now, self.max_lateness), WHILE_STALLED)
        except Exception as exc:
            log.error("cron '%s': cannot reach the cron store to account for missed ticks: %s", schedule.source, exc)
        return max(last, now - self.max_lateness)

    async def _claim(self, schedule: CronSchedule, tick: float) -> bool:
        try:
            return await self.store.claim(schedule.source, int(tick * 1000), self.node)
        except Exception as exc:  # the store is unreachable: this node cannot know it is the one to fire
            log.error("cron '%s': cannot claim the tick at %s, skipped on this node: %s", schedule.source,
                      datetime.fromtimestamp(tick, UTC).isoformat(), exc)
            return False

    async def _report(self, schedule: CronSchedule, missed: Missed, why: str) -> None:
        if not missed.count or missed.last is None:
            return
        # Claiming the last missed tick marks the gap accounted for, so one node logs it, once.
        if await self.store.claim(schedule.source, int(missed.last * 1000), f"missed by {self.node}"):
            at_least = "at least " if missed.capped else ""
            log.warning("cron '%s': %s%d tick%s missed %s (up to %s); not replayed", schedule.source, at_least,
                        missed.count, "" if missed.count == 1 else "s", why,
                        datetime.fromtimestamp(missed.last, UTC).isoformat())

    def _fire(self, schedule: CronSchedule, tick: float) -> None:
        task = asyncio.create_task(self._run_handler(ScheduledController(schedule.source, tick * 1000)))
        self.running.add(task)
        task.add_done_callback(self.running.discard)

    async def _run_handler(self, controller: ScheduledController) -> None:
        try:
            async with asyncio.timeout(WALL_TIME_SECONDS):
                await self.handler(controller)
        except Exception:
            # Cloudflare does not document retrying a failed run; neither retry nor noRetry() changes anything here.
            log.exception("cron '%s': the scheduled handler raised", controller.cron)

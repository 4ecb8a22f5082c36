"""The cron scheduler on both claim stores, with an accelerated clock (one real second is ten minutes)."""

from __future__ import annotations

import asyncio
import logging
import re
import time
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from portflare.bindings.kv.redis import client_from_url
from portflare.runtime.cron import CronScheduler, CronStore, RedisCronStore, SqliteCronStore
from portflare.runtime.scheduled import ScheduledController
from tests.conftest import require_service

REDIS_URL = "redis://127.0.0.1:6379/15"
SPEED = 600.0  # a per-minute cron ticks every 0.1 s


def ts(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()


class FastClock:
    """Fake time running ``speed`` times faster than real time, from ``start``; shared by every scheduler."""

    def __init__(self, start: float, speed: float = SPEED) -> None:
        self.start, self.speed, self.real0 = start, speed, time.monotonic()

    def __call__(self) -> float:
        return self.start + (time.monotonic() - self.real0) * self.speed

    def jump(self, seconds: float) -> None:
        """Time passes at once, as for a process whose machine slept: its sleeps end late."""
        self.start += seconds

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds / self.speed)


@pytest.fixture(params=["sqlite", "redis"])
async def stores(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Callable[[], CronStore]]:
    """Opens stores on one shared backend (a SQLite file, or one Worker's keys in Redis)."""
    opened: list[CronStore] = []
    worker = f"test-{uuid.uuid4().hex[:12]}"
    if request.param == "redis":
        require_service("redis", "127.0.0.1", 6379)

    def open_store() -> CronStore:
        store: CronStore
        if request.param == "redis":
            store = RedisCronStore(client_from_url(REDIS_URL), worker)
        else:
            store = SqliteCronStore(str(tmp_path / "cron.sqlite"))
        opened.append(store)
        return store

    yield open_store
    for store in opened:
        if isinstance(store, RedisCronStore):
            await store.clear()
        await store.close()


async def run_for(schedulers: list[CronScheduler], real_seconds: float) -> None:
    tasks = [asyncio.create_task(s.run()) for s in schedulers]
    await asyncio.sleep(real_seconds)
    for s, task in zip(schedulers, tasks, strict=True):
        s.stop()
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    for s in schedulers:
        await asyncio.gather(*s.running, return_exceptions=True)


async def test_fires_every_tick_with_its_controller(stores: Callable[[], CronStore]) -> None:
    clock = FastClock(ts("2026-01-01 12:00:30"))
    fired: list[ScheduledController] = []

    async def handler(controller: ScheduledController) -> None:
        fired.append(controller)

    await run_for([CronScheduler(["* * * * *"], stores(), handler, clock=clock, sleep=clock.sleep)], 0.65)
    ticks = [c.scheduledTime for c in fired]
    assert len(ticks) >= 4
    # the first tick after start (12:01, or a little later if starting took a while), then every minute
    assert ts("2026-01-01 12:01:00") * 1000 <= ticks[0] <= ts("2026-01-01 12:03:00") * 1000
    assert ticks == [ticks[0] + 60_000 * i for i in range(len(ticks))]
    assert {c.cron for c in fired} == {"* * * * *"} and all(isinstance(t, float) for t in ticks)


async def test_two_schedulers_on_one_backend_fire_each_tick_once(stores: Callable[[], CronStore]) -> None:
    clock = FastClock(ts("2026-01-01 12:00:30"))
    fired: list[tuple[str, str, float]] = []

    def handler_for(node: str) -> Callable[[ScheduledController], object]:
        async def handler(controller: ScheduledController) -> None:
            fired.append((node, controller.cron, controller.scheduledTime))
        return handler

    crons = ["* * * * *", "*/2 * * * *"]
    schedulers = [CronScheduler(crons, stores(), handler_for(node), node=node, clock=clock,  # type: ignore[arg-type]
                                sleep=clock.sleep) for node in ("a", "b")]
    await run_for(schedulers, 1.05)
    for cron, step in (("* * * * *", 1), ("*/2 * * * *", 2)):
        ticks = sorted(t for _, c, t in fired if c == cron)
        assert len(ticks) == len(set(ticks)) >= 4  # once per tick...
        assert ticks == [ticks[0] + step * 60_000 * i for i in range(len(ticks))]  # ...and none skipped


async def test_missed_ticks_are_reported_once_not_replayed(stores: Callable[[], CronStore],
                                                           caplog: pytest.LogCaptureFixture) -> None:
    await stores().claim("* * * * *", int(ts("2026-01-01 10:00:00") * 1000), "earlier")
    clock = FastClock(ts("2026-01-01 12:00:30"), speed=60)  # slower, so starting up cannot cross 12:01
    fired: list[float] = []

    async def handler(controller: ScheduledController) -> None:
        fired.append(controller.scheduledTime)

    schedulers = [CronScheduler(["* * * * *"], stores(), handler, node=n, clock=clock, sleep=clock.sleep)
                  for n in ("a", "b")]
    with caplog.at_level(logging.WARNING, logger="portflare.cron"):
        await run_for(schedulers, 0.3)
    warnings = [r.getMessage() for r in caplog.records if "missed" in r.getMessage()]
    assert warnings == ["cron '* * * * *': 119 ticks missed while no node was running it (up to "
                        "2026-01-01T11:59:00+00:00); not replayed"]
    assert sorted(fired)[0] == ts("2026-01-01 12:00:00") * 1000  # 30 s late: within the grace, fired once
    assert len(fired) == len(set(fired))


async def test_a_failing_handler_does_not_stop_the_schedule(stores: Callable[[], CronStore],
                                                            caplog: pytest.LogCaptureFixture) -> None:
    clock = FastClock(ts("2026-01-01 12:00:50"))
    calls: list[float] = []

    async def handler(controller: ScheduledController) -> None:
        calls.append(controller.scheduledTime)
        raise RuntimeError("cron boom")

    with caplog.at_level(logging.ERROR, logger="portflare.cron"):
        await run_for([CronScheduler(["* * * * *"], stores(), handler, clock=clock, sleep=clock.sleep)], 0.4)
    assert len(calls) >= 3
    assert any("the scheduled handler raised" in r.getMessage() for r in caplog.records)


def missed_warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if "missed" in r.getMessage()]


async def test_ticks_missed_while_the_machine_slept_are_reported_once(stores: Callable[[], CronStore],
                                                                     caplog: pytest.LogCaptureFixture) -> None:
    clock = FastClock(ts("2026-01-01 12:00:30"))
    fired: list[float] = []

    async def handler(controller: ScheduledController) -> None:
        fired.append(controller.scheduledTime / 1000)

    scheduler = CronScheduler(["* * * * *"], stores(), handler, clock=clock, sleep=clock.sleep)
    task = asyncio.create_task(scheduler.run())
    with caplog.at_level(logging.WARNING, logger="portflare.cron"):
        await wait_until(lambda: len(fired) >= 2)
        woke = clock() + 8 * 3600
        clock.jump(8 * 3600)  # the process stays up, its machine sleeps 8 hours
        await wait_until(lambda: fired[-1] > woke)
        scheduler.stop()
        task.cancel()
        await asyncio.gather(task, *scheduler.running, return_exceptions=True)
    [warning] = missed_warnings(caplog)
    count = int(re.search(r"': (\d+) ticks missed while this node was suspended \(the machine slept or the process "
                          r"was paused\) and no other node ran it \(up to ", warning)[1])  # type: ignore[index]
    before, after = [t for t in fired if t < woke - 3600], [t for t in fired if t > woke - 3600]
    assert count == (after[0] - before[-1]) / 60 - 1  # every tick between the last fired before and the first after
    assert after[0] >= woke - 60  # nothing late by more than the grace was replayed
    assert fired == sorted(set(fired)) and after == [after[0] + 60 * i for i in range(len(after))]


async def test_a_stalled_node_reports_only_what_no_other_node_fired(stores: Callable[[], CronStore],
                                                                   caplog: pytest.LogCaptureFixture) -> None:
    clock = FastClock(ts("2026-01-01 12:00:30"))
    fired: list[tuple[str, float]] = []
    frozen = asyncio.Event()  # set: node a's sleeps do not end (its machine is suspended)
    thawed = asyncio.Event()

    async def sleep_a(seconds: float) -> None:
        await clock.sleep(seconds)
        if frozen.is_set():
            await thawed.wait()

    def handler_for(node: str) -> Callable[[ScheduledController], Any]:
        async def handler(controller: ScheduledController) -> None:
            fired.append((node, controller.scheduledTime / 1000))
        return handler

    a = CronScheduler(["* * * * *"], stores(), handler_for("a"), node="a", clock=clock, sleep=sleep_a)
    b = CronScheduler(["* * * * *"], stores(), handler_for("b"), node="b", clock=clock, sleep=clock.sleep)
    tasks = {"a": asyncio.create_task(a.run()), "b": asyncio.create_task(b.run())}
    with caplog.at_level(logging.WARNING, logger="portflare.cron"):
        await wait_until(lambda: len(fired) >= 2)
        frozen.set()
        stalled_at = clock()
        await wait_until(lambda: clock() > stalled_at + 5 * 60 and any(t > stalled_at + 4 * 60 for _, t in fired))
        b.stop()  # b fires some of the ticks a sleeps through, then goes away too
        tasks["b"].cancel()
        await asyncio.gather(tasks["b"], *b.running, return_exceptions=True)
        b_last = max(t for _, t in fired)
        clock.jump(3600)
        thawed.set()
        await wait_until(lambda: max(t for _, t in fired) > b_last + 3600)
        a.stop()
        tasks["a"].cancel()
        await asyncio.gather(tasks["a"], *a.running, return_exceptions=True)
    [warning] = missed_warnings(caplog)
    match = re.search(r"': (\d+) ticks missed while this node was suspended .* \(up to (\S+)\); not replayed",
                      warning)
    assert match is not None
    up_to = datetime.fromisoformat(match[2]).timestamp()
    assert int(match[1]) == (up_to - b_last) / 60  # counted from b's last tick, not from when a stalled
    ticks = sorted(t for _, t in fired)
    assert len(ticks) == len(set(ticks))  # once each, across both nodes


async def wait_until(condition: Callable[[], bool], within: float = 30.0) -> None:
    deadline = time.monotonic() + within
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.01)

"""Two scheduler processes on one backend fire each tick exactly once between them."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
import uuid
from collections import Counter
from pathlib import Path

import pytest

from portflare.bindings.kv.redis import client_from_url
from portflare.runtime.cron import RedisCronStore
from tests.conftest import require_service

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
SPEED = 300.0  # a per-minute cron ticks every 0.2 s
RUN_SECONDS = 2.5


@pytest.mark.parametrize("backend", ["sqlite", "redis"])
def test_two_processes_fire_each_tick_once(backend: str, tmp_path: Path) -> None:
    worker = f"test-{uuid.uuid4().hex[:12]}"
    if backend == "redis":
        require_service("redis", "127.0.0.1", 6379)
        store = f"redis://127.0.0.1:6379/15#{worker}"
    else:
        store = str(tmp_path / "cron.sqlite")
    log = tmp_path / "fired.log"
    start = 1_767_268_830.0  # 2026-01-01 12:00:30 UTC
    real0 = time.time() + 0.5  # both nodes share this clock; they are up before it starts moving much
    procs = [subprocess.Popen([sys.executable, "-m", "tests.cron.cron_node", store, str(log), str(start),
                               str(real0), str(SPEED), str(RUN_SECONDS)], cwd=ROOT, stderr=subprocess.PIPE)
             for _ in range(2)]
    try:
        for proc in procs:
            assert proc.wait(30) == 0, proc.stderr.read().decode() if proc.stderr else ""
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        if backend == "redis":
            asyncio.run(_clear(worker))
    rows = [line.split() for line in log.read_text().splitlines()]
    ticks = Counter(int(tick) for _, tick in rows)
    assert set(ticks.values()) == {1}, f"ticks fired more than once: {ticks}"
    ordered = sorted(ticks)
    assert len(ordered) >= 6
    assert ordered == [ordered[0] + 60_000 * i for i in range(len(ordered))]  # none skipped


async def _clear(worker: str) -> None:
    store = RedisCronStore(client_from_url("redis://127.0.0.1:6379/15"), worker)
    await store.clear()
    await store.close()

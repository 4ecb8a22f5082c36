"""Several consumer processes on one queue, one of them SIGKILLed mid-batch: nothing is lost, nothing is
handled twice except the killed batch's messages (delivered again, with ``attempts`` 2)."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from portflare.backends import BackendTarget
from portflare.bindings.queues import open_backend, open_binding
from tests.conftest import require_service

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
REDIS_URL = "redis://127.0.0.1:6379/15"
MESSAGES = 300


@pytest.fixture(params=["sqlite", "redis"])
def backend_url(request: pytest.FixtureRequest) -> str | None:
    if request.param == "redis":
        require_service("redis", "127.0.0.1", 6379)
        return REDIS_URL
    return None


class Nodes:
    def __init__(self, queue: str, log: Path, state_dir: Path, url: str | None) -> None:
        self.queue, self.log, self.state_dir, self.url = queue, log, state_dir, url
        self.procs: list[subprocess.Popen[bytes]] = []

    def start(self, *extra: str) -> subprocess.Popen[bytes]:
        cmd = [sys.executable, "-m", "tests.queues.consumer_node", self.queue, str(self.log),
               "--state-dir", str(self.state_dir), "--lease", "1.0", *extra]
        if self.url:
            cmd += ["--url", self.url]
        proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        self.procs.append(proc)
        return proc

    def lines(self, kind: str, pid: int | None = None) -> list[list[str]]:
        if not self.log.exists():
            return []
        rows = [line.split() for line in self.log.read_text().splitlines()]
        return [r[2:] for r in rows if r and r[0] == kind and (pid is None or int(r[1]) == pid)]

    def wait_for(self, condition: object, seconds: float, what: str) -> None:
        deadline = time.monotonic() + seconds
        while not condition():  # type: ignore[operator]
            for proc in self.procs:
                if proc.poll() not in (None, -signal.SIGKILL):
                    raise AssertionError(f"a node exited: {proc.stderr.read().decode() if proc.stderr else ''}")
            assert time.monotonic() < deadline, f"timed out waiting for {what}"
            time.sleep(0.02)

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


@pytest.fixture
def nodes(tmp_path: Path, backend_url: str | None) -> Iterator[Nodes]:
    n = Nodes(f"mp-{uuid.uuid4().hex[:12]}", tmp_path / "events.log", tmp_path / "state", backend_url)
    yield n
    n.stop()


async def _send_all(nodes: Nodes, count: int) -> None:
    target = BackendTarget(kind="queues", binding="Q", resource=nodes.queue, state_dir=nodes.state_dir,
                           url=nodes.url)
    q = await open_binding(target)
    try:
        for start in range(0, count, 100):
            await q.sendBatch([{"body": i} for i in range(start, min(count, start + 100))])
    finally:
        await q._aclose()


async def _settled(nodes: Nodes, seconds: float = 10) -> int:
    """Wait until the queue is empty (the last acks follow the last "done" lines); return its depth."""
    backend = await open_backend(BackendTarget(kind="queues", binding="Q", resource=nodes.queue,
                                               state_dir=nodes.state_dir, url=nodes.url))
    try:
        deadline = time.monotonic() + seconds
        while True:
            depth = (await backend.stats(time.time())).depth
            if not depth or time.monotonic() > deadline:
                return depth
            await asyncio.sleep(0.05)
    finally:
        if nodes.url:
            await backend.clear()  # type: ignore[attr-defined]
        await backend.close()


def test_sigkill_mid_batch_loses_nothing(nodes: Nodes) -> None:
    doomed = nodes.start("--hang-on-batch", "3", "--concurrency", "1", "--work", "0.02")
    survivor = nodes.start("--concurrency", "1", "--work", "0.02")
    nodes.wait_for(lambda: len(nodes.lines("ready")) == 2, 20, "both nodes")
    asyncio.run(_send_all(nodes, MESSAGES))

    nodes.wait_for(lambda: len(nodes.lines("begin", doomed.pid)) >= 3, 20, "the doomed node's third batch")
    killed_batch = [item.split(":")[0] for item in nodes.lines("begin", doomed.pid)[2]]
    os.kill(doomed.pid, signal.SIGKILL)  # mid-batch: it logged "begin" and hangs before "done"
    doomed.wait(5)

    def all_done() -> bool:
        return len({i for row in nodes.lines("done") for i in row}) == MESSAGES

    nodes.wait_for(all_done, 30, "every message to be handled")
    assert asyncio.run(_settled(nodes)) == 0
    nodes.stop()

    done = Counter(i for row in nodes.lines("done") for i in row)
    assert len(done) == MESSAGES and set(done.values()) == {1}  # each handled exactly once to completion
    begun = Counter(item.split(":")[0] for row in nodes.lines("begin") for item in row)
    redelivered = {i for i, n in begun.items() if n > 1}
    assert redelivered == set(killed_batch)  # only the killed batch was delivered twice...
    again = {item.split(":")[0]: int(item.split(":")[1]) for row in nodes.lines("begin", survivor.pid)
             for item in row if item.split(":")[0] in redelivered}
    assert set(again.values()) == {2}  # ...as a second attempt


def test_two_nodes_share_the_work_without_duplicates(nodes: Nodes) -> None:
    a = nodes.start("--work", "0.02", "--concurrency", "2")
    b = nodes.start("--work", "0.02", "--concurrency", "2")
    nodes.wait_for(lambda: len(nodes.lines("ready")) == 2, 20, "both nodes")
    asyncio.run(_send_all(nodes, MESSAGES))
    nodes.wait_for(lambda: len({i for row in nodes.lines("done") for i in row}) == MESSAGES, 30, "all handled")
    assert asyncio.run(_settled(nodes)) == 0
    nodes.stop()
    begun = Counter(item for row in nodes.lines("begin") for item in row)
    assert len(begun) == MESSAGES and set(begun.values()) == {1}
    assert all(item.endswith(":1") for item in begun)
    assert nodes.lines("done", a.pid) and nodes.lines("done", b.pid)  # both took part

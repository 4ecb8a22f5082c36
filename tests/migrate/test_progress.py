"""The progress every long migrate command draws: rows (or keys), rows/s and an ETA, read off a recording
rich Console."""

from __future__ import annotations

import io
import re
import sqlite3
import time
from pathlib import Path

from rich.console import Console

from portflare.bindings.kv.sqlite import SqliteKVBackend
from portflare.migrate.data import copy_tables
from portflare.migrate.endpoint import open_endpoint
from portflare.migrate.kv import BackendSource, copy_kv
from portflare.migrate.progress import BarReporter
from portflare.migrate.verify import verify

ROWS = 3000


def _console() -> Console:
    return Console(file=io.StringIO(), record=True, width=140, force_terminal=True)


def _source(tmp_path: Path) -> str:
    db = sqlite3.connect(tmp_path / "src.sqlite")
    db.execute("CREATE TABLE events (id INTEGER PRIMARY KEY, name TEXT NOT NULL)")
    db.executemany("INSERT INTO events VALUES (?, ?)", [(i, f"event {i}") for i in range(ROWS)])
    db.commit()
    db.close()
    return f"sqlite:///{tmp_path / 'src.sqlite'}"


class Recorder:
    def __init__(self) -> None:
        self.started: dict[str, int | None] = {}
        self.advanced: dict[str, int] = {}

    def start(self, name: str, total: int | None, done: int = 0) -> None:
        self.started[name] = total

    def advance(self, name: str, n: int) -> None:
        self.advanced[name] = self.advanced.get(name, 0) + n

    def finish(self, name: str) -> None:
        pass


async def test_copy_and_verify_bars_show_rate_and_eta(tmp_path: Path) -> None:
    source = await open_endpoint(_source(tmp_path))
    target = await open_endpoint(f"sqlite:///{tmp_path / 'dst.sqlite'}")
    console = _console()
    try:
        with BarReporter(console=console) as bar:  # slowed down so the bar refreshes (10/s) mid-copy
            await copy_tables(source, target, batch_size=300, reporter=bar,
                              after_batch=lambda table, n: time.sleep(0.05))
        frames = console.export_text()
        # mid-copy: rows done of the total, a measured rate and a time remaining
        assert re.search(r"events .* \d+/3000 [\d,]+ rows/s \d:\d\d:\d\d ETA \d:\d\d:0[1-9]", frames), frames
        assert re.search(r"events .* 3000/3000 [\d,]+ rows/s \d:\d\d:\d\d ETA 0:00:00", frames), frames

        console = _console()
        with BarReporter(console=console) as bar:
            assert (await verify(source, target, reporter=bar)).ok
        assert re.search(r"events .* 6000/6000 [\d,]+ rows/s", console.export_text())  # both sides read

        recorder = Recorder()
        assert (await verify(source, target, sample=50, reporter=recorder)).ok
        assert recorder.started == {"events": 50} and recorder.advanced == {"events": 50}
    finally:
        await source.close()
        await target.close()


async def test_kv_copy_has_a_total(tmp_path: Path) -> None:
    backend = SqliteKVBackend.connect(str(tmp_path / "src.sqlite"))
    now = time.time()
    for i in range(250):
        await backend.put(f"k{i:03d}", b"v", None if i % 2 else int(now) + 3600, '{"i": 1}' if i % 3 else None)
    await backend.put("gone", b"v", int(now) - 1, None)  # already expired: not listed, not counted
    source = BackendSource(backend)
    target = BackendSource(SqliteKVBackend.connect(str(tmp_path / "dst.sqlite")))
    recorder = Recorder()
    try:
        report = await copy_kv(source, target, reporter=recorder, now=now)
        assert report.copied == 250
        assert recorder.started == {"keys": 250} and recorder.advanced == {"keys": 250}
        copied = await target.backend.get_many(["k000", "k001", "k002"], now)
        assert copied["k001"] == (b"v", None, '{"i": 1}') and copied["k000"] == (b"v", int(now) + 3600, None)
    finally:
        await source.close()
        await target.close()

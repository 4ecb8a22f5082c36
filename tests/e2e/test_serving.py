"""What `portflare dev` / `serve` print, and how they exit when the Worker cannot start (real subprocesses)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import free_port
from tests.e2e.devserver import DevServer

pytestmark = pytest.mark.slow

WORKERS = Path(__file__).resolve().parents[1] / "workers"

CHATTY = '''
from js import console
from workers import Response, WorkerEntrypoint


class Default(WorkerEntrypoint):
    async def fetch(self, request):
        console.log("console-marker", {"n": 1})
        console.error("console-error-marker")
        return Response("ok")
'''


def chatty_project(root: Path) -> Path:
    (root / "src").mkdir(parents=True)
    (root / "migrations").mkdir()
    (root / "wrangler.toml").write_text(
        'name = "chatty"\nmain = "src/entry.py"\ncompatibility_date = "2025-11-02"\n'
        'compatibility_flags = ["python_workers"]\nfrobnicate = 1\n'
        'd1_databases = [{ binding = "DB", database_id = "d" }]\n')
    (root / "migrations" / "0001_init.sql").write_text("CREATE TABLE t (x INTEGER);\n")
    (root / "src" / "entry.py").write_text(CHATTY)
    return root


def test_dev_prints_console_output_migrations_and_config_warnings_once(tmp_path: Path) -> None:
    state = tmp_path / "state"
    state.mkdir()
    dev = DevServer(chatty_project(tmp_path / "chatty"), state)  # the default: with --reload
    try:
        dev.wait_ready("/")
        assert httpx.get(dev.base + "/").text == "ok"
        deadline = time.monotonic() + 10
        while "console-error-marker" not in dev.log.read_text() and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        dev.stop()
    output = dev.log.read_text()
    lines = output.splitlines()
    assert 'console-marker {"n": 1}' in lines, output  # as wrangler prints console.log: the plain line
    assert "console-error-marker" in lines, output
    assert "INFO:     applied D1 migration DB/0001_init.sql" in lines, output
    assert output.count('Unexpected fields found in top-level field: "frobnicate"') == 1, output


def run_portflare(*args: str, timeout: float = 60) -> tuple[int, str, float]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PORTFLARE_")}
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "portflare", *args], capture_output=True, text=True, env=env,
                          timeout=timeout)
    return done.returncode, done.stdout + done.stderr, time.monotonic() - started


@pytest.mark.parametrize("mode", [["serve", "--workers", "2"], ["serve"], ["dev", "--no-reload"]])
def test_worker_that_cannot_load_is_reported_once_and_exits_3(tmp_path: Path, mode: list[str]) -> None:
    project = tmp_path / "missingdep"
    shutil.copytree(WORKERS / "missingdep", project)
    code, output, elapsed = run_portflare(*mode, str(project), "--port", str(free_port()),
                                          "--persist-to", str(tmp_path / "state"))
    assert code == 3, output
    assert output.count("portflare-test-not-installed>=1.0") == 1, output  # not once per process/logger
    assert "Worker startup failed: " in output and "pip install" in output
    assert elapsed < 30, f"took {elapsed:.1f}s to give up"

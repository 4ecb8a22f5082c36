"""``portflare dev`` as a subprocess on a free port, its output collected in a file."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.conftest import free_port


class DevServer:
    def __init__(self, project: Path, state: Path, *extra: str) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = state / "server.log"
        env = {k: v for k, v in os.environ.items() if not k.startswith("PORTFLARE_")}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "portflare", "dev", str(project), "--port", str(self.port),
             "--persist-to", str(state), *extra],
            stdout=self.log.open("wb"), stderr=subprocess.STDOUT, env=env,
        )

    def wait_ready(self, path: str = "/health", timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"portflare dev exited early:\n{self.log.read_text()}")
            try:
                httpx.get(self.base + path, timeout=2)
                return
            except httpx.HTTPError:
                time.sleep(0.2)
        raise AssertionError(f"portflare dev did not answer in {timeout}s:\n{self.log.read_text()}")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

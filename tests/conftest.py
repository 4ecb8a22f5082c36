"""Shared test helpers.

Real-backend tests use the services on this machine (PostgreSQL, MariaDB, Redis) for real. Locally a missing
service skips the test with a message saying what to start; under ``CI=true`` a missing service fails.
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Iterator

import pytest

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


class Clock:
    """A settable ``time.time`` for bindings that take a clock: tests advance it instead of sleeping."""

    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


def port_open(host: str, port: int, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def require_service(name: str, host: str, port: int) -> None:
    """Skip (locally) or fail (CI=true) when a service the test needs is not listening."""
    if port_open(host, port):
        return
    message = f"{name} is not reachable on {host}:{port}; start it to run this test"
    if IN_CI:
        pytest.fail(f"{message} (CI=true: a missing service is a failure)")
    pytest.skip(message)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def s3_server() -> Iterator[str]:
    """An S3 endpoint URL: ``PORTFLARE_TEST_S3_URL`` if set, else moto's server started on a loopback port."""
    from tests.s3server import moto_server

    given = os.environ.get("PORTFLARE_TEST_S3_URL")
    if given:
        yield given
        return
    server = moto_server()
    try:
        url = server.__enter__()
    except (RuntimeError, OSError) as exc:
        message = f"cannot start moto's S3 server ({exc}); pip install 'moto[server]' or set PORTFLARE_TEST_S3_URL"
        if IN_CI:
            pytest.fail(f"{message} (CI=true: a missing service is a failure)")
        pytest.skip(message)
    yield url
    server.__exit__(None, None, None)

"""Shared test helpers.

Real-backend tests use the services on this machine (PostgreSQL, MariaDB, Redis) for real. Locally a missing
service skips the test with a message saying what to start; under ``CI=true`` a missing service fails.
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import NoReturn
from urllib.parse import urlsplit

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


def missing_service(message: str) -> NoReturn:
    """Skip the test (locally) or fail it (CI=true): a service it needs is not there."""
    if IN_CI:
        pytest.fail(f"{message} (CI=true: a missing service is a failure)")
    pytest.skip(message)


def require_service(name: str, host: str, port: int) -> None:
    """Skip (locally) or fail (CI=true) when a service the test needs is not listening."""
    if not port_open(host, port):
        missing_service(f"{name} is not reachable on {host}:{port}; start it to run this test")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def s3_endpoint(environ: Mapping[str, str]) -> Iterator[str]:
    """An S3 endpoint URL for the duration: ``PORTFLARE_TEST_S3_URL`` if set (it must answer), else moto's
    server started on a loopback port (see tests/s3server.py for why moto)."""
    given = environ.get("PORTFLARE_TEST_S3_URL")
    if given:
        parts = urlsplit(given)
        secure = "secure=false" not in parts.query.lower()
        require_service("the S3 server of PORTFLARE_TEST_S3_URL", parts.hostname or "127.0.0.1",
                        parts.port or (443 if secure else 80))
        yield given
        return
    from tests.s3server import moto_server

    server = moto_server()
    try:
        url = server.__enter__()
    except (RuntimeError, OSError) as exc:
        missing_service(f"cannot start moto's S3 server ({exc}); pip install 'moto[server]' "
                        "or set PORTFLARE_TEST_S3_URL")
    try:
        yield url
    finally:
        server.__exit__(None, None, None)


@pytest.fixture(scope="session")
def s3_server() -> Iterator[str]:
    """One S3 endpoint for the whole run (see ``s3_endpoint``)."""
    with s3_endpoint(os.environ) as url:
        yield url

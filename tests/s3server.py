"""A real S3 server for the R2 tests and bench: moto's server in a subprocess on 127.0.0.1:<free port>.

moto, not MinIO: no MinIO server can be installed from the package registries this project reaches (PyPI, npm
and Debian have only MinIO client SDKs). ``PORTFLARE_TEST_S3_URL`` (e.g.
``s3://minio:minio123@127.0.0.1:9000/?secure=false``) points the tests at a running server instead. Locally a
server that cannot start (or does not answer) skips the S3 tests; under ``CI=true`` it fails them.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager

from tests.conftest import free_port, port_open

ACCESS_KEY = "testing"
SECRET_KEY = "testing"


@contextmanager
def moto_server(startup_timeout: float = 20.0) -> Iterator[str]:
    """Yield ``s3://testing:testing@127.0.0.1:<port>/?secure=false`` (bucket left to the caller); stop on exit."""
    port = free_port()
    env = {**os.environ, "AWS_ACCESS_KEY_ID": ACCESS_KEY, "AWS_SECRET_ACCESS_KEY": SECRET_KEY}
    # The server logs every request: to a file, since an unread pipe would fill up and stall it.
    log = tempfile.TemporaryFile()
    process = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                               stdout=log, stderr=subprocess.STDOUT, env=env)
    try:
        deadline = time.monotonic() + startup_timeout
        while not port_open("127.0.0.1", port, timeout=0.2):
            if process.poll() is not None:
                log.seek(0)
                output = log.read().decode(errors="replace")[-500:]
                raise RuntimeError(f"moto server exited: {output}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"moto server did not listen on 127.0.0.1:{port} within {startup_timeout}s")
            time.sleep(0.05)
        yield f"s3://{ACCESS_KEY}:{SECRET_KEY}@127.0.0.1:{port}/?secure=false"
    finally:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def with_bucket(url: str, bucket: str) -> str:
    """The server URL with ``bucket`` as its path."""
    base, _, query = url.partition("?")
    return f"{base.rstrip('/')}/{bucket}" + (f"?{query}" if query else "")

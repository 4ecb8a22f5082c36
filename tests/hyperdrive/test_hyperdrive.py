"""Hyperdrive: origin validation with Miniflare's messages, the binding's properties, and a Worker using it."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from portflare.backends import BackendTarget
from portflare.bindings.hyperdrive import open_binding
from portflare.config import load_config
from portflare.errors import BackendError
from portflare.runtime.app import create_app
from tests.asgi_client import lifespan
from tests.conftest import require_service

WORKER = Path(__file__).parent / "worker"


def _target(url: str | None) -> BackendTarget:
    return BackendTarget(kind="hyperdrive", binding="HYPERDRIVE", resource="id", state_dir=Path("."), url=url)


async def test_properties() -> None:
    hd = await open_binding(_target("postgresql://app:s%40cret@db.internal/shop?sslmode=require"))
    # The origin URL as configured, options included: the Worker's driver talks to the origin itself, so
    # workerd's rebuilt "...@<proxy>:5432/shop?sslmode=disable" would drop the origin's TLS.
    assert hd.connectionString == "postgresql://app:s%40cret@db.internal/shop?sslmode=require"
    assert (hd.host, hd.port, hd.user, hd.password, hd.database) == ("db.internal", 5432, "app", "s@cret", "shop")
    assert "s%40cret" not in repr(hd)
    with pytest.raises(BackendError, match="cannot resolve 'db.internal' to an IP address"):
        hd.ip  # noqa: B018  # a host that does not resolve fails when ip is read, not when the Worker starts
    mysql = await open_binding(_target("mysql://root:pw@127.0.0.1/app"))
    assert (mysql.port, mysql.ip) == (3306, "127.0.0.1")
    assert (await open_binding(_target("postgres://u:p@localhost/d"))).ip in ("127.0.0.1", "::1")
    assert (await open_binding(_target("postgres://u:p@h:6543/d"))).port == 6543
    await hd._aclose()  # a no-op: the Worker's driver owns its connections
    with pytest.raises(NotImplementedError):
        hd.connect()


@pytest.mark.parametrize(("url", "message"), [
    ("localhost/db", "You must specify the database protocol - e.g. 'postgresql'/'mysql'."),
    ("mongodb://u:p@h/db", "Only PostgreSQL-compatible or MySQL-compatible databases are currently supported."),
    ("postgres://u:p@/db", "You must provide a hostname or IP address in your connection string"),
    ("postgres://u:p@h", "You must provide a database name as the path component - e.g. /postgres"),
    ("postgres://h/db", "You must provide a username - e.g. 'user:password@database.host.example.com:5432/"),
    ("postgres://u@h/db", "You must provide a password - e.g. 'user:password@database.host.example.com:5432/"),
    (None, "has no origin database: set PORTFLARE_HYPERDRIVE"),
])
async def test_invalid_origins(url: str | None, message: str) -> None:
    with pytest.raises(BackendError) as info:
        await open_binding(_target(url))
    assert message in str(info.value)


async def test_worker_queries_postgres_through_hyperdrive(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    require_service("PostgreSQL", "127.0.0.1", 5432)
    monkeypatch.delenv("PORTFLARE_HYPERDRIVE", raising=False)  # the config's localConnectionString applies
    app = create_app(load_config(WORKER), state_dir=tmp_path / "state", dev=True)
    async with lifespan(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://worker.test") as client:
            response = await client.get("/")
    assert response.status_code == 200, response.text
    assert response.json() == {"db": "test", "answer": 42, "by_ip": 42, "host": "127.0.0.1", "ip": "127.0.0.1",
                               "port": 5432, "user": "postgres", "database": "test"}


async def test_env_var_overrides_local_connection_string(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from portflare.runtime.env import open_env

    config = load_config(WORKER)
    environ = {"PORTFLARE_HYPERDRIVE": "mysql://me:pw@db.example:3307/app"}
    async with open_env(config, tmp_path, environ=environ) as env:
        assert (env.HYPERDRIVE.host, env.HYPERDRIVE.port, env.HYPERDRIVE.database) == ("db.example", 3307, "app")
    async with open_env(config, tmp_path, environ={}) as env:
        assert env.HYPERDRIVE.connectionString == "postgres://postgres:unused@127.0.0.1:5432/test"

"""The example app's /health, in-process: 200 when every binding answers, 503 naming the one that does not."""

from __future__ import annotations

from pathlib import Path

from portflare.config import load_config
from portflare.runtime.app import create_app
from tests.asgi_client import RunningApps, app_of

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "personality-spark"


async def test_health_is_503_when_a_binding_fails(tmp_path: Path) -> None:
    apps = RunningApps()
    try:
        client = await apps.client(create_app(load_config(EXAMPLE, environ={}), state_dir=tmp_path, dev=False))
        healthy = await client.get("/health")
        assert (healthy.status_code, healthy.json()) == (200, {"d1": "ok", "kv": "ok", "r2": "ok"})

        await app_of(client).env.DB._aclose()  # the database goes away under the running Worker
        failing = await client.get("/health")
        assert failing.status_code == 503
        body = failing.json()
        assert (body["kv"], body["r2"]) == ("ok", "ok")
        assert body["d1"].startswith("error: ")
    finally:
        await apps.aclose()

"""`pip install portflare` without extras must give a working CLI and embedded runtime: optional drivers are
imported only by the backend that needs them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

OPTIONAL = ["redis", "asyncpg", "aiomysql", "pymysql", "boto3", "botocore", "moto", "fastapi", "flask"]
EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "personality-spark"

SCRIPT = f"""
import asyncio, pathlib, sys, tempfile
for name in {OPTIONAL!r}:
    sys.modules[name] = None  # any import of it now raises ImportError
from portflare.cli.main import cli
from portflare.config import load_config
from portflare.runtime.app import create_app
from portflare.runtime.server import _asset_server
from tests.asgi_client import RunningApps

async def main():
    config = load_config({str(EXAMPLE)!r})
    apps = RunningApps()
    state = pathlib.Path(tempfile.mkdtemp())
    app = create_app(config, state_dir=state, dev=True, assets=_asset_server(config, dev=True))
    client = await apps.client(app)
    try:
        response = await client.get("/api/quizzes/generate/mood")
        assert response.status_code == 200, response.text
    finally:
        await apps.aclose()

asyncio.run(main())
print("ok")
"""


def test_cli_and_embedded_runtime_need_no_optional_driver() -> None:
    result = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=60,
                            cwd=Path(__file__).resolve().parents[1])
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith("ok")

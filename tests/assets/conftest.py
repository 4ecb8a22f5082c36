from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

import pytest

from portflare.api.request import Request
from portflare.api.response import Response
from portflare.config import Assets
from portflare.runtime.assets import AssetServer

MakeServer = Callable[..., AssetServer]


def write_files(root: Path, files: Iterable[str] | dict[str, str | bytes]) -> None:
    items = files.items() if isinstance(files, dict) else ((name, f"content of {name}") for name in files)
    for name, content in items:
        path = root / name.lstrip("/")
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)


@pytest.fixture
def make_server(tmp_path: Path) -> MakeServer:
    """``make_server(files, **assets_options)``: an AssetServer over a fresh directory holding ``files``."""

    def make(files: Iterable[str] | dict[str, str | bytes] = (), *, server_options: dict[str, object] | None = None,
             **options: object) -> AssetServer:
        root = tmp_path / "public"
        root.mkdir(exist_ok=True)
        write_files(root, files)
        return AssetServer(Assets(directory=root, **options), **(server_options or {}))  # type: ignore[arg-type]

    return make


async def get(server: AssetServer, path: str, method: str = "GET", **headers: str) -> Response:
    return await server.fetch(Request(f"http://example.com{path}", method=method,
                                      headers={k.replace("_", "-"): v for k, v in headers.items()}))

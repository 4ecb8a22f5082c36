"""Serving a Worker over HTTP with uvicorn: ``portflare dev`` (reload) and ``portflare serve`` (N processes).

Uvicorn's reloader and worker processes import the app anew in each child, so the settings travel in one
environment variable and ``app_factory`` rebuilds the app from them there.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass
from typing import Any

from portflare.config import Config, load_config, state_dir

log = logging.getLogger("portflare.server")

SETTINGS_ENV = "PORTFLARE_SERVER_SETTINGS"
# Besides Python sources, a change to these restarts `portflare dev` (uvicorn watches *.py by default).
RELOAD_INCLUDES = ["*.py", "wrangler.toml", "wrangler.jsonc", "wrangler.json", ".dev.vars", ".dev.vars.*",
                   "pyproject.toml", "*.sql"]
RELOAD_EXCLUDES = [".portflare/*", ".venv/*", "node_modules/*", ".git/*"]


@dataclass(frozen=True)
class ServerSettings:
    project: str
    env_name: str | None = None
    persist_to: str | None = None
    dev: bool = False

    def to_env(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_env(cls) -> ServerSettings:
        raw = os.environ.get(SETTINGS_ENV)
        if not raw:
            raise RuntimeError(f"{SETTINGS_ENV} is not set: start the server with `portflare dev` or `portflare serve`")
        return cls(**json.loads(raw))


def app_factory() -> Callable[..., Awaitable[None]]:
    """Build the ASGI app for the settings in the environment (runs in every uvicorn child process)."""
    from portflare.runtime.app import create_app

    settings = ServerSettings.from_env()
    config = load_config(settings.project, env_name=settings.env_name)
    hooks: list[Callable[[Any], Awaitable[Any]]] = []
    if settings.dev:
        hooks.append(_migrations_hook(config))
    app: Callable[..., Awaitable[None]] = create_app(
        config, state_dir=state_dir(config, settings.persist_to), dev=settings.dev,
        assets=_asset_server(config, dev=settings.dev), startup_hooks=hooks)
    return app


# In dev, edited assets show up within a second without a restart (the reloader only watches code).
DEV_ASSET_REFRESH = 1.0


def _asset_server(config: Config, *, dev: bool) -> Any:
    if config.assets is None:
        return None
    from portflare.runtime.assets import AssetServer

    return AssetServer.from_config(config, refresh_interval=DEV_ASSET_REFRESH if dev else None)


def _migrations_hook(config: Config) -> Callable[[Any], Awaitable[Any]]:
    """`portflare dev` applies pending D1 migrations at start, so a fresh clone just runs."""

    async def apply(env: Any) -> None:
        from portflare.bindings.d1.migrations import apply_all_pending

        applied = await apply_all_pending(config, env)
        for name in applied:
            log.info("applied D1 migration %s", name)

    return apply


def run(settings: ServerSettings, *, host: str, port: int, reload: bool, workers: int, log_level: str) -> None:
    import uvicorn

    os.environ[SETTINGS_ENV] = settings.to_env()
    config = load_config(settings.project, env_name=settings.env_name)  # fail fast, before forking
    options: dict[str, Any] = {}
    if reload:
        options.update(reload=True, reload_dirs=[str(config.root)], reload_includes=RELOAD_INCLUDES,
                       reload_excludes=RELOAD_EXCLUDES)
    elif workers > 1:
        options.update(workers=workers)
    # http/loop stay "auto": uvicorn picks httptools and uvloop (uvicorn[standard]) when installed. `serve`
    # has no per-request access log (a log call per request; put a proxy in front for that); `dev` keeps it.
    uvicorn.run("portflare.runtime.server:app_factory", factory=True, host=host, port=port,
                log_level=log_level, lifespan="on", server_header=False, date_header=True,
                access_log=settings.dev, **options)

"""Serving a Worker over HTTP with uvicorn: ``portflare dev`` (reload) and ``portflare serve`` (N processes).

Uvicorn's reloader and worker processes import the app anew in each child, so the settings travel in one
environment variable and ``app_factory`` rebuilds the app from them there.

Things are said once: config warnings by the process that loads the config first (the parent, or under
``--reload`` each fresh child, since the file may have changed), a failed Worker start by the first of
``--workers N`` children to fail (they share a marker file), and a server whose Worker could not start exits
with uvicorn's startup-failure code (3) in every mode, also ``serve --workers N``.
"""

from __future__ import annotations

import contextlib
import copy
import json
import logging
import logging.config
import os
import sys
import tempfile
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from portflare.config import Config, load_config, state_dir

log = logging.getLogger("portflare.server")

SETTINGS_ENV = "PORTFLARE_SERVER_SETTINGS"
STARTUP_FAILURE = 3  # uvicorn's exit status when the app cannot start (it exits so itself with one process)
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
    config_warnings: bool = True  # whether app_factory logs the config's warnings (else the parent did)
    startup_failure_file: str | None = None  # created by the first child whose Worker fails to start

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
    with contextlib.nullcontext() if settings.config_warnings else _silenced("portflare.config"):
        config = load_config(settings.project, env_name=settings.env_name)
    hooks: list[Callable[[Any], Awaitable[Any]]] = []
    if settings.dev:
        hooks.append(_migrations_hook(config))
    marker = settings.startup_failure_file
    app: Callable[..., Awaitable[None]] = create_app(
        config, state_dir=state_dir(config, settings.persist_to), dev=settings.dev,
        assets=_asset_server(config, dev=settings.dev), startup_hooks=hooks,
        report_startup_failure=None if marker is None else lambda message: _claim(Path(marker), message))
    return app


def _claim(marker: Path, message: str) -> bool:
    """Create ``marker`` holding ``message``; False if another process already had (O_EXCL decides)."""
    try:
        fd = os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    except FileExistsError:
        return False
    with os.fdopen(fd, "w", encoding="utf-8") as file:
        file.write(message)
    return True


@contextlib.contextmanager
def _silenced(logger_name: str) -> Iterator[None]:
    logger = logging.getLogger(logger_name)
    disabled, logger.disabled = logger.disabled, True
    try:
        yield
    finally:
        logger.disabled = disabled


def log_config(level: str) -> dict[str, Any]:
    """uvicorn's logging config, plus portflare's loggers at ``level`` on stderr: ``portflare.*`` with uvicorn's
    ``INFO:`` prefix, and the Worker's ``console.log`` (``portflare.console``) as plain lines, as wrangler prints
    them. Without this, nothing below WARNING from portflare (console output, applied migrations) shows."""
    from uvicorn.config import LOGGING_CONFIG

    config: dict[str, Any] = copy.deepcopy(LOGGING_CONFIG)
    config["formatters"]["console"] = {"format": "%(message)s"}
    config["handlers"]["console"] = {"class": "logging.StreamHandler", "formatter": "console",
                                     "stream": "ext://sys.stderr"}
    config["loggers"]["portflare"] = {"handlers": ["default"], "level": level.upper(), "propagate": False}
    config["loggers"]["portflare.console"] = {"handlers": ["console"], "level": level.upper(), "propagate": False}
    return config


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

    logging_config = log_config(log_level)
    logging.config.dictConfig(logging_config)  # config warnings below print like everything after them
    # Fail fast, before forking. Under --reload each child reads the config afresh and warns itself.
    with _silenced("portflare.config") if reload else contextlib.nullcontext():
        config = load_config(settings.project, env_name=settings.env_name)
    options: dict[str, Any] = {}
    if reload:
        options.update(reload=True, reload_dirs=[str(config.root)], reload_includes=RELOAD_INCLUDES,
                       reload_excludes=RELOAD_EXCLUDES)
    elif workers > 1:
        options.update(workers=workers)
    with tempfile.TemporaryDirectory(prefix="portflare-serve-") as scratch:
        marker = Path(scratch) / "startup-failed"
        # Several children: the first failure claims the marker (so it is printed once) and tells us to exit
        # non-zero, which uvicorn's supervisor does not (it stops, with status 0, once a child fails to start).
        os.environ[SETTINGS_ENV] = replace(
            settings, config_warnings=reload,
            startup_failure_file=str(marker) if workers > 1 and not reload else None).to_env()
        # http/loop stay "auto": uvicorn picks httptools and uvloop (uvicorn[standard]) when installed. `serve`
        # has no per-request access log (a log call per request; put a proxy in front for that); `dev` keeps it.
        uvicorn.run("portflare.runtime.server:app_factory", factory=True, host=host, port=port,
                    log_level=log_level, log_config=logging_config, lifespan="on", server_header=False,
                    date_header=True, access_log=settings.dev, **options)
        if marker.exists():
            sys.exit(STARTUP_FAILURE)

"""What every CLI command shares: finding the project, its state directory, opening one binding."""

from __future__ import annotations

import asyncio
import functools
import sys
from collections.abc import Awaitable, Callable, Coroutine
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

import click

from portflare.backends import BackendTarget, backend_url
from portflare.config import Config, load_config, state_dir
from portflare.errors import JsException, PortflareError

P = ParamSpec("P")
R = TypeVar("R")


def target(kind: str, binding: str, resource: str, state: Path) -> BackendTarget:
    return BackendTarget(kind=kind, binding=binding, resource=resource, state_dir=state,
                         url=backend_url(binding))


def project_options(func: Callable[P, R]) -> Callable[P, R]:
    """``--config/-c``, ``--env/-e`` and ``--persist-to``, named as wrangler names them."""
    func = click.option("--persist-to", type=click.Path(file_okay=False), default=None,
                        help="Directory for local state (default: <project>/.portflare/state).")(func)
    func = click.option("--env", "-e", "env_name", default=None, help="Use [env.NAME] from the config.")(func)
    func = click.option("--config", "-c", "config_path", type=click.Path(exists=True), default=".",
                        show_default=True, help="wrangler.toml/jsonc, or the directory holding it.")(func)
    func = click.option("--local/--remote", default=True, hidden=True,
                        help="Accepted for wrangler compatibility; portflare is always local.")(func)
    return func


def load(config_path: str, env_name: str | None) -> Config:
    return load_config(config_path, env_name=env_name)


def run(coro: Coroutine[Any, Any, R]) -> R:
    return asyncio.run(coro)


def cli_errors(func: Callable[P, R]) -> Callable[P, R]:
    """Library code raises; the CLI prints one line and exits non-zero."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except (PortflareError, JsException) as exc:
            click.secho(f"✘ {exc}", fg="red", err=True)
            sys.exit(1)

    return wrapper


async def maybe_await(value: Awaitable[R] | R) -> R:
    if isinstance(value, Awaitable):
        return await value
    return value
__all__ = ["Config", "cli_errors", "load", "maybe_await", "project_options", "run", "state_dir", "target"]

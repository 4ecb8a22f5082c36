"""``portflare dev`` and ``portflare serve``."""

from __future__ import annotations

import click

from portflare.cli.common import cli_errors
from portflare.runtime.server import ServerSettings, run


def _common(func: click.decorators.FC) -> click.decorators.FC:
    func = click.option("--persist-to", type=click.Path(file_okay=False), default=None,
                        help="Directory for local state (default: PATH/.portflare/state).")(func)
    func = click.option("--env", "-e", "env_name", default=None, help="Use [env.NAME] from the config.")(func)
    func = click.option("--port", "-p", type=int, default=8787, show_default=True)(func)
    func = click.option("--ip", "--host", "host", default="127.0.0.1", show_default=True,
                        help="Interface to listen on.")(func)
    func = click.option("--log-level", default="info", show_default=True,
                        type=click.Choice(["critical", "error", "warning", "info", "debug"]))(func)
    return click.argument("path", type=click.Path(exists=True), default=".")(func)


@click.command()
@_common
@click.option("--reload/--no-reload", default=True, show_default=True, help="Restart when sources change.")
@cli_errors
def dev(path: str, host: str, port: int, env_name: str | None, persist_to: str | None, log_level: str,
        reload: bool) -> None:
    """Serve the Worker in PATH for development (reload, tracebacks in 500s, migrations applied)."""
    run(ServerSettings(project=path, env_name=env_name, persist_to=persist_to, dev=True),
        host=host, port=port, reload=reload, workers=1, log_level=log_level)


@click.command()
@_common
@click.option("--workers", "-w", type=click.IntRange(min=1), default=1, show_default=True,
              help="Number of worker processes.")
@cli_errors
def serve(path: str, host: str, port: int, env_name: str | None, persist_to: str | None, log_level: str,
          workers: int) -> None:
    """Serve the Worker in PATH in production (no reload, no tracebacks in responses)."""
    run(ServerSettings(project=path, env_name=env_name, persist_to=persist_to, dev=False),
        host=host, port=port, reload=False, workers=workers, log_level=log_level)

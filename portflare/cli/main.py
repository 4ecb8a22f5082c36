"""``portflare``: serve a Worker (``dev``, ``serve``) and work with its data (``d1``, ``kv``, ``r2``)."""

from __future__ import annotations

import click

from portflare import __version__
from portflare.cli import d1, kv, migrate, queues, r2, serving


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="portflare")
def cli() -> None:
    """Run Cloudflare Python Workers, and their bindings, on your own machines."""


cli.add_command(serving.dev)
cli.add_command(serving.serve)
cli.add_command(d1.d1)
cli.add_command(kv.kv)
cli.add_command(r2.r2)
cli.add_command(queues.queues)
cli.add_command(migrate.migrate)

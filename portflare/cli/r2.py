"""``portflare r2 ...``: wrangler-shaped commands over the same stores the Worker uses."""

from __future__ import annotations

import click


@click.group()
def r2() -> None:
    """Work with r2 data (as ``wrangler r2``)."""

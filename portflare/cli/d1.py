"""``portflare d1 ...``: wrangler-shaped commands over the same stores the Worker uses."""

from __future__ import annotations

import click


@click.group()
def d1() -> None:
    """Work with d1 data (as ``wrangler d1``)."""

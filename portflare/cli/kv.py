"""``portflare kv ...``: wrangler-shaped commands over the same stores the Worker uses."""

from __future__ import annotations

import click


@click.group()
def kv() -> None:
    """Work with kv data (as ``wrangler kv``)."""

"""Hyperdrive: ``env.HYPERDRIVE.connectionString`` and friends for a PostgreSQL or MySQL database.

The origin is ``PORTFLARE_<BINDING>`` (a ``postgres://``/``postgresql://``/``mysql://`` URL), else the config's
``localConnectionString``. Self-hosted, there is no pooling proxy in between: the binding hands the Worker the
real connection parameters, as Miniflare's Node bindings do, and the Worker's driver connects directly.
"""

from __future__ import annotations

from portflare.backends import BackendTarget
from portflare.bindings.hyperdrive.binding import Hyperdrive, parse_origin


async def open_binding(target: BackendTarget) -> Hyperdrive:
    return Hyperdrive(parse_origin(target.url, target.binding))


__all__ = ["Hyperdrive", "open_binding", "parse_origin"]

"""Hyperdrive: ``env.HYPERDRIVE.connectionString`` and friends for a PostgreSQL or MySQL database.

The origin is ``PORTFLARE_<BINDING>`` (a ``postgres://``/``postgresql://``/``mysql://`` URL), else the config's
``localConnectionString``. Self-hosted, there is no pooling proxy in between and no query cache: the binding
hands the Worker the real connection parameters, as Miniflare's Node bindings do, and the Worker's driver
connects directly. Pooling is PgBouncer's job (point the origin URL at it), not the binding's.
"""

from __future__ import annotations

from portflare.backends import BackendTarget
from portflare.bindings.hyperdrive.binding import Hyperdrive, parse_origin, resolve_ip


async def open_binding(target: BackendTarget) -> Hyperdrive:
    origin = parse_origin(target.url, target.binding)
    return Hyperdrive(origin, await resolve_ip(origin.host, origin.port))


__all__ = ["Hyperdrive", "open_binding", "parse_origin"]

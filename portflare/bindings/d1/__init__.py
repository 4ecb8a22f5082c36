"""D1: SQL databases. The embedded default is one SQLite file per database; ``PORTFLARE_<BINDING>`` picks
another backend by URL: ``sqlite:///path/to/file.db`` for SQLite at a chosen path, ``postgres://…`` /
``postgresql://…`` for PostgreSQL and ``mysql://…`` for MySQL/MariaDB (``?pool_size=N``, ``?schema=NAME``;
see docs/d1-backends.md)."""

from __future__ import annotations

from portflare.backends import BackendTarget, load_backend_class
from portflare.bindings.d1.binding import D1Database, D1DatabaseSession, D1PreparedStatement

BACKENDS = {
    "embedded": "portflare.bindings.d1.sqlite:SqliteD1Backend",
    "sqlite": "portflare.bindings.d1.sqlite:SqliteD1Backend",
    "file": "portflare.bindings.d1.sqlite:SqliteD1Backend",
    "postgres": "portflare.bindings.d1.postgres:PostgresD1Backend",
    "postgresql": "portflare.bindings.d1.postgres:PostgresD1Backend",
    "mysql": "portflare.bindings.d1.mysql:MysqlD1Backend",
}


async def open_binding(target: BackendTarget) -> D1Database:
    backend_class = load_backend_class("d1", BACKENDS, target)
    return D1Database(await backend_class.open(target))


__all__ = ["BACKENDS", "D1Database", "D1DatabaseSession", "D1PreparedStatement", "open_binding"]

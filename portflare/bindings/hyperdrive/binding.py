"""``env.HYPERDRIVE``: Cloudflare's ``Hyperdrive`` object (workerd ``hyperdrive.d.ts``) over a real origin.

On Cloudflare the properties describe Hyperdrive's pooling proxy: a random ``<hex>.hyperdrive.local`` host, a
synthetic ``ip``, a per-invocation password, and ``connectionString`` rebuilt from them with
``?sslmode=disable`` (the hop to the proxy is local). Self-hosted there is no proxy, so they describe the
origin itself, as Miniflare's Node bindings (``getNodeBindings``) do: ``connectionString`` is the origin URL as
configured, its options (``sslmode=require``…) included, since the Worker's driver talks to the origin
directly and rebuilding it with ``sslmode=disable`` would drop the origin's TLS.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from dataclasses import dataclass
from typing import Any, NoReturn
from urllib.parse import unquote, urlsplit

from portflare.backends import env_var_for, redact
from portflare.errors import BackendError

DEFAULT_PORTS = {"postgres": 5432, "postgresql": 5432, "mysql": 3306}
RESOLVE_TIMEOUT_S = 2.0
_EXAMPLE = "'user:password@database.host.example.com:5432/databasename'"

# Miniflare's messages for an unusable local connection string (plugins/hyperdrive/index.ts).
NO_PROTOCOL = "You must specify the database protocol - e.g. 'postgresql'/'mysql'."
UNSUPPORTED = "Only PostgreSQL-compatible or MySQL-compatible databases are currently supported."
NO_HOST = ("You must provide a hostname or IP address in your connection string - e.g. "
           "'user:password@database-hostname.example.com:5432/databasename")
NO_DATABASE = "You must provide a database name as the path component - e.g. /postgres"
NO_USER = f"You must provide a username - e.g. {_EXAMPLE}"
NO_PASSWORD = f"You must provide a password - e.g. {_EXAMPLE}"


@dataclass(frozen=True)
class Origin:
    connection_string: str
    scheme: str
    host: str
    port: int
    user: str
    password: str
    database: str


def parse_origin(url: str | None, binding: str) -> Origin:
    """Validate a Hyperdrive origin as Miniflare does; ``BackendError`` (with Miniflare's words) otherwise."""
    if not url:
        raise BackendError(
            f"Hyperdrive binding {binding!r} has no origin database: set {env_var_for(binding)} to a postgres:// "
            "or mysql:// URL, or its localConnectionString in the config")

    def fail(message: str) -> NoReturn:
        raise BackendError(f"{env_var_for(binding)}={redact(url)}: {message}")

    if "://" not in url:
        fail(NO_PROTOCOL)
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if not scheme:
        fail(NO_PROTOCOL)
    if scheme not in DEFAULT_PORTS:
        fail(UNSUPPORTED)
    if not parts.hostname:
        fail(NO_HOST)
    database = unquote(parts.path.lstrip("/"))
    if not database:
        fail(NO_DATABASE)
    if not parts.username:
        fail(NO_USER)
    if not parts.password:
        fail(NO_PASSWORD)
    try:
        port = parts.port or DEFAULT_PORTS[scheme]
    except ValueError:
        fail(f"invalid port in {redact(url)}")
    return Origin(connection_string=url, scheme=scheme, host=parts.hostname, port=port,
                  user=unquote(parts.username), password=unquote(parts.password), database=database)


async def resolve_ip(host: str, port: int) -> str | BackendError:
    """``host`` as an IP literal (IPv4 preferred, as Cloudflare's synthetic ``ip`` is), resolved now; the
    error instead if it does not resolve, so a Worker that never reads ``ip`` still starts."""
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        pass
    try:
        found = await asyncio.wait_for(
            asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM), RESOLVE_TIMEOUT_S)
    except (OSError, TimeoutError) as exc:
        return BackendError(f"Hyperdrive: cannot resolve {host!r} to an IP address: {exc or 'timed out'}")
    addresses = [str(info[4][0]) for info in found]
    return next((a for a in addresses if ":" not in a), addresses[0])


class Hyperdrive:
    """Read-only connection parameters. ``connectionString`` is what a Postgres or MySQL driver takes."""

    __slots__ = ("_ip", "_origin")

    def __init__(self, origin: Origin, ip: str | BackendError) -> None:
        self._origin = origin
        self._ip = ip

    @property
    def connectionString(self) -> str:
        return self._origin.connection_string

    @property
    def host(self) -> str:
        return self._origin.host

    @property
    def ip(self) -> str:
        """The origin host's address, resolved when the binding opened (for drivers that want an IP literal)."""
        if isinstance(self._ip, BackendError):
            raise self._ip
        return self._ip

    @property
    def port(self) -> int:
        return self._origin.port

    @property
    def user(self) -> str:
        return self._origin.user

    @property
    def password(self) -> str:
        return self._origin.password

    @property
    def database(self) -> str:
        return self._origin.database

    def connect(self) -> Any:
        raise NotImplementedError("Hyperdrive.connect() (a raw socket) is not available in portflare: connect "
                                  "with a database driver to connectionString instead")

    async def _aclose(self) -> None:
        """Nothing to release: the Worker's own driver owns its connections."""

    def __repr__(self) -> str:
        return f"Hyperdrive({redact(self._origin.connection_string)})"

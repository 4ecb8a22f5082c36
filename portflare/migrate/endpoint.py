"""A database the migrator reads from or writes to, opened by URL.

=================================  ==========================================================================
``postgres://u@h/db?schema=s``     PostgreSQL (asyncpg); ``--schema`` or ``?schema=`` picks the namespace
``mysql://u:p@h/db``               MySQL / MariaDB (aiomysql), read side
``sqlite:///path/db.sqlite``       a SQLite file, e.g. the one a D1 binding's ``PORTFLARE_<BINDING>`` names
``d1:DATABASE``                    the project's D1 database (``database_name`` or binding), in whatever
                                   store the Worker reads it from (embedded SQLite by default)
=================================  ==========================================================================

Rows cross between endpoints as *portable* values (``types.py``): each endpoint encodes what its driver returns
and decodes what it writes. A checkpoint (the last source key copied and the row count) is written in the same
transaction as each batch, in the target's ``_portflare_migrate_checkpoint`` table, so a copy interrupted at
any moment resumes exactly after the last committed batch.
"""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import parse_qs, urlsplit, urlunsplit

from portflare.errors import PortflareError
from portflare.migrate.model import ForeignKey, Schema, Table
from portflare.migrate.types import Portable, TimestampMode

CHECKPOINT_TABLE = "_portflare_migrate_checkpoint"
Row = Any  # a driver row: tuple, list or asyncpg.Record (indexable, iterable)


class MigrateError(PortflareError):
    """A migration cannot go on (bad URL, missing table, a target that already holds data, ...)."""


@dataclass(frozen=True)
class Checkpoint:
    table: str
    last_key: list[Any] | None  # the last source primary key copied (JSON-safe), None before the first batch
    rows: int  # rows copied so far
    done: bool = False


def key_json(values: Sequence[Any]) -> list[Any]:
    """A primary key as JSON-safe values (ints and strings stay themselves, anything else its text)."""
    return [v if isinstance(v, int | float | str) and not isinstance(v, bool) else str(v) for v in values]


class Endpoint(Protocol):
    dialect: str  # "postgres", "mysql" or "sqlite"
    label: str  # for reports, password redacted

    async def read_schema(self) -> Schema: ...

    async def apply_ddl(self, statements: Sequence[str]) -> None: ...

    async def count(self, table: Table, where: str | None = None) -> int: ...

    def batches(self, table: Table, columns: Sequence[str], after: list[Any] | None, size: int,
                where: str | None = None, mode: TimestampMode | None = None) -> AsyncGenerator[list[Row], None]:
        """Rows of ``columns`` ordered by the primary key, after the key ``after``: driver values, or portable
        values (``types.py``) converted for ``mode`` when it is given."""
        ...

    async def sample(self, table: Table, columns: Sequence[str], n: int, where: str | None = None) -> list[Row]:
        """``n`` random rows."""
        ...

    async def fetch_keys(self, table: Table, columns: Sequence[str], keys: Sequence[Sequence[Portable]]) -> list[Row]:
        """The rows whose primary key is one of ``keys`` (portable values)."""
        ...

    async def write(self, table: Table, columns: Sequence[str], rows: Sequence[Sequence[Portable]],
                    checkpoint: Checkpoint, mode: TimestampMode) -> None:
        """Insert ``rows`` and record ``checkpoint``, in one transaction."""
        ...

    async def checkpoint(self, table: str) -> Checkpoint | None: ...

    async def reset(self, table: Table) -> None:
        """Delete the table's rows and its checkpoint (a fresh copy)."""
        ...

    async def finish(self, table: Table, checkpoint: Checkpoint) -> None:
        """Mark the table done (and fix sequences, where the target has them)."""
        ...

    async def scalar(self, sql: str) -> Any: ...

    def ident(self, name: str) -> str: ...

    def table_ref(self, name: str) -> str: ...

    async def close(self) -> None: ...


def orphan_sql(endpoint: Endpoint, table: Table, fk: ForeignKey) -> str:
    """Rows of ``table`` whose non-NULL foreign key has no parent row."""
    q = endpoint.ident
    not_null = " AND ".join(f"c.{q(col)} IS NOT NULL" for col in fk.columns)
    match = " AND ".join(f"p.{q(r)} = c.{q(col)}" for col, r in zip(fk.columns, fk.ref_columns, strict=True))
    return (f"SELECT count(*) FROM {endpoint.table_ref(table.name)} c WHERE {not_null} AND NOT EXISTS "
            f"(SELECT 1 FROM {endpoint.table_ref(fk.ref_table)} p WHERE {match})")


def checkpoint_from(table: str, last_key: str | None, rows: int, done: Any) -> Checkpoint:
    return Checkpoint(table, json.loads(last_key) if last_key else None, int(rows), bool(done))


async def open_endpoint(url: str, *, schema: str | None = None, project: Any = None) -> Endpoint:
    """Open the endpoint ``url`` names. ``project`` is a ``(Config, state_dir)`` pair for ``d1:NAME`` URLs."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme in ("postgres", "postgresql"):
        from portflare.migrate.postgres import PostgresEndpoint

        query = parse_qs(parts.query)
        namespace = schema or query.pop("schema", ["public"])[0]
        rest = "&".join(f"{k}={v[0]}" for k, v in query.items())
        return await PostgresEndpoint.connect(urlunsplit((parts.scheme, parts.netloc, parts.path, rest, "")),
                                              namespace)
    if scheme in ("mysql", "mariadb"):
        from portflare.migrate.mysql import MysqlEndpoint

        return await MysqlEndpoint.connect(url)
    if scheme in ("sqlite", "file"):
        from portflare.migrate.sqlite import SqliteEndpoint

        location = parts.netloc + parts.path
        if not location:
            raise MigrateError(f"{url}: a sqlite URL needs a path, e.g. sqlite:///var/lib/app.db")
        return SqliteEndpoint.connect(Path(location), label=url)
    if scheme == "d1":
        from portflare.migrate.sqlite import open_d1

        return await open_d1(parts.netloc or parts.path, project)
    raise MigrateError(f"{url}: unknown endpoint (use postgres://, mysql://, sqlite:///path or d1:DATABASE)")

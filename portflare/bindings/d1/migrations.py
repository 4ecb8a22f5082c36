"""``wrangler d1 migrations``: numbered ``.sql`` files applied once each, tracked in ``d1_migrations``.

Each file runs as wrangler runs it: its text plus ``INSERT INTO <table> (name) values ('<file>');``, split
like ``d1 execute --file`` and sent as one batch, so a file and its record commit together or not at all.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from portflare.bindings.d1.binding import D1Database
from portflare.bindings.d1.splitter import file_statements
from portflare.bindings.d1.validate import bare_message
from portflare.config import Config
from portflare.config import D1Database as D1Config
from portflare.errors import PortflareError

_PREFIX = re.compile(r"^(\d+)")


class MigrationsError(PortflareError):
    pass


def migrations_dir(config: Config, database: D1Config) -> Path:
    return config.root / database.migrations_dir


def list_migrations(directory: Path) -> list[str]:
    """The ``.sql`` file names in ``directory``, ordered by numeric prefix (then name)."""
    if not directory.is_dir():
        raise MigrationsError(f"No migrations present at {directory}.")

    def key(name: str) -> tuple[int, float, str]:
        match = _PREFIX.match(name)
        return (0, int(match.group(1)), name) if match else (1, 0, name)

    return sorted((p.name for p in directory.iterdir() if p.name.endswith(".sql") and p.is_file()), key=key)


def _table_sql(table: str) -> str:
    return (f"CREATE TABLE IF NOT EXISTS {table}(id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT UNIQUE, "
            "applied_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP NOT NULL)")


async def applied(db: D1Database, table: str) -> list[str]:
    await db.prepare(_table_sql(table)).run()
    rows = await db.prepare(f"SELECT name FROM {table} ORDER BY id").raw()
    return [str(row[0]) for row in rows]


async def pending(db: D1Database, directory: Path, table: str = "d1_migrations") -> list[str]:
    done = set(await applied(db, table))
    return [name for name in list_migrations(directory) if name not in done]


async def apply_pending(db: D1Database, directory: Path, table: str = "d1_migrations") -> list[str]:
    """Apply every unapplied migration in order; stop at the first failure (its batch rolled back).

    Returns the names this call applied. Safe against a concurrent apply (``portflare serve --workers N``
    starting together): a batch that fails because another process applied the same file first is skipped.
    """
    done: list[str] = []
    for name in await pending(db, directory, table):
        sql = (directory / name).read_text(encoding="utf-8")
        record = "'" + name.replace("'", "''") + "'"
        statements = file_statements(f"{sql}\nINSERT INTO {table} (name) values ({record});")
        try:
            await db.batch([db.prepare(s) for s in statements])
        except Exception as exc:
            if name in await applied(db, table):
                continue
            raise MigrationsError(f"Migration {name} failed with the following errors:\n{bare_message(exc)}") from exc
        done.append(name)
    return done


async def apply_all_pending(config: Config, env: Any) -> list[str]:
    """Apply pending migrations of every D1 database in ``config`` (``env.<binding>`` is its binding).

    Databases without a migrations directory are skipped. Returns ``"<database_name>/<file>"`` per migration.
    """
    done: list[str] = []
    for database in config.d1_databases:
        directory = migrations_dir(config, database)
        if not directory.is_dir():
            continue
        names = await apply_pending(getattr(env, database.binding), directory, database.migrations_table)
        done.extend(f"{database.database_name}/{name}" for name in names)
    return done


def create_migration(directory: Path, message: str) -> Path:
    """A new ``NNNN_<message>.sql`` numbered after the highest existing prefix (``0000`` first, as wrangler).

    Spaces in the message become ``_`` as in wrangler; path separators too, so the file stays in ``directory``.
    """
    directory.mkdir(parents=True, exist_ok=True)
    numbers = [int(m.group(1)) for p in directory.glob("*.sql") if (m := _PREFIX.match(p.name))]
    number = max(numbers, default=-1) + 1
    slug = re.sub(r"[ /\\]", "_", message)
    path = directory / f"{number:04d}_{slug}.sql"
    stamp = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    path.write_text(f"-- Migration number: {number:04d} \t {stamp}\n", encoding="utf-8")
    return path

"""``portflare d1 ...``: wrangler-shaped commands over the same stores the Worker uses."""

from __future__ import annotations

import json
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from portflare.bindings.d1 import migrations as d1_migrations
from portflare.bindings.d1.base import SqlError
from portflare.bindings.d1.binding import D1Database
from portflare.bindings.d1.splitter import file_statements, split_statements
from portflare.bindings.d1.validate import bare_message
from portflare.cli.common import Config, cli_errors, load, project_options, run, state_dir, target
from portflare.config import D1Database as D1Config
from portflare.errors import JsException, PortflareError


@click.group()
def d1() -> None:
    """Work with d1 data (as ``wrangler d1``)."""


@asynccontextmanager
async def _open(config: Config, database: D1Config, persist_to: str | None) -> AsyncIterator[D1Database]:
    from portflare.runtime.env import open_binding

    db: D1Database = await open_binding(
        target("d1", database.binding, database.database_name, state_dir(config, persist_to)))
    try:
        yield db
    finally:
        await db._aclose()


def _cell(value: Any) -> Any:
    """A value as wrangler prints it in ``--json``: BLOBs as ``[1, 2]``, NULL as ``"null"``."""
    if isinstance(value, list):
        return "[" + ", ".join(str(v) for v in value) + "]"
    return "null" if value is None else value


@d1.command()
@click.argument("database")
@click.option("--command", "command", default=None, help="A single SQL statement to execute.")
@click.option("--file", "file", type=click.Path(dir_okay=False), default=None, help="A .sql file to ingest.")
@click.option("--json", "as_json", is_flag=True, help="Return output as clean JSON.")
@click.option("--yes", "-y", is_flag=True, help='Answer "yes" to any prompts.')
@project_options
@cli_errors
def execute(database: str, command: str | None, file: str | None, as_json: bool, yes: bool, config_path: str,
            env_name: str | None, persist_to: str | None, local: bool) -> None:
    """Execute a command or SQL file, atomically (as ``wrangler d1 execute --local``)."""
    if command and file:
        raise PortflareError("can't provide both --command and --file.")
    if not command and not file:
        raise PortflareError("must provide --command or --file.")
    if file:
        path = Path(file)
        try:
            head = path.read_bytes()[:15]
            sql = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise PortflareError(f'Unable to read SQL text file "{file}". Please check the file path and '
                                 "try again.") from exc
        if head == b"SQLite format 3":
            raise PortflareError("Provided file is a binary SQLite database file instead of an SQL text file. "
                                 "The execute command can only process SQL text files. Please export an SQL "
                                 "file from your SQLite database and try again.")
        statements = file_statements(sql)
    else:
        statements = split_statements(command or "")
    config = load(config_path, env_name)
    db_config = config.d1(database)

    async def go() -> list[Any]:
        async with _open(config, db_config, persist_to) as db:
            return list(await db.batch([db.prepare(s) for s in statements]))

    try:
        results = run(go())
    except JsException as exc:
        # wrangler prints the D1 error's cause (the bare SQLite message); with --json, as a JSON object.
        if as_json:
            click.echo(json.dumps({"error": {"text": bare_message(exc)}}, indent=2))
            sys.exit(1)
        raise PortflareError(bare_message(exc)) from exc
    if as_json:
        output = [{"results": [{k: _cell(v) for k, v in row.items()} for row in r["results"]],
                   "success": r["success"], "meta": {"duration": r["meta"]["duration"]}} for r in results]
        click.echo(json.dumps(output, indent=2))
        return
    console = Console()
    for r in results:
        if r["results"]:
            table = Table()
            for column in r["results"][0]:
                table.add_column(str(column))
            for row in r["results"]:
                table.add_row(*(str(_cell(v)) for v in row.values()))
            console.print(table)
    n = len(results)
    click.echo(f"🚣 {n} command{'' if n == 1 else 's'} executed successfully.")


@d1.command()
@click.argument("database")
@click.option("--output", required=True, type=click.Path(dir_okay=False), help="File to write the SQL dump to.")
@click.option("--table", "tables", multiple=True, help="Export only this table (repeatable).")
@click.option("--no-schema", is_flag=True, help="Only output table contents, not the DB schema.")
@click.option("--no-data", is_flag=True, help="Only output table schema, not the contents of the DB itself.")
@project_options
@cli_errors
def export(database: str, output: str, tables: tuple[str, ...], no_schema: bool, no_data: bool,
           config_path: str, env_name: str | None, persist_to: str | None, local: bool) -> None:
    """Export the database as SQL (as ``wrangler d1 export``)."""
    if no_schema and no_data:
        raise PortflareError("Cannot use --no-schema and --no-data together. If you wish to export nothing, "
                             "you can just not run this command.")
    config = load(config_path, env_name)
    db_config = config.d1(database)

    async def go() -> list[str]:
        async with _open(config, db_config, persist_to) as db:
            try:
                return await db.backend.dump(tables=tables, no_schema=no_schema, no_data=no_data)
            except SqlError as exc:
                raise PortflareError(str(exc)) from exc

    statements = run(go())
    Path(output).write_text("\n".join(statements), encoding="utf-8")
    click.echo(f"🌀 Exported {database} to {output}")


@d1.group()
def migrations() -> None:
    """List, apply and create D1 migrations (as ``wrangler d1 migrations``)."""


@migrations.command("list")
@click.argument("database")
@project_options
@cli_errors
def list_(database: str, config_path: str, env_name: str | None, persist_to: str | None, local: bool) -> None:
    """List unapplied migrations."""
    config = load(config_path, env_name)
    db_config = config.d1(database)
    directory = d1_migrations.migrations_dir(config, db_config)

    async def go() -> list[str]:
        async with _open(config, db_config, persist_to) as db:
            return await d1_migrations.pending(db, directory, db_config.migrations_table)

    names = run(go())
    if not names:
        click.echo("✅ No migrations to apply!")
        return
    click.echo("Migrations to be applied:")
    for name in names:
        click.echo(f"  {name}")


@migrations.command()
@click.argument("database")
@project_options
@cli_errors
def apply(database: str, config_path: str, env_name: str | None, persist_to: str | None, local: bool) -> None:
    """Apply unapplied migrations, each file atomically."""
    config = load(config_path, env_name)
    db_config = config.d1(database)
    directory = d1_migrations.migrations_dir(config, db_config)

    async def go() -> list[str]:
        async with _open(config, db_config, persist_to) as db:
            return await d1_migrations.apply_pending(db, directory, db_config.migrations_table)

    names = run(go())
    if not names:
        click.echo("✅ No migrations to apply!")
    for name in names:
        click.echo(f"✅ {name}")


@migrations.command()
@click.argument("database")
@click.argument("message")
@project_options
@cli_errors
def create(database: str, message: str, config_path: str, env_name: str | None, persist_to: str | None,
           local: bool) -> None:
    """Create a new, empty migration file."""
    config = load(config_path, env_name)
    db_config = config.d1(database)
    path = d1_migrations.create_migration(d1_migrations.migrations_dir(config, db_config), message)
    click.echo(f"✅ Successfully created Migration '{path.name}'!")

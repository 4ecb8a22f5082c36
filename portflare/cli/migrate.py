"""``portflare migrate ...``: move an app's schema and data onto D1/KV (and back), and prove nothing was lost.

Long commands draw a progress bar (rows, rows/s, ETA) on stderr; ``--json`` prints one JSON document on
stdout instead, for scripts. ``d1:NAME`` and ``kv:BINDING`` endpoints are resolved in the project given by
``--config`` (default: the current directory).
"""

from __future__ import annotations

import json
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractContextManager, asynccontextmanager, nullcontext
from pathlib import Path
from typing import Any

import click

from portflare.cli.common import cli_errors, load, project_options, run, state_dir
from portflare.migrate.data import DEFAULT_BATCH, copy_tables, parse_where
from portflare.migrate.endpoint import Endpoint, MigrateError, open_endpoint
from portflare.migrate.progress import BarReporter, NullReporter, Reporter
from portflare.migrate.types import TIMESTAMP_MODES


@click.group()
def migrate() -> None:
    """Move schema and data between PostgreSQL, MySQL, D1/SQLite, KV, R2 and S3, and verify the result."""


def _project(url: str, config_path: str, env_name: str | None, persist_to: str | None) -> Any:
    if not url.startswith(("d1:", "kv:")):
        return None
    config = load(config_path, env_name)
    return config, state_dir(config, persist_to)


@asynccontextmanager
async def _endpoints(source_url: str, target_url: str, schema: str | None, to_schema: str | None,
                     project: Callable[[str], Any]) -> AsyncIterator[tuple[Endpoint, Endpoint]]:
    source = await open_endpoint(source_url, schema=schema, project=project(source_url))
    try:
        target = await open_endpoint(target_url, schema=to_schema, project=project(target_url))
        try:
            yield source, target
        finally:
            await target.close()
    finally:
        await source.close()


def _reporter(as_json: bool, unit: str = "rows") -> tuple[AbstractContextManager[Any], Reporter]:
    if as_json or (not sys.stderr.isatty() and not _force_progress()):
        return nullcontext(), NullReporter()
    bar = BarReporter(unit)
    return bar, bar


def _force_progress() -> bool:
    import os

    return os.environ.get("PORTFLARE_PROGRESS", "") == "1"


def _tables(value: str | None) -> list[str]:
    return [t.strip() for t in (value or "").split(",") if t.strip()]


_timestamps = click.option("--timestamps", type=click.Choice(TIMESTAMP_MODES), default="unix", show_default=True,
                           help="How timestamps are stored in D1: unix seconds, unix milliseconds or ISO-8601 text.")
_json = click.option("--json", "as_json", is_flag=True, help="Print a JSON report on stdout (no progress bar).")


@migrate.command()
@click.option("--from", "source", required=True,
              help="postgres://..., mysql://..., d1:DATABASE, sqlite:///path, or a .sql file (pg_dump --schema-only "
                   "or SQLite DDL).")
@click.option("--schema", default=None, help="PostgreSQL schema to read (default: public, or ?schema= in the URL).")
@click.option("--to-schema", default="public", show_default=True,
              help="Schema that qualifies the PostgreSQL DDL written from a D1 source.")
@click.option("--dialect", type=click.Choice(["auto", "postgres", "sqlite"]), default="auto", show_default=True,
              help="The dialect of a .sql file given to --from.")
@click.option("--output", "-o", type=click.Path(dir_okay=False), default=None, help="Write the DDL here.")
@_timestamps
@_json
@project_options
@cli_errors
def schema(source: str, schema: str | None, to_schema: str, dialect: str, output: str | None, timestamps: str,
           as_json: bool, config_path: str, env_name: str | None, persist_to: str | None, local: bool) -> None:
    """Translate a schema: PostgreSQL/MySQL → D1 (SQLite) DDL, or D1 → PostgreSQL DDL.

    Every lossy mapping is listed in the output's header comment and printed as a report.
    """
    from portflare.migrate.ddl import postgres_ddl, schema_from_pg_dump, schema_from_sqlite_sql, sqlite_ddl

    path = Path(source)
    if "://" not in source and not source.startswith("d1:"):
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise MigrateError(f"cannot read {source}: {exc}") from exc
        if dialect == "auto":
            dialect = "postgres" if "PostgreSQL database dump" in text or "CREATE TYPE" in text.upper() else "sqlite"
        parsed = schema_from_pg_dump(text) if dialect == "postgres" else schema_from_sqlite_sql(text)
    else:
        async def read() -> Any:
            endpoint = await open_endpoint(source, schema=schema,
                                           project=_project(source, config_path, env_name, persist_to))
            try:
                return await endpoint.read_schema()
            finally:
                await endpoint.close()

        parsed = run(read())
    parsed = parsed.select(None)
    if parsed.dialect == "sqlite":
        ddl, title = postgres_ddl(parsed, to_schema), f"PostgreSQL DDL from D1/SQLite ({source})"
    else:
        ddl = sqlite_ddl(parsed, timestamps)  # type: ignore[arg-type]
        title = f"D1/SQLite DDL from {parsed.dialect} ({source}), timestamps as {timestamps}"
    text = ddl.text(title)
    if output:
        Path(output).write_text(text, encoding="utf-8")
    if as_json:
        click.echo(json.dumps({"tables": [t.name for t in parsed.tables], "lossy": ddl.lossy,
                               "statements": ddl.statements}, indent=2))
        return
    if not output:
        click.echo(text)
    else:
        click.echo(f"✅ Wrote {len(parsed.tables)} table(s) to {output}", err=True)
    for note in ddl.lossy:
        click.secho(f"⚠ lossy: {note}", fg="yellow", err=True)


def _copy_options(func: Any) -> Any:
    for option in reversed([
        click.option("--from", "source", required=True, help="postgres://..., mysql://..., d1:DATABASE or "
                                                              "sqlite:///path."),
        click.option("--to", "target", required=True, help="d1:DATABASE, sqlite:///path or postgres://..."),
        click.option("--schema", default=None, help="PostgreSQL schema of --from (default public)."),
        click.option("--to-schema", default=None, help="PostgreSQL schema of --to (default public)."),
        click.option("--tables", default=None, help="Comma-separated tables (default: all)."),
        click.option("--where", "where", multiple=True,
                     help="Filter source rows: TABLE:CONDITION (repeatable), or CONDITION with one --tables."),
        _timestamps, _json,
    ]):
        func = option(func)
    return project_options(func)


@migrate.command()
@_copy_options
@click.option("--batch-size", type=click.IntRange(1), default=DEFAULT_BATCH, show_default=True)
@click.option("--restart", is_flag=True, help="Empty the target tables and copy from the start.")
@click.option("--no-create", is_flag=True, help="Fail instead of creating missing target tables.")
@cli_errors
def data(source: str, target: str, schema: str | None, to_schema: str | None, tables: str | None,
         where: tuple[str, ...], timestamps: str, as_json: bool, batch_size: int, restart: bool, no_create: bool,
         config_path: str, env_name: str | None, persist_to: str | None, local: bool) -> None:
    """Copy table rows (FK-safe order, batched, resumable: run it again after an interruption)."""
    names = _tables(tables)
    filters = parse_where(where, names)
    context, reporter = _reporter(as_json)

    async def go() -> Any:
        async with _endpoints(source, target, schema, to_schema,
                              lambda u: _project(u, config_path, env_name, persist_to)) as (src, dst):
            with context:
                return await copy_tables(src, dst, tables=names, where=filters, batch_size=batch_size,
                                         mode=timestamps, create=not no_create, restart=restart,  # type: ignore[arg-type]
                                         reporter=reporter)

    report = run(go())
    if as_json:
        click.echo(json.dumps(report.as_dict(), indent=2))
        return
    for t in report.tables:
        state = "already complete" if t.skipped else (f"resumed at {t.resumed_from:,}, " if t.resumed_from else "")
        click.echo(f"✅ {t.table}: {t.rows:,} rows copied ({state}{t.total:,} in target)"
                   if not t.skipped else f"✅ {t.table}: {state} ({t.total:,} rows)")
    rate = f", {report.rows / report.seconds:,.0f} rows/s" if report.seconds and report.rows else ""
    click.echo(f"🚚 {report.rows:,} rows in {report.seconds:.1f}s{rate}")
    for note in report.lossy:
        click.secho(f"⚠ lossy: {note}", fg="yellow", err=True)


@migrate.command()
@_copy_options
@click.option("--sample", type=click.IntRange(1), default=None, help="Check N random rows per table, not all.")
@cli_errors
def verify(source: str, target: str, schema: str | None, to_schema: str | None, tables: str | None,
           where: tuple[str, ...], timestamps: str, as_json: bool, sample: int | None, config_path: str,
           env_name: str | None, persist_to: str | None, local: bool) -> None:
    """Compare source and target: row counts, row checksums, FK orphans. Exits 1 on any mismatch."""
    from portflare.migrate.verify import verify as run_verify

    names = _tables(tables)
    filters = parse_where(where, names)
    context, reporter = _reporter(as_json)

    async def go() -> Any:
        async with _endpoints(source, target, schema, to_schema,
                              lambda u: _project(u, config_path, env_name, persist_to)) as (src, dst):
            with context:
                return await run_verify(src, dst, tables=names, sample=sample, where=filters,
                                        mode=timestamps, reporter=reporter)  # type: ignore[arg-type]

    report = run(go())
    if as_json:
        click.echo(json.dumps(report.as_dict(), indent=2, default=str))
    else:
        for t in report.tables:
            mark = click.style("PASS", fg="green") if t.ok else click.style("FAIL", fg="red")
            line = (f"{mark} {t.table}: {t.source_rows:,} source / {t.target_rows:,} target rows, "
                    f"{t.checked_rows:,} checked")
            if t.mismatched:
                line += f", {t.mismatched:,} mismatched"
            click.echo(line)
            for label, keys in (("missing in target", t.missing), ("only in target", t.extra),
                                ("differ", t.differing)):
                if keys:
                    click.echo(f"     {label}: {', '.join(json.dumps(k, default=str) for k in keys)}")
            for fk, n in t.orphans.items():
                if n:
                    click.echo(f"     {n:,} orphaned rows: {fk}")
        verdict = ("PASS", "green") if report.ok else ("FAIL", "red")
        click.echo(click.style(verdict[0], fg=verdict[1], bold=True))
    if not report.ok:
        sys.exit(1)


@migrate.command("kv")
@click.option("--from", "source", required=True,
              help="kv:BINDING, sqlite:///path, redis://host/0?namespace=ID or redis://host/0?plain=1.")
@click.option("--to", "target", required=True, help="kv:BINDING, sqlite:///path or redis://host/0?namespace=ID.")
@click.option("--prefix-map", multiple=True, help="Rename keys: OLD:NEW (repeatable; the longest prefix wins).")
@_json
@project_options
@cli_errors
def kv_(source: str, target: str, prefix_map: tuple[str, ...], as_json: bool, config_path: str,
        env_name: str | None, persist_to: str | None, local: bool) -> None:
    """Copy every live key (value, expiration, metadata) from one KV store to another."""
    from portflare.migrate.kv import BackendSource, copy_kv, open_kv, parse_prefix_map

    pairs = parse_prefix_map(prefix_map)
    context, reporter = _reporter(as_json, "keys")

    async def go() -> Any:
        src = await open_kv(source, _project(source, config_path, env_name, persist_to), source=True)
        try:
            dst = await open_kv(target, _project(target, config_path, env_name, persist_to), source=False)
            assert isinstance(dst, BackendSource)
            try:
                with context:
                    return await copy_kv(src, dst, prefix_map=pairs, reporter=reporter)
            finally:
                await dst.close()
        finally:
            await src.close()

    report = run(go())
    if as_json:
        click.echo(json.dumps(report.as_dict(), indent=2))
        return
    click.echo(f"✅ {report.copied:,} keys copied in {report.seconds:.1f}s"
               + (f", {report.renamed:,} renamed" if report.renamed else ""))
    if report.skipped:
        click.secho(f"⚠ {report.skipped:,} non-string Redis keys skipped, e.g. {', '.join(report.skipped_keys[:5])}",
                    fg="yellow", err=True)


from portflare.cli.migrate_r2 import r2 as _r2  # noqa: E402  (objects between directories, R2 and S3)

migrate.add_command(_r2)

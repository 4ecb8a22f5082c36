"""``portflare migrate r2``: copy objects between a directory, the project's R2 buckets and S3 endpoints.

Registered on the ``migrate`` group by ``portflare/cli/migrate.py``; the logic is ``portflare/migrate/r2.py``.
"""

from __future__ import annotations

import json
import os
import sys
from contextlib import AbstractContextManager, nullcontext
from typing import Any

import click

from portflare.cli.common import cli_errors, load, project_options, run, state_dir
from portflare.migrate.progress import NullReporter, Reporter
from portflare.migrate.r2 import DEFAULT_CONCURRENCY, R2CopyReport, TransferBar, copy_objects, open_store


def _project(url: str, config_path: str, env_name: str | None, persist_to: str | None) -> Any:
    if not url.startswith("r2:") or "://" in url:
        return None
    config = load(config_path, env_name)
    return config, state_dir(config, persist_to)


def _reporter(as_json: bool) -> tuple[AbstractContextManager[Any], Reporter]:
    if as_json or (not sys.stderr.isatty() and os.environ.get("PORTFLARE_PROGRESS", "") != "1"):
        return nullcontext(), NullReporter()
    bar = TransferBar()
    return bar, bar


def _size(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1000 or unit == "GB":
            return f"{n:,.0f} {unit}" if unit == "B" else f"{n:,.1f} {unit}"
        n /= 1000
    return f"{n:,.1f} GB"


def _print(report: R2CopyReport) -> None:
    would = "would be " if report.dry_run else ""
    rate = ""
    if report.seconds and report.copied and not report.dry_run:
        rate = f", {report.copied / report.seconds:,.0f} objects/s, {_size(report.bytes / report.seconds)}/s"
    click.echo(f"✅ {report.copied:,} objects {would}copied ({_size(report.bytes)}), {report.skipped:,} "
               f"already identical, {report.deleted:,} {would}deleted, in {report.seconds:.1f}s{rate}")
    if report.gone:
        click.secho(f"⚠ {report.gone:,} objects vanished from the source during the copy", fg="yellow", err=True)
    for failure in report.failures[:20]:
        click.secho(f"✘ {failure['key']}: {failure['error']}", fg="red", err=True)
    if len(report.failures) > 20:
        click.secho(f"✘ ... and {len(report.failures) - 20:,} more failures", fg="red", err=True)


@click.command("r2")
@click.option("--from", "source", required=True,
              help="dir:///path (or a path), r2:BUCKET_OR_BINDING, file:///path (an embedded R2 store) or "
                   "s3://KEY:SECRET@host:port/bucket?region=..&secure=false.")
@click.option("--to", "target", required=True, help="The same kinds of URL as --from.")
@click.option("--prefix", default="", help="Only objects whose key starts with this.")
@click.option("--concurrency", type=click.IntRange(1, 256), default=DEFAULT_CONCURRENCY, show_default=True,
              help="Objects copied at once.")
@click.option("--delete", is_flag=True, help="Delete target objects (under --prefix) that the source lacks.")
@click.option("--dry-run", is_flag=True, help="Report what would be copied and deleted; write nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON report on stdout (no progress bar).")
@project_options
@cli_errors
def r2(source: str, target: str, prefix: str, concurrency: int, delete: bool, dry_run: bool, as_json: bool,
       config_path: str, env_name: str | None, persist_to: str | None, local: bool) -> None:
    """Copy objects (body, HTTP and custom metadata) between a directory, R2 and S3; re-runs skip objects whose
    ETag and size already match. Exits 1 if any object failed."""
    context, reporter = _reporter(as_json)

    async def go() -> R2CopyReport:
        src = await open_store(source, _project(source, config_path, env_name, persist_to), source=True)
        try:
            dst = await open_store(target, _project(target, config_path, env_name, persist_to), source=False)
            try:
                with context:
                    return await copy_objects(src, dst, prefix=prefix, concurrency=concurrency, delete=delete,
                                              dry_run=dry_run, reporter=reporter)
            finally:
                await dst.close()
        finally:
            await src.close()

    report = run(go())
    if as_json:
        click.echo(json.dumps(report.as_dict(), indent=2))
    else:
        _print(report)
    if not report.ok:
        sys.exit(1)

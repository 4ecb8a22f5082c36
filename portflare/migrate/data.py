"""Copy tables from one endpoint to another: FK-safe order, batches in transactions, resumable.

The loop is deliberately dumb: read a batch (keyset on the primary key), encode it to portable values, write it
with its checkpoint in one target transaction. The write of batch *n* overlaps the read of batch *n + 1*.
A table whose checkpoint says ``done`` is skipped; one with a checkpoint resumes after its last key; a table
without a primary key cannot be resumed midway, so it is emptied and copied again.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Callable, Sequence
from contextlib import aclosing
from dataclasses import asdict, dataclass, field
from typing import Any

from portflare.migrate.ddl import Ddl, postgres_ddl, sqlite_ddl
from portflare.migrate.endpoint import Checkpoint, Endpoint, MigrateError, Row, key_json
from portflare.migrate.model import Schema, Table
from portflare.migrate.progress import NullReporter, Reporter
from portflare.migrate.types import Portable, TimestampMode, encoder, needs_encoding, parse_type

DEFAULT_BATCH = 20_000


@dataclass
class TableCopy:
    table: str
    rows: int = 0  # rows copied by this run
    total: int = 0  # rows in the target for this table after the run (resumed + new)
    skipped: bool = False  # already complete before this run
    resumed_from: int = 0
    seconds: float = 0.0


@dataclass
class CopyReport:
    tables: list[TableCopy] = field(default_factory=list)
    created: list[str] = field(default_factory=list)
    lossy: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def rows(self) -> int:
        return sum(t.rows for t in self.tables)

    def as_dict(self) -> dict[str, Any]:
        return {"tables": [asdict(t) for t in self.tables], "created": self.created, "lossy": self.lossy,
                "rows": self.rows, "seconds": round(self.seconds, 3),
                "rows_per_second": round(self.rows / self.seconds) if self.seconds else None}


# TABLE:CONDITION: a plain or "quoted" identifier, then one ':' (not a PostgreSQL '::' cast)
_TABLE_PREFIX = re.compile(r'\s*([A-Za-z_][\w$]*|"(?:[^"]|"")+")\s*:(?!:)(.*)', re.DOTALL)


def parse_where(items: Sequence[str], tables: Sequence[str]) -> dict[str, str]:
    """``--where 'users:created_at > now()'`` (per table) or a bare condition when one table is copied.

    Anything else with a ':' in it (``created_at > '2024-01-01 10:00'``, ``x::date``) is a bare condition;
    ``source_tables`` refuses a TABLE that is not copied."""
    where: dict[str, str] = {}
    for item in items:
        match = _TABLE_PREFIX.fullmatch(item)
        if match:
            name = match.group(1)
            name = name[1:-1].replace('""', '"') if name.startswith('"') else name
            where[name] = match.group(2).strip()
        elif len(tables) == 1:
            where[tables[0]] = item
        else:
            raise MigrateError(f"--where {item!r}: name the table as TABLE:CONDITION when copying several tables")
    return where


async def source_tables(source: Endpoint, tables: Sequence[str], where: dict[str, str]) -> Schema:
    """The source tables to copy or verify (all when ``tables`` is empty), parents first.

    A ``--where`` for a table that is not among them is refused: a typo (``quizes:published``), or a bare
    condition with a ``:`` in it read as ``TABLE:CONDITION``, would otherwise copy every row unfiltered."""
    try:
        schema = (await source.read_schema()).select(list(tables))
    except KeyError as exc:
        raise MigrateError(f"no such table in {source.label}: {exc.args[0]}") from None
    names = [t.name for t in schema.tables]
    for name, condition in where.items():
        if name not in names:
            raise MigrateError(f'--where {name}:{condition}: "{name}" is not a table copied from {source.label} '
                               f"({', '.join(names) or 'none'}); write TABLE:CONDITION, or give a bare condition "
                               "with a single --tables")
    return schema


def target_ddl(source: Schema, target_dialect: str, mode: TimestampMode, namespace: str = "public") -> Ddl:
    if target_dialect == "sqlite":
        return sqlite_ddl(source, mode)
    if target_dialect == "postgres" and source.dialect == "sqlite":
        return postgres_ddl(source, namespace)
    raise MigrateError(f"cannot create {target_dialect} tables from a {source.dialect} schema; create them first "
                       "(portflare migrate schema)")


def row_encoder(table: Table, columns: Sequence[str], mode: TimestampMode,
                dialect: str) -> Callable[[Sequence[Row]], Sequence[Sequence[Portable]]]:
    """Driver rows → portable rows, converting only the columns whose type needs it."""
    if dialect == "sqlite":
        return lambda rows: rows
    encode = encoder(mode)
    convert = [i for i, c in enumerate(columns)
               if needs_encoding(parse_type(table.column(c).type, enum=table.column(c).enum_values is not None))]
    if not convert:
        return lambda rows: rows

    def encode_rows(rows: Sequence[Row]) -> list[list[Portable]]:
        out = []
        for record in rows:
            row = list(record)
            for i in convert:
                value = row[i]
                if value is not None:
                    row[i] = encode(value)
            out.append(row)
        return out

    return encode_rows


async def copy_tables(source: Endpoint, target: Endpoint, *, tables: Sequence[str] = (),
                      where: dict[str, str] | None = None, batch_size: int = DEFAULT_BATCH,
                      mode: TimestampMode = "unix", create: bool = True, restart: bool = False,
                      reporter: Reporter | None = None,
                      after_batch: Callable[[str, int], None] | None = None) -> CopyReport:
    """Copy ``tables`` (default: all) from ``source`` into ``target``; see the module docstring.

    ``after_batch(table, batches_done)`` runs after each committed batch (tests inject failures there).
    """
    reporter = reporter or NullReporter()
    where = where or {}
    started = time.perf_counter()
    report = CopyReport()
    source_schema = await source_tables(source, tables, where)
    target_schema = await target.read_schema()
    existing = {t.name for t in target_schema.tables}
    missing = [t for t in source_schema.tables if t.name not in existing]
    if missing:
        if not create:
            raise MigrateError(f"{target.label} has no table {', '.join(t.name for t in missing)} (drop --no-create "
                               "or run portflare migrate schema first)")
        ddl = target_ddl(Schema(source_schema.dialect, missing), target.dialect, mode,
                         getattr(target, "namespace", "public"))
        await target.apply_ddl(ddl.statements)
        report.created = [t.name for t in missing]
        report.lossy = ddl.lossy
        target_schema = await target.read_schema()
    for table in source_schema.tables:
        report.tables.append(await _copy_table(source, target, table, target_schema.table(table.name),
                                               where.get(table.name), batch_size, mode, restart, reporter,
                                               after_batch))
    report.seconds = time.perf_counter() - started
    return report


def _advance(reporter: Reporter, name: str, n: int) -> Callable[[asyncio.Future[None]], None]:
    def done(future: asyncio.Future[None]) -> None:
        if not future.cancelled() and future.exception() is None:
            reporter.advance(name, n)

    return done


async def _copy_table(source: Endpoint, target: Endpoint, table: Table, target_table: Table, where: str | None,
                      batch_size: int, mode: TimestampMode, restart: bool, reporter: Reporter,
                      after_batch: Callable[[str, int], None] | None) -> TableCopy:
    result = TableCopy(table.name)
    started = time.perf_counter()
    checkpoint = None if restart else await target.checkpoint(table.name)
    if checkpoint is not None and checkpoint.done:
        result.skipped, result.total = True, checkpoint.rows
        return result
    if restart or (checkpoint is not None and not table.primary_key):
        await target.reset(target_table)
        checkpoint = None
    elif checkpoint is None and await target.count(target_table) > 0:
        raise MigrateError(f"{target.label}: table {table.name} already has rows and no checkpoint; "
                           "use --restart to empty it and copy again")
    columns = [c for c in table.column_names if c in set(target_table.column_names)]
    done = checkpoint.rows if checkpoint else 0
    result.resumed_from = done
    total = await source.count(table, where)
    reporter.start(table.name, total, done)
    key_at = [columns.index(c) for c in table.primary_key] if table.primary_key else []
    after = checkpoint.last_key if checkpoint else None
    pending: asyncio.Task[None] | None = None
    batches = 0
    # aclosing: a reader stopped by an error is closed here, not later by the garbage collector, when its
    # cleanup (a cursor's ROLLBACK on PostgreSQL) would run on the source connection in the middle of the
    # next command ("another operation is in progress")
    try:
        async with aclosing(source.batches(table, columns, after, batch_size, where, mode)) as reader:
            async for portable in reader:
                rows = portable
                last_key = key_json([rows[-1][i] for i in key_at]) if key_at else None
                if pending is not None:
                    await pending
                    batches += 1
                    if after_batch:
                        after_batch(table.name, batches)
                done += len(rows)
                result.rows += len(rows)
                pending = asyncio.ensure_future(
                    target.write(target_table, columns, portable, Checkpoint(table.name, last_key, done), mode))
                pending.add_done_callback(_advance(reporter, table.name, len(rows)))
        if pending is not None:
            await pending
            batches += 1
            if after_batch:
                after_batch(table.name, batches)
            pending = None
    finally:
        if pending is not None:  # an error while reading: let the write in flight finish or fail on its own
            await asyncio.gather(pending, return_exceptions=True)
    await target.finish(target_table, Checkpoint(table.name, after if not key_at else None, done, True))
    reporter.finish(table.name)
    result.total = done
    result.seconds = time.perf_counter() - started
    return result

"""Prove a copy: per table, row counts, a checksum of every row (or of N sampled rows), and FK orphans.

Both sides are read through the same portable encoding the copy used, so a row checksums the same on
PostgreSQL and on D1 exactly when the copy kept it. The full check is order-independent (a sum of 64-bit row
hashes), so it streams in constant memory; only when a table mismatches is it read again to name the rows.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from contextlib import aclosing
from dataclasses import asdict, dataclass, field
from typing import Any

from portflare.migrate.data import row_encoder, source_tables
from portflare.migrate.endpoint import Endpoint, orphan_sql
from portflare.migrate.model import Table
from portflare.migrate.progress import NullReporter, Reporter
from portflare.migrate.types import Portable, TimestampMode

BATCH = 20_000
MASK = (1 << 64) - 1
EXAMPLES = 5


def canonical(value: Portable) -> Portable:
    # D1 (like JavaScript) cannot tell 2 from 2.0; neither does the checksum.
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return int(value)
    return value


def row_hash(row: Sequence[Portable]) -> int:
    digest = hashlib.blake2b(repr(tuple(canonical(v) for v in row)).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little")


@dataclass
class TableCheck:
    table: str
    source_rows: int = 0
    target_rows: int = 0
    checked_rows: int = 0
    mismatched: int = 0
    missing: list[Any] = field(default_factory=list)  # example keys missing in the target
    extra: list[Any] = field(default_factory=list)  # example keys only in the target
    differing: list[Any] = field(default_factory=list)  # example keys whose values differ
    orphans: dict[str, int] = field(default_factory=dict)  # "fk columns -> parent": orphan count

    @property
    def ok(self) -> bool:
        return (self.source_rows == self.target_rows and not self.mismatched and not self.missing
                and not self.extra and not self.differing and not any(self.orphans.values()))


@dataclass
class VerifyReport:
    tables: list[TableCheck] = field(default_factory=list)
    sample: int | None = None

    @property
    def ok(self) -> bool:
        return all(t.ok for t in self.tables)

    def as_dict(self) -> dict[str, Any]:
        return {"result": "PASS" if self.ok else "FAIL", "sample": self.sample,
                "tables": [{**asdict(t), "ok": t.ok} for t in self.tables]}


async def verify(source: Endpoint, target: Endpoint, *, tables: Sequence[str] = (), sample: int | None = None,
                 where: dict[str, str] | None = None, mode: TimestampMode = "unix",
                 reporter: Reporter | None = None) -> VerifyReport:
    reporter = reporter or NullReporter()
    where = where or {}
    source_schema = await source_tables(source, tables, where)
    target_schema = await target.read_schema()
    report = VerifyReport(sample=sample)
    for table in source_schema.tables:
        check = TableCheck(table.name)
        report.tables.append(check)
        check.source_rows = await source.count(table, where.get(table.name))
        try:
            target_table = target_schema.table(table.name)
        except KeyError:
            check.missing = ["<table missing in target>"]
            continue
        check.target_rows = await target.count(target_table)
        columns = [c for c in table.column_names if c in set(target_table.column_names)]
        if len(columns) != len(table.columns):
            check.differing.append(f"<target lacks columns {sorted(set(table.column_names) - set(columns))}>")
        for fk in target_table.foreign_keys:
            check.orphans[f"{','.join(fk.columns)} -> {fk.ref_table}"] = int(
                await target.scalar(orphan_sql(target, target_table, fk)))
        if sample is not None and table.primary_key:
            reporter.start(table.name, min(sample, check.source_rows))
            await _sampled(source, target, table, target_table, columns, sample, where.get(table.name), mode, check)
            reporter.advance(table.name, check.checked_rows)
            reporter.finish(table.name)
            continue
        reporter.start(table.name, check.source_rows + check.target_rows)
        src = await _sum(source, table, columns, where.get(table.name), mode, reporter)
        dst = await _sum(target, target_table, columns, None, mode, reporter)
        reporter.finish(table.name)
        check.checked_rows = src[1]
        if src != dst:
            await _diff(source, target, table, target_table, columns, where.get(table.name), mode, check)
    return report


async def _sum(endpoint: Endpoint, table: Table, columns: Sequence[str], where: str | None, mode: TimestampMode,
               reporter: Reporter) -> tuple[int, int]:
    total = count = 0
    async with aclosing(endpoint.batches(table, columns, None, BATCH, where, mode)) as reader:  # see _copy_table
        async for rows in reader:
            for row in rows:
                total = (total + row_hash(row)) & MASK
            count += len(rows)
            reporter.advance(table.name, len(rows))
    return total, count


async def _hashes(endpoint: Endpoint, table: Table, columns: Sequence[str], key_columns: Sequence[str],
                  where: str | None, mode: TimestampMode) -> dict[tuple[Portable, ...], int]:
    at = [list(columns).index(c) for c in key_columns] or list(range(len(columns)))
    found: dict[tuple[Portable, ...], int] = {}
    async with aclosing(endpoint.batches(table, columns, None, BATCH, where, mode)) as reader:
        async for rows in reader:
            for row in rows:
                key = tuple(canonical(row[i]) for i in at)
                found[key] = (found.get(key, 0) + row_hash(row)) & MASK  # duplicates add up in key-less tables
    return found


async def _diff(source: Endpoint, target: Endpoint, table: Table, target_table: Table, columns: Sequence[str],
                where: str | None, mode: TimestampMode, check: TableCheck) -> None:
    src = await _hashes(source, table, columns, table.primary_key, where, mode)
    dst = await _hashes(target, target_table, columns, table.primary_key, None, mode)
    missing = [k for k in src if k not in dst]
    extra = [k for k in dst if k not in src]
    differing = [k for k in src if k in dst and src[k] != dst[k]]
    check.mismatched = len(missing) + len(extra) + len(differing)
    check.missing = [list(k) for k in missing[:EXAMPLES]]
    check.extra = [list(k) for k in extra[:EXAMPLES]]
    check.differing += [list(k) for k in differing[:EXAMPLES]]


async def _sampled(source: Endpoint, target: Endpoint, table: Table, target_table: Table, columns: Sequence[str],
                   n: int, where: str | None, mode: TimestampMode, check: TableCheck) -> None:
    at = [list(columns).index(c) for c in table.primary_key]
    rows = row_encoder(table, columns, mode, source.dialect)(await source.sample(table, columns, n, where))
    keys = [[row[i] for i in at] for row in rows]
    found = row_encoder(target_table, columns, mode, target.dialect)(
        await target.fetch_keys(target_table, columns, keys))
    by_key = {tuple(canonical(row[i]) for i in at): row_hash(row) for row in found}
    check.checked_rows = len(rows)
    for key, row in zip(keys, rows, strict=True):
        k = tuple(canonical(v) for v in key)
        if k not in by_key:
            check.mismatched += 1
            if len(check.missing) < EXAMPLES:
                check.missing.append(key)
        elif by_key[k] != row_hash(row):
            check.mismatched += 1
            if len(check.differing) < EXAMPLES:
                check.differing.append(key)

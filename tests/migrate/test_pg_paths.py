"""The less travelled copy paths, against the real PostgreSQL: timestamp modes, a D1 copy into native
PostgreSQL types, d1:NAME endpoints, tables without a primary key."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from pathlib import Path

import asyncpg
import pytest
from click.testing import CliRunner

from portflare.cli.main import cli
from portflare.migrate.data import copy_tables
from portflare.migrate.endpoint import open_endpoint
from portflare.migrate.verify import verify
from tests.migrate.conftest import FIXTURE, PG_URL

ODD_TIMES = {  # user id -> created_at with a sub-second part, and before 1970 (floor, not truncation)
    1: dt.datetime(2024, 3, 1, 12, 0, 0, 123456, tzinfo=dt.UTC),
    2: dt.datetime(1969, 12, 31, 23, 59, 59, 500000, tzinfo=dt.UTC),
}
EXPECTED = {
    "unix": {1: 1709294400, 2: -1},
    "unixms": {1: 1709294400123, 2: -500},
    "iso": {1: "2024-03-01T12:00:00.123456Z", 2: "1969-12-31T23:59:59.500000Z"},
}


@pytest.mark.parametrize("mode", ["unix", "unixms", "iso"])
async def test_timestamp_modes_and_a_copy_back_into_native_postgres_types(
        mode: str, quiz_pg: str, empty_pg_schema: str, tmp_path: Path) -> None:
    conn = await asyncpg.connect(PG_URL, server_settings={"search_path": f"{quiz_pg}"})
    try:
        for user, when in ODD_TIMES.items():
            await conn.execute("UPDATE users SET created_at = $2 WHERE id = $1", user, when)
        await conn.execute(f"SET search_path = {empty_pg_schema}")
        await conn.execute(FIXTURE)  # the target already has timestamptz, enum, text[], uuid, bytea, jsonb
    finally:
        await conn.close()
    d1_url = f"sqlite:///{tmp_path / 'd1.sqlite'}"
    pg, d1 = await open_endpoint(PG_URL, schema=quiz_pg), await open_endpoint(d1_url)
    try:
        await copy_tables(pg, d1, batch_size=25, mode=mode)  # type: ignore[arg-type]
        for sample in (None, 40):  # full: SQL-side conversion on both reads; sample: Python on the source
            result = await verify(pg, d1, mode=mode, sample=sample)  # type: ignore[arg-type]
            assert result.ok, result.as_dict()
    finally:
        await pg.close()
        await d1.close()
    db = sqlite3.connect(tmp_path / "d1.sqlite")
    stored = dict(db.execute("SELECT id, created_at FROM users WHERE id IN (1, 2)").fetchall())
    assert stored == EXPECTED[mode]
    declared = {r[1]: r[2] for r in db.execute("PRAGMA table_info(users)")}
    assert declared["created_at"] == ("TEXT" if mode == "iso" else "INTEGER")

    d1, back = await open_endpoint(d1_url), await open_endpoint(PG_URL, schema=empty_pg_schema)
    original = await open_endpoint(PG_URL, schema=quiz_pg)
    try:
        report = await copy_tables(d1, back, batch_size=40, mode=mode)  # type: ignore[arg-type]
        assert report.created == [] and report.rows == 213
        result = await verify(original, back, mode=mode)  # type: ignore[arg-type]
        assert result.ok, result.as_dict()
    finally:
        await original.close()
        await back.close()
        await d1.close()
    conn = await asyncpg.connect(PG_URL)
    try:
        row = await conn.fetchrow(f"SELECT created_at, plan, tags, external_id, avatar, is_admin, balance "
                                  f"FROM {empty_pg_schema}.users WHERE id = 3")
        when = await conn.fetchval(f"SELECT created_at FROM {empty_pg_schema}.users WHERE id = 1")
    finally:
        await conn.close()
    assert row is not None
    assert when == (ODD_TIMES[1] if mode == "iso" else ODD_TIMES[1].replace(
        microsecond=123000 if mode == "unixms" else 0))
    assert (row["plan"], row["tags"], str(row["external_id"]), row["avatar"], row["is_admin"], str(row["balance"])) \
        == ("free", ["t3", "x,y", 'q"uote'], "00000000-0000-0000-0000-000000000003", b"\x03\x00\xff", False, "9.03")


def test_d1_endpoints_in_a_project(quiz_pg: str, tmp_path: Path) -> None:
    project = tmp_path / "app"
    project.mkdir()
    (project / "wrangler.toml").write_text('name = "app"\nmain = "a.py"\n[[d1_databases]]\nbinding = "DB"\n'
                                          'database_name = "quiz-db"\ndatabase_id = "quiz-id"\n')
    state = tmp_path / "state"
    common = ["-c", str(project), "--persist-to", str(state)]
    runner = CliRunner()
    copied = runner.invoke(cli, ["migrate", "data", "--from", PG_URL, "--schema", quiz_pg, "--to", "d1:DB",
                                 "--json", *common])
    assert copied.exit_code == 0, copied.output
    assert json.loads(copied.stdout)["rows"] == 213
    # the Worker's binding (by database_name here) reads what was copied
    seen = runner.invoke(cli, ["d1", "execute", "quiz-db", "--command", "SELECT count(*) AS n FROM quiz_results",
                               "--json", *common])
    assert seen.exit_code == 0 and json.loads(seen.stdout)[0]["results"] == [{"n": 150}]
    ok = runner.invoke(cli, ["migrate", "verify", "--from", PG_URL, "--schema", quiz_pg, "--to", "d1:quiz-db",
                             *common])
    assert ok.exit_code == 0 and ok.stdout.rstrip().endswith("PASS"), ok.output
    ddl = runner.invoke(cli, ["migrate", "schema", "--from", "d1:DB", "--to-schema", "app", *common])
    assert ddl.exit_code == 0 and 'CREATE TABLE IF NOT EXISTS "app"."quiz_results"' in ddl.stdout
    unknown = runner.invoke(cli, ["migrate", "data", "--from", "d1:NOPE", "--to", f"sqlite:///{tmp_path / 'x.db'}",
                                  *common])
    assert unknown.exit_code == 1 and "no D1 database named 'NOPE' (configured: DB (quiz-db))" in unknown.stderr


class Boom(Exception):
    pass


async def test_a_table_without_primary_key_is_copied_again_whole_on_resume(
        pg_schema: str, empty_pg_schema: str, tmp_path: Path) -> None:
    conn = await asyncpg.connect(PG_URL)
    try:
        await conn.execute(f"CREATE TABLE {pg_schema}.audit_log (user_id bigint, note text, at timestamptz)")
        await conn.executemany(f"INSERT INTO {pg_schema}.audit_log VALUES ($1, $2, $3)",
                               [(i % 7, f"note {i}", dt.datetime(2024, 1, 1, tzinfo=dt.UTC)) for i in range(55)]
                               + [(1, "note 1", dt.datetime(2024, 1, 1, tzinfo=dt.UTC))])  # a duplicate row
    finally:
        await conn.close()

    def fail_at_batch(n: int) -> object:
        def hook(table: str, batches: int) -> None:
            if batches == n:
                raise Boom

        return hook

    d1_url = f"sqlite:///{tmp_path / 'd1.sqlite'}"
    pg, d1 = await open_endpoint(PG_URL, schema=pg_schema), await open_endpoint(d1_url)
    try:
        with pytest.raises(Boom):
            await copy_tables(pg, d1, batch_size=10, after_batch=fail_at_batch(3))  # type: ignore[arg-type]
        # the reader's cursor transaction was closed at once, not left for the garbage collector to roll back
        # in the middle of the next command ("another operation is in progress")
        assert not pg._conn.is_in_transaction()  # type: ignore[attr-defined]
        checkpoint = await d1.checkpoint("audit_log")
        assert checkpoint is not None and checkpoint.rows == 30 and not checkpoint.done
        report = await copy_tables(pg, d1, batch_size=10)
        assert report.tables[0].resumed_from == 0 and report.tables[0].rows == 56  # emptied, copied whole
        assert (await verify(pg, d1)).ok
    finally:
        await pg.close()
        await d1.close()
    assert sqlite3.connect(tmp_path / "d1.sqlite").execute("SELECT count(*) FROM audit_log").fetchone() == (56,)

    d1, back = await open_endpoint(d1_url), await open_endpoint(PG_URL, schema=empty_pg_schema)
    try:  # and from D1, where a key-less table is paged by rowid
        with pytest.raises(Boom):
            await copy_tables(d1, back, batch_size=10, after_batch=fail_at_batch(2))  # type: ignore[arg-type]
        report = await copy_tables(d1, back, batch_size=10)
        assert report.tables[0].rows == 56
        result = await verify(d1, back)
        assert result.ok, result.as_dict()
    finally:
        await back.close()
        await d1.close()

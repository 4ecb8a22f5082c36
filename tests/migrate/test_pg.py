"""PostgreSQL → D1 → PostgreSQL for real: copy, verify, resume after a failure, a corrupted target, the CLI."""

from __future__ import annotations

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
from tests.migrate.conftest import PG_URL


class Boom(Exception):
    pass


async def test_round_trip_pg_d1_pg_verifies(quiz_pg: str, empty_pg_schema: str, tmp_path: Path) -> None:
    d1_url = f"sqlite:///{tmp_path / 'd1.sqlite'}"
    pg, d1 = await open_endpoint(PG_URL, schema=quiz_pg), await open_endpoint(d1_url)
    try:
        report = await copy_tables(pg, d1, batch_size=16)
        assert report.created == ["users", "quizzes", "quiz_results"]
        assert [t.rows for t in report.tables] == [60, 3, 150]
        assert (await verify(pg, d1)).ok
        assert (await verify(pg, d1, sample=10)).ok
    finally:
        await pg.close()
        await d1.close()
    back = await open_endpoint(PG_URL, schema=empty_pg_schema)  # an empty schema: D1 → PostgreSQL creates the tables
    d1 = await open_endpoint(d1_url)
    original = await open_endpoint(PG_URL, schema=quiz_pg)
    try:
        await copy_tables(d1, back, batch_size=50)
        assert (await verify(d1, back)).ok
        result = await verify(original, back)  # the original against the round trip, by the same encoding
        assert result.ok, result.as_dict()
        types = {c.name: c.type for c in (await back.read_schema()).table("users").columns}
        assert types["is_admin"] == "boolean" and types["created_at"] == "bigint"
        conn = await asyncpg.connect(PG_URL)
        try:  # the identity sequence was moved past the copied ids
            new_id = await conn.fetchval(f"INSERT INTO {empty_pg_schema}.users (email, plan, balance, tags, "
                                         "created_at) VALUES ('new@x', 'free', '0', '[]', 0) RETURNING id")
            assert new_id == 61
        finally:
            await conn.close()
    finally:
        await original.close()
        await back.close()
        await d1.close()


async def test_interrupted_copy_resumes_after_last_committed_batch(quiz_pg: str, tmp_path: Path) -> None:
    d1_url = f"sqlite:///{tmp_path / 'd1.sqlite'}"

    def fail_after_two(table: str, batches: int) -> None:
        if table == "quiz_results" and batches == 2:
            raise Boom

    pg, d1 = await open_endpoint(PG_URL, schema=quiz_pg), await open_endpoint(d1_url)
    try:
        with pytest.raises(Boom):
            await copy_tables(pg, d1, batch_size=20, after_batch=fail_after_two)
        assert (await d1.checkpoint("users")) is not None and (await d1.checkpoint("users")).done  # type: ignore[union-attr]
        partial = await d1.checkpoint("quiz_results")
        assert partial is not None and partial.rows in (40, 60) and not partial.done
        assert not (await verify(pg, d1)).ok
        report = await copy_tables(pg, d1, batch_size=20)
        users, _quizzes, results = report.tables
        assert users.skipped and results.resumed_from == partial.rows
        assert results.rows == 150 - partial.rows and results.total == 150
        assert (await verify(pg, d1)).ok
    finally:
        await pg.close()
        await d1.close()


def test_cli_data_verify_and_corruption(quiz_pg: str, tmp_path: Path) -> None:
    db = tmp_path / "d1.sqlite"
    runner = CliRunner()
    copied = runner.invoke(cli, ["migrate", "data", "--from", PG_URL, "--schema", quiz_pg, "--to", f"sqlite:///{db}",
                                 "--json"])
    assert copied.exit_code == 0, copied.output
    assert json.loads(copied.stdout)["rows"] == 213
    again = runner.invoke(cli, ["migrate", "data", "--from", f"{PG_URL}?schema={quiz_pg}", "--to", f"sqlite:///{db}"])
    assert again.exit_code == 0 and "already complete" in again.stdout
    ok = runner.invoke(cli, ["migrate", "verify", "--from", PG_URL, "--schema", quiz_pg, "--to", f"sqlite:///{db}"])
    assert ok.exit_code == 0 and ok.stdout.rstrip().endswith("PASS"), ok.output
    conn = sqlite3.connect(db)
    conn.execute("UPDATE users SET balance = '0.01' WHERE id = 7")
    conn.execute("DELETE FROM quizzes WHERE id = 'iq'")  # orphans quiz_results rows
    conn.commit()
    conn.close()
    bad = runner.invoke(cli, ["migrate", "verify", "--from", PG_URL, "--schema", quiz_pg, "--to", f"sqlite:///{db}",
                              "--json"])
    assert bad.exit_code == 1
    result = json.loads(bad.stdout)
    assert result["result"] == "FAIL"
    tables = {t["table"]: t for t in result["tables"]}
    assert tables["users"]["differing"] == [[7]]
    assert tables["quizzes"]["missing"] == [["iq"]] and tables["quizzes"]["target_rows"] == 2
    assert tables["quiz_results"]["orphans"]["quiz_id -> quizzes"] == 50


def test_cli_where_and_tables(quiz_pg: str, tmp_path: Path) -> None:
    db = tmp_path / "d1.sqlite"
    result = CliRunner().invoke(cli, ["migrate", "data", "--from", PG_URL, "--schema", quiz_pg, "--to",
                                      f"sqlite:///{db}", "--tables", "quizzes", "--where", "published", "--json"])
    assert result.exit_code == 0, result.output
    assert sqlite3.connect(db).execute("SELECT id FROM quizzes ORDER BY id").fetchall() == [("big5",), ("iq",)]


def test_where_naming_a_table_not_copied_is_refused(quiz_pg: str, tmp_path: Path) -> None:
    db = tmp_path / "d1.sqlite"
    base = ["--from", PG_URL, "--schema", quiz_pg, "--to", f"sqlite:///{db}"]
    runner = CliRunner()
    typo = runner.invoke(cli, ["migrate", "data", *base, "--where", "quizes:published"])
    assert typo.exit_code == 1
    assert "--where quizes:published: \"quizes\" is not a table copied from" in typo.stderr
    assert "(users, quizzes, quiz_results); write TABLE:CONDITION" in typo.stderr
    # a bare condition with a ':' in it and no --tables: refused, not read as a table name and ignored
    bare = runner.invoke(cli, ["migrate", "data", *base, "--where", "created_at > '2024-03-01 12:00'"])
    assert bare.exit_code == 1 and "name the table as TABLE:CONDITION" in bare.stderr
    assert sqlite3.connect(db).execute("SELECT count(*) FROM sqlite_schema").fetchone() == (0,)  # nothing written
    other = runner.invoke(cli, ["migrate", "verify", *base, "--tables", "users", "--where", "quizzes:published"])
    assert other.exit_code == 1 and "\"quizzes\" is not a table copied from" in other.stderr


def test_cli_schema_from_live_postgres_and_pg_dump(quiz_pg: str, tmp_path: Path) -> None:
    import subprocess

    runner = CliRunner()
    live = runner.invoke(cli, ["migrate", "schema", "--from", PG_URL, "--schema", quiz_pg, "-o",
                               str(tmp_path / "d1.sql")])
    assert live.exit_code == 0, live.output
    text = (tmp_path / "d1.sql").read_text()
    assert '"plan" TEXT CHECK ("plan" IN (\'free\', \'plus\', \'team\'))' in text
    assert "-- lossy: users.created_at: timestamptz" in text
    sqlite3.connect(":memory:").executescript(text)
    dump = subprocess.run(["pg_dump", PG_URL, "--schema-only", "-n", quiz_pg], capture_output=True, text=True,
                          check=True).stdout
    (tmp_path / "dump.sql").write_text(dump)
    from_file = runner.invoke(cli, ["migrate", "schema", "--from", str(tmp_path / "dump.sql"), "--json"])
    assert from_file.exit_code == 0, from_file.output
    parsed = json.loads(from_file.stdout)
    assert sorted(parsed["tables"]) == ["quiz_results", "quizzes", "users"] and parsed["tables"][-1] == "quiz_results"
    assert any("jsonb operators" in n for n in parsed["lossy"])
    for ddl in (text, "\n".join(parsed["statements"])):
        # a text/uuid primary key keeps NOT NULL (SQLite lets a non-INTEGER key hold NULL); the rowid needs none
        assert '"id" TEXT PRIMARY KEY NOT NULL' in ddl.split('"quizzes"')[1].split(");")[0]
        assert '"id" TEXT PRIMARY KEY NOT NULL' in ddl.split('"quiz_results"')[1].split(");")[0]
        assert '"id" INTEGER PRIMARY KEY,' in ddl.split('"users"')[1].split(");")[0]
        db = sqlite3.connect(":memory:")
        db.executescript(ddl)
        with pytest.raises(sqlite3.IntegrityError, match="NOT NULL constraint failed: quizzes.id"):
            db.execute("INSERT INTO quizzes (id, quiz_type, title) VALUES (NULL, 'x', 'y')")
    back = runner.invoke(cli, ["migrate", "schema", "--from", str(tmp_path / "d1.sql"), "--to-schema", "app"])
    assert back.exit_code == 0 and '"app"."users"' in back.stdout and '"is_admin" boolean' in back.stdout

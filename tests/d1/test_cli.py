"""``portflare d1 ...`` on a temporary project, through click's CliRunner."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from portflare.cli.main import cli

WRANGLER = """
name = "app"
main = "src/entry.py"
compatibility_date = "2025-11-02"
compatibility_flags = ["python_workers"]

[[d1_databases]]
binding = "DB"
database_name = "app-db"
database_id = "00000000-0000-4000-8000-000000000001"

[[d1_databases]]
binding = "OTHER"
database_name = "other-db"
database_id = "00000000-0000-4000-8000-000000000002"
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "app"
    (root / "src").mkdir(parents=True)
    (root / "src" / "entry.py").write_text("async def on_fetch(request, env):\n    pass\n")
    (root / "wrangler.toml").write_text(WRANGLER)
    return root


def d1(project: Path, *args: str) -> Result:
    return CliRunner().invoke(cli, ["d1", *args, "-c", str(project)], catch_exceptions=False)


def test_execute_command_and_json(project: Path) -> None:
    result = d1(project, "execute", "DB", "--command",
                "CREATE TABLE t (id INTEGER PRIMARY KEY, s TEXT, b BLOB); INSERT INTO t (s, b) VALUES ('x', X'0102')")
    assert result.exit_code == 0, result.output
    assert "🚣 2 commands executed successfully." in result.output
    result = d1(project, "execute", "app-db", "--command", "SELECT * FROM t; SELECT NULL AS n", "--json")
    assert result.exit_code == 0, result.output
    output = json.loads(result.output)
    assert [r["results"] for r in output] == [[{"id": 1, "s": "x", "b": "[1, 2]"}], [{"n": "null"}]]
    assert all(r["success"] is True and set(r["meta"]) == {"duration"} for r in output)
    table = d1(project, "execute", "DB", "--command", "SELECT s FROM t")
    assert "│ x" in table.output and "🚣 1 command executed successfully." in table.output


def test_execute_file_is_one_atomic_batch(project: Path, tmp_path: Path) -> None:
    d1(project, "execute", "DB", "--command", "CREATE TABLE t (v UNIQUE)")
    sql = tmp_path / "bad.sql"
    sql.write_text("INSERT INTO t VALUES (1);\nINSERT INTO t VALUES (1);\n")
    result = d1(project, "execute", "DB", "--file", str(sql))
    assert result.exit_code == 1
    assert "✘ UNIQUE constraint failed: t.v: SQLITE_CONSTRAINT" in result.output  # the bare cause, as wrangler
    as_json = d1(project, "execute", "DB", "--file", str(sql), "--json")
    assert as_json.exit_code == 1
    assert json.loads(as_json.stdout) == {"error": {"text": "UNIQUE constraint failed: t.v: SQLITE_CONSTRAINT"}}
    count = d1(project, "execute", "DB", "--command", "SELECT count(*) AS n FROM t", "--json")
    assert json.loads(count.output)[0]["results"] == [{"n": 0}]


def test_execute_argument_errors(project: Path, tmp_path: Path) -> None:
    sql = tmp_path / "x.sql"
    sql.write_text("SELECT 1;")
    both = d1(project, "execute", "DB", "--command", "SELECT 1", "--file", str(sql))
    assert both.exit_code == 1 and "can't provide both --command and --file." in both.output
    missing = d1(project, "execute", "NOPE", "--command", "SELECT 1")
    assert missing.exit_code == 1 and "no D1 database named 'NOPE'" in missing.output


def test_sqlite3_dump_file_imports(project: Path, tmp_path: Path) -> None:
    dump = tmp_path / "dump.sql"
    dump.write_text("PRAGMA foreign_keys=OFF;\nBEGIN TRANSACTION;\nCREATE TABLE t(a);\n"
                    "INSERT INTO t VALUES('x;y');\nCOMMIT;\n")
    result = d1(project, "execute", "DB", "--file", str(dump))
    assert result.exit_code == 0, result.output
    assert "🚣 3 commands executed successfully." in result.output


def test_wrangler_export_style_file_imports(project: Path, tmp_path: Path) -> None:
    export = tmp_path / "export.sql"
    export.write_text("\n".join([
        "PRAGMA defer_foreign_keys=TRUE;",
        'CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT, parent INTEGER REFERENCES notes(id));',
        "CREATE TABLE log (note INTEGER, what TEXT);",
        'INSERT INTO "notes" ("id","body","parent") VALUES(2,\'child\',1);',
        'INSERT INTO "notes" ("id","body","parent") VALUES(1,replace(\'a\\nb; c\',\'\\n\',char(10)),NULL);',
        "CREATE TRIGGER note_added AFTER INSERT ON notes BEGIN\n"
        "  INSERT INTO log VALUES (new.id, CASE WHEN new.parent IS NULL THEN 'root' ELSE 'child' END);\n"
        "END;",
    ]))
    result = d1(project, "execute", "DB", "--file", str(export))
    assert result.exit_code == 0, result.output
    rows = d1(project, "execute", "DB", "--command", "SELECT id, body FROM notes ORDER BY id", "--json")
    assert json.loads(rows.output)[0]["results"] == [{"id": 1, "body": "a\nb; c"}, {"id": 2, "body": "child"}]
    d1(project, "execute", "DB", "--command", "INSERT INTO notes (id, body) VALUES (3, 'r')")
    log = d1(project, "execute", "DB", "--command", "SELECT what FROM log", "--json")
    assert json.loads(log.output)[0]["results"] == [{"what": "root"}]


def test_export_then_import_gives_identical_data(project: Path, tmp_path: Path) -> None:
    d1(project, "execute", "DB", "--command",
       "CREATE TABLE t (id INTEGER PRIMARY KEY AUTOINCREMENT, s TEXT, b BLOB, r REAL);"
       "INSERT INTO t (s, b, r) VALUES ('line\nbreak''s', X'00ff', 0.1), (NULL, NULL, -2.5);"
       "CREATE INDEX t_s ON t (s)")
    out = tmp_path / "out.sql"
    assert d1(project, "export", "DB", "--output", str(out)).exit_code == 0
    assert out.read_text().startswith("PRAGMA defer_foreign_keys=TRUE;\nCREATE TABLE t")
    imported = d1(project, "execute", "OTHER", "--file", str(out))
    assert imported.exit_code == 0, imported.output
    query = "SELECT * FROM t ORDER BY id"
    original = json.loads(d1(project, "execute", "DB", "--command", query, "--json").output)[0]["results"]
    copy = json.loads(d1(project, "execute", "OTHER", "--command", query, "--json").output)[0]["results"]
    assert copy == original and len(copy) == 2
    again = tmp_path / "again.sql"
    d1(project, "export", "OTHER", "--output", str(again))
    assert again.read_text() == out.read_text()


def test_export_options(project: Path, tmp_path: Path) -> None:
    d1(project, "execute", "DB", "--command", "CREATE TABLE a (x); CREATE TABLE b (y); INSERT INTO a VALUES (1)")
    out = tmp_path / "o.sql"
    d1(project, "export", "DB", "--output", str(out), "--table", "a", "--no-schema")
    assert out.read_text() == 'PRAGMA defer_foreign_keys=TRUE;\nINSERT INTO "a" ("x") VALUES(1);'
    d1(project, "export", "DB", "--output", str(out), "--no-data")
    assert out.read_text() == "PRAGMA defer_foreign_keys=TRUE;\nCREATE TABLE a (x);\nCREATE TABLE b (y);"
    both = d1(project, "export", "DB", "--output", str(out), "--no-schema", "--no-data")
    assert both.exit_code == 1 and "Cannot use --no-schema and --no-data together." in both.output


def test_migrations_create_list_apply_idempotent(project: Path) -> None:
    created = d1(project, "migrations", "create", "DB", "create users")
    assert "0000_create_users.sql" in created.output  # wrangler numbers from 0000
    (project / "migrations" / "0000_create_users.sql").rename(project / "migrations" / "0001_create_users.sql")
    migration = project / "migrations" / "0001_create_users.sql"
    assert migration.read_text().startswith("-- Migration number: 0000 \t ")
    migration.write_text(migration.read_text() + "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT);\n")
    (project / "migrations" / "0010_seed.sql").write_text("INSERT INTO users (name) VALUES ('ada');")
    (project / "migrations" / "0002_index.sql").write_text("CREATE INDEX users_name ON users (name);")
    listed = d1(project, "migrations", "list", "DB")
    assert listed.output.index("0001_create_users.sql") < listed.output.index("0002_index.sql") < \
        listed.output.index("0010_seed.sql")
    applied = d1(project, "migrations", "apply", "DB")
    assert applied.exit_code == 0, applied.output
    assert [line for line in applied.output.splitlines() if line.startswith("✅")] == [
        "✅ 0001_create_users.sql", "✅ 0002_index.sql", "✅ 0010_seed.sql"]
    again = d1(project, "migrations", "apply", "DB")
    assert again.exit_code == 0 and "No migrations to apply" in again.output
    rows = d1(project, "execute", "DB", "--command", "SELECT name FROM d1_migrations ORDER BY id", "--json")
    assert [r["name"] for r in json.loads(rows.output)[0]["results"]] == [
        "0001_create_users.sql", "0002_index.sql", "0010_seed.sql"]
    users = d1(project, "execute", "DB", "--command", "SELECT name FROM users", "--json")
    assert json.loads(users.output)[0]["results"] == [{"name": "ada"}]


def test_failed_migration_is_rolled_back(project: Path) -> None:
    (project / "migrations").mkdir()
    (project / "migrations" / "0001_bad.sql").write_text("CREATE TABLE t (v);\nINSERT INTO nope VALUES (1);")
    result = d1(project, "migrations", "apply", "DB")
    assert result.exit_code == 1
    assert "Migration 0001_bad.sql failed with the following errors:\nno such table: nope: SQLITE_ERROR" in \
        result.output
    tables = d1(project, "execute", "DB", "--command",
                "SELECT name FROM sqlite_schema WHERE name = 't'", "--json")
    assert json.loads(tables.output)[0]["results"] == []
    assert "0001_bad.sql" in d1(project, "migrations", "list", "DB").output


def test_migrations_create_numbers_after_the_highest(project: Path) -> None:
    (project / "migrations").mkdir()
    (project / "migrations" / "0007_x.sql").write_text("")
    created = d1(project, "migrations", "create", "DB", "add/users table")
    assert "0008_add_users_table.sql" in created.output
    assert (project / "migrations" / "0008_add_users_table.sql").is_file()

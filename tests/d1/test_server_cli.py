"""``portflare d1 migrations apply`` / ``d1 execute`` / ``d1 export`` with ``PORTFLARE_DB`` on PostgreSQL and
MySQL: the example app's migration (SQLite DDL) translated, applied once, and queried back."""

from __future__ import annotations

import json
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from portflare.cli.main import cli
from tests.conftest import require_service
from tests.d1.servers import MYSQL_URL, POSTGRES_URL, drop_database

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "personality-spark"
SERVERS = {"postgres": (POSTGRES_URL, 5432), "mysql": (MYSQL_URL, 3306)}


@pytest.fixture(params=sorted(SERVERS))
def project(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    url, port = SERVERS[request.param]
    require_service(request.param, "127.0.0.1", port)
    root = tmp_path / "app"
    shutil.copytree(EXAMPLE, root, ignore=shutil.ignore_patterns(".portflare", "python_modules", "__pycache__"))
    schema = f"cli_{uuid.uuid4().hex[:10]}"
    joiner = "&" if "?" in url else "?"
    monkeypatch.setenv("PORTFLARE_DB", f"{url}{joiner}schema=d1_{schema}")
    yield root
    import asyncio

    asyncio.run(drop_database(request.param, schema))


def d1(project: Path, *args: str) -> Result:
    return CliRunner().invoke(cli, ["d1", *args, "-c", str(project)], catch_exceptions=False)


def test_migrations_apply_execute_export(project: Path) -> None:
    database = "personality-spark"
    applied = d1(project, "migrations", "apply", database)
    assert applied.exit_code == 0, applied.output
    assert "0001_init.sql" in applied.output
    again = d1(project, "migrations", "apply", database)
    assert again.exit_code == 0 and "No migrations to apply" in again.output, again.output

    insert = d1(project, "execute", database, "--command",
                "INSERT INTO quiz_results (id, quiz_id, quiz_type, user_id, answers, scores) "
                "VALUES ('r1', 'q', 'big5', 'u1', '{}', '{\"openness\": 70}')")
    assert insert.exit_code == 0, insert.output
    query = d1(project, "execute", database, "--json", "--command",
               "SELECT id, json_extract(scores, '$.openness') AS o, created_at > 0 AS stamped FROM quiz_results")
    assert query.exit_code == 0, query.output
    assert json.loads(query.output)[0]["results"] == [{"id": "r1", "o": 70, "stamped": 1}]

    out = project / "export.sql"
    exported = d1(project, "export", database, "--output", str(out))
    assert exported.exit_code == 0, exported.output
    text = out.read_text()
    assert "CREATE TABLE quiz_results" in text and "INSERT INTO \"quiz_results\"" in text
    assert "CREATE INDEX idx_quiz_results_user" in text

"""``apply_all_pending``: what ``portflare dev`` runs at start, over a real ``Env``."""

from __future__ import annotations

from pathlib import Path

import pytest

from portflare.backends import BackendTarget
from portflare.bindings.d1 import migrations, open_binding
from portflare.bindings.d1.migrations import (
    apply_all_pending,
    apply_pending,
    create_migration,
    list_migrations,
    pending,
)
from portflare.config import load_config
from portflare.runtime.env import open_env

WRANGLER = """
name = "app"
main = "src/entry.py"
compatibility_date = "2025-11-02"

[[d1_databases]]
binding = "DB"
database_name = "main"
database_id = "1"
migrations_dir = "db/migrations"
migrations_table = "schema_log"

[[d1_databases]]
binding = "EMPTY"
database_name = "no-migrations"
database_id = "2"
"""


async def test_apply_all_pending(tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "entry.py").write_text("")
    (tmp_path / "wrangler.toml").write_text(WRANGLER)
    directory = tmp_path / "db" / "migrations"
    first = create_migration(directory, "init")
    first.write_text(first.read_text() + "CREATE TABLE t (v);\n")
    (directory / "0002_seed.sql").write_text("INSERT INTO t VALUES ('a;b');")
    (directory / "README.md").write_text("not a migration")
    assert list_migrations(directory) == ["0000_init.sql", "0002_seed.sql"]
    config = load_config(tmp_path)
    async with open_env(config, tmp_path / "state", environ={}) as env:
        assert await apply_all_pending(config, env) == ["main/0000_init.sql", "main/0002_seed.sql"]
        assert await apply_all_pending(config, env) == []
        assert await env.DB.prepare("SELECT v FROM t").first("v") == "a;b"
        assert await env.DB.prepare("SELECT name FROM schema_log ORDER BY id").raw() == [
            ["0000_init.sql"], ["0002_seed.sql"]]


async def test_concurrent_apply_applies_each_file_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two processes starting together (``serve --workers 2``) both see the files pending; one applies them."""
    directory = tmp_path / "migrations"
    directory.mkdir()
    (directory / "0001_t.sql").write_text("CREATE TABLE t (v);\nINSERT INTO t VALUES (1);")
    target = BackendTarget(kind="d1", binding="DB", resource="race", state_dir=tmp_path)
    a, b = await open_binding(target), await open_binding(target)
    try:
        stale = await pending(b, directory)
        assert stale == ["0001_t.sql"]
        assert await apply_pending(a, directory) == ["0001_t.sql"]
        # b's view was taken before a applied: its batch fails on "table t already exists" and is skipped.
        async def stale_pending(*args: object) -> list[str]:
            return stale

        monkeypatch.setattr(migrations, "pending", stale_pending)
        assert await apply_pending(b, directory) == []
        assert await b.prepare("SELECT count(*) AS n FROM t").first("n") == 1
    finally:
        await a._aclose()
        await b._aclose()

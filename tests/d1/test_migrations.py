"""``apply_all_pending``: what ``portflare dev`` runs at start, over a real ``Env``."""

from __future__ import annotations

from pathlib import Path

from portflare.bindings.d1.migrations import apply_all_pending, create_migration, list_migrations
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
    assert list_migrations(directory) == ["0001_init.sql", "0002_seed.sql"]
    config = load_config(tmp_path)
    async with open_env(config, tmp_path / "state", environ={}) as env:
        assert await apply_all_pending(config, env) == ["main/0001_init.sql", "main/0002_seed.sql"]
        assert await apply_all_pending(config, env) == []
        assert await env.DB.prepare("SELECT v FROM t").first("v") == "a;b"
        assert await env.DB.prepare("SELECT name FROM schema_log ORDER BY id").raw() == [
            ["0001_init.sql"], ["0002_seed.sql"]]

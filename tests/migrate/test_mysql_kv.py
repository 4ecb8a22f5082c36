"""MariaDB → D1, and KV between backends (plain Redis strings → KV → Redis namespace → KV)."""

from __future__ import annotations

import base64
import json
import sqlite3
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from portflare.cli.main import cli
from portflare.migrate.data import copy_tables
from portflare.migrate.endpoint import open_endpoint
from portflare.migrate.verify import verify
from tests.conftest import require_service
from tests.migrate.conftest import MYSQL_URL


@pytest.fixture
async def maria_db() -> AsyncIterator[str]:
    require_service("MariaDB", "127.0.0.1", 3306)
    import aiomysql  # type: ignore[import-untyped]

    name = f"pf_mig_{uuid.uuid4().hex[:10]}"
    conn = await aiomysql.connect(host="127.0.0.1", user="root", autocommit=True)
    async with conn.cursor() as cur:
        await cur.execute(f"CREATE DATABASE {name}")
        await cur.execute(f"USE {name}")
        for statement in [
            "CREATE TABLE users (id INT AUTO_INCREMENT PRIMARY KEY, email VARCHAR(255) NOT NULL UNIQUE, "
            "active TINYINT(1) NOT NULL DEFAULT 1, plan ENUM('free','plus') NOT NULL DEFAULT 'free', "
            "balance DECIMAL(10,2), prefs JSON, created_at DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP, "
            "referred_by INT, FOREIGN KEY (referred_by) REFERENCES users (id))",
            "CREATE TABLE results (user_id INT NOT NULL, quiz VARCHAR(20) NOT NULL, score DOUBLE, "
            "PRIMARY KEY (user_id, quiz), FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE)",
        ]:
            await cur.execute(statement)
        await cur.executemany(
            "INSERT INTO users (id, email, active, plan, balance, prefs, created_at) VALUES (%s,%s,%s,%s,%s,%s,%s)",
            [(i, f"u{i}@x", i % 2, "plus" if i % 3 else "free", f"{i}.25", json.dumps({"i": i}),
              f"2024-01-0{1 + i % 9} 10:00:00") for i in range(1, 41)])
        await cur.execute("UPDATE users SET referred_by = id + 1 WHERE id < 40 AND id % 5 = 0")
        await cur.executemany("INSERT INTO results VALUES (%s, %s, %s)",
                              [(u, q, u / 3) for u in range(1, 41) for q in ("big5", "iq")])
    try:
        yield name
    finally:
        async with conn.cursor() as cur:
            await cur.execute(f"DROP DATABASE {name}")
        conn.close()


async def test_mysql_to_d1_copies_and_verifies(maria_db: str, tmp_path: Path) -> None:
    source = await open_endpoint(f"{MYSQL_URL.rsplit('/', 1)[0]}/{maria_db}")
    target = await open_endpoint(f"sqlite:///{tmp_path / 'd1.sqlite'}")
    try:
        report = await copy_tables(source, target, batch_size=7)
        assert [(t.table, t.rows) for t in report.tables] == [("users", 40), ("results", 80)]
        result = await verify(source, target)
        assert result.ok, result.as_dict()
    finally:
        await source.close()
        await target.close()
    conn = sqlite3.connect(tmp_path / "d1.sqlite")
    assert conn.execute("SELECT active, plan, balance, prefs, created_at FROM users WHERE id = 1").fetchone() == (
        1, "plus", "1.25", '{"i": 1}', 1704189600)
    sql = conn.execute("SELECT sql FROM sqlite_schema WHERE name = 'results'").fetchone()[0]
    assert 'PRIMARY KEY ("user_id", "quiz")' in sql and "ON DELETE CASCADE" in sql


@pytest.fixture
async def plain_redis() -> AsyncIterator[str]:
    require_service("Redis", "127.0.0.1", 6379)
    import redis.asyncio as aioredis

    client = aioredis.Redis.from_url("redis://127.0.0.1:6379/13")
    await client.flushdb()
    await client.set("session:1", b"\x00bin")
    await client.set("session:2", "two", ex=3600)
    await client.set("cfg:theme", "dark")
    await client.hset("not-a-string", mapping={"a": "1"})
    try:
        yield "redis://127.0.0.1:6379/13"
    finally:
        await client.flushdb()
        await client.aclose()


def test_plain_redis_to_sqlite_to_redis_namespace(plain_redis: str, tmp_path: Path) -> None:
    runner = CliRunner()
    kv_file = tmp_path / "kv.sqlite"
    moved = runner.invoke(cli, ["migrate", "kv", "--from", f"{plain_redis}?plain=1", "--to", f"sqlite:///{kv_file}",
                                "--prefix-map", "session:sess", "--json"])
    assert moved.exit_code == 0, moved.output
    assert json.loads(moved.stdout) | {"seconds": 0} == {"copied": 3, "skipped": 1, "renamed": 2, "seconds": 0,
                                                         "skipped_keys": ["not-a-string"]}
    rows = dict((k, (v, e)) for k, v, e in sqlite3.connect(kv_file).execute("SELECT key, value, expiration FROM kv"))
    assert rows["sess:1"] == (b"\x00bin", None) and rows["cfg:theme"][0] == b"dark"
    assert abs(rows["sess:2"][1] - (time.time() + 3600)) < 5  # the TTL became an absolute expiration
    namespace = f"ns-{uuid.uuid4().hex[:8]}"
    onward = runner.invoke(cli, ["migrate", "kv", "--from", f"sqlite:///{kv_file}", "--to",
                                 f"{plain_redis}?namespace={namespace}"])
    assert onward.exit_code == 0 and "3 keys copied" in onward.stdout
    back = tmp_path / "back.sqlite"
    assert runner.invoke(cli, ["migrate", "kv", "--from", f"{plain_redis}?namespace={namespace}", "--to",
                               f"sqlite:///{back}"]).exit_code == 0
    assert sorted(sqlite3.connect(back).execute("SELECT key, value, expiration FROM kv")) == sorted(
        (k, v, e) for k, (v, e) in rows.items())


def test_kv_binding_to_redis_namespace_and_back_keeps_values_expirations_metadata(
        plain_redis: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("PORTFLARE_CACHE", "PORTFLARE_COPY"):
        monkeypatch.delenv(name, raising=False)
    project = tmp_path / "app"
    project.mkdir()
    (project / "wrangler.toml").write_text('name = "app"\nmain = "a.py"\n[[kv_namespaces]]\nbinding = "CACHE"\n'
                                          'id = "cache-id"\n[[kv_namespaces]]\nbinding = "COPY"\nid = "copy-id"\n')
    common = ["-c", str(project), "--persist-to", str(tmp_path / "state")]
    items = [{"key": "quiz:big5", "value": '{"q": 44}', "metadata": {"v": 2, "tags": ["a"]}},
             {"key": "blob", "value": base64.b64encode(b"\x89PNG\x00\xff").decode(), "base64": True,
              "expiration": int(time.time()) + 7200, "metadata": {"type": "image/png"}},
             {"key": "plain", "value": "x", "expiration_ttl": 900}]
    (tmp_path / "seed.json").write_text(json.dumps(items))
    runner = CliRunner()
    assert runner.invoke(cli, ["kv", "bulk", "put", str(tmp_path / "seed.json"), "--binding", "CACHE",
                               *common]).exit_code == 0
    namespace = f"ns-{uuid.uuid4().hex[:8]}"
    out = runner.invoke(cli, ["migrate", "kv", "--from", "kv:CACHE", "--to", f"{plain_redis}?namespace={namespace}",
                              "--json", *common])
    assert out.exit_code == 0 and json.loads(out.stdout)["copied"] == 3, out.output
    back = runner.invoke(cli, ["migrate", "kv", "--from", f"{plain_redis}?namespace={namespace}", "--to",
                               "kv:copy-id", "--prefix-map", "quiz:q", *common])  # by namespace id
    assert back.exit_code == 0 and "3 keys copied" in back.stdout and "1 renamed" in back.stdout, back.output

    def dump(binding: str, keys: list[str]) -> list[dict[str, object]]:
        (tmp_path / "keys.json").write_text(json.dumps(keys))
        got = runner.invoke(cli, ["kv", "bulk", "get", str(tmp_path / "keys.json"), "--binding", binding,
                                  "--format", "bulk", *common])
        assert got.exit_code == 0, got.output
        return json.loads(got.stdout)  # type: ignore[no-any-return]

    original = dump("CACHE", ["blob", "plain", "quiz:big5"])
    assert dump("COPY", ["blob", "plain", "q:big5"]) == [
        original[0], original[1], {**original[2], "key": "q:big5"}]
    assert original[2]["metadata"] == {"v": 2, "tags": ["a"]} and original[0]["base64"] is True

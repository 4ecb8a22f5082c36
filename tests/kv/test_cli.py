from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from portflare.cli.main import cli


def project(tmp_path: Path) -> Path:
    tmp_path.mkdir(parents=True, exist_ok=True)
    (tmp_path / "wrangler.toml").write_text(
        'name = "p"\nmain = "a.py"\n[[kv_namespaces]]\nbinding = "CACHE"\nid = "cache-id"\n'
        '[[kv_namespaces]]\nbinding = "OTHER"\nid = "other-id"\n')
    return tmp_path




def test_put_get_list_delete(tmp_path: Path) -> None:
    p = str(project(tmp_path))
    runner = CliRunner()
    result = runner.invoke(cli, ["kv", "key", "put", "greeting", "héllo", "--binding", "CACHE", "-c", p,
                                 "--metadata", '{"lang": "fr"}', "--ttl", "3600"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(cli, ["kv", "key", "get", "greeting", "--binding", "CACHE", "-c", p, "--text"])
    assert result.exit_code == 0 and result.stdout == "héllo\n"
    raw = runner.invoke(cli, ["kv", "key", "get", "greeting", "--namespace-id", "cache-id", "-c", p])
    assert raw.stdout_bytes == "héllo".encode()
    listed = json.loads(runner.invoke(cli, ["kv", "key", "list", "--binding", "CACHE", "-c", p]).stdout)
    assert listed[0]["name"] == "greeting" and listed[0]["metadata"] == {"lang": "fr"}
    assert "expiration" in listed[0]
    assert json.loads(runner.invoke(cli, ["kv", "key", "list", "--binding", "OTHER", "-c", p]).stdout) == []
    assert runner.invoke(cli, ["kv", "key", "delete", "greeting", "--binding", "CACHE", "-c", p]).exit_code == 0
    missing = runner.invoke(cli, ["kv", "key", "get", "greeting", "--binding", "CACHE", "-c", p])
    assert missing.exit_code == 1 and "Value not found" in missing.stderr


def test_put_from_file_and_persist_to(tmp_path: Path) -> None:
    p = str(project(tmp_path / "proj"))
    blob = tmp_path / "blob.bin"
    blob.write_bytes(bytes(range(256)))
    state = tmp_path / "state"
    runner = CliRunner()
    assert runner.invoke(cli, ["kv", "key", "put", "bin", "--path", str(blob), "--binding", "CACHE", "-c", p,
                               "--persist-to", str(state)]).exit_code == 0
    assert (state / "kv" / "cache-id.sqlite").is_file()
    got = runner.invoke(cli, ["kv", "key", "get", "bin", "--binding", "CACHE", "-c", p, "--persist-to", str(state)])
    assert got.stdout_bytes == bytes(range(256))


def test_errors_are_one_line(tmp_path: Path) -> None:
    p = str(project(tmp_path))
    runner = CliRunner()
    bad = runner.invoke(cli, ["kv", "key", "put", "k", "v", "--binding", "CACHE", "-c", p, "--ttl", "10"])
    assert bad.exit_code == 1
    assert "Invalid expiration_ttl of 10. Expiration TTL must be at least 60." in bad.stderr
    unknown = runner.invoke(cli, ["kv", "key", "get", "k", "--binding", "NOPE", "-c", p])
    assert unknown.exit_code == 1 and "no KV namespace named 'NOPE'" in unknown.stderr
    ambiguous = runner.invoke(cli, ["kv", "key", "get", "k", "-c", p])
    assert ambiguous.exit_code == 1 and "--binding" in ambiguous.stderr

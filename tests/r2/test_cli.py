"""``portflare r2 object ...``, through click's runner on a throwaway project."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from portflare.cli.main import cli


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delenv("PORTFLARE_MEDIA", raising=False)
    monkeypatch.chdir(tmp_path)
    root = tmp_path / "proj"
    root.mkdir()
    (root / "wrangler.toml").write_text(
        'name = "p"\nmain = "a.py"\n[[r2_buckets]]\nbinding = "MEDIA"\nbucket_name = "media-bucket"\n')
    return root


def r2(project: Path, *args: str, input: bytes | None = None) -> Result:
    return CliRunner().invoke(cli, ["r2", "object", *args, "-c", str(project)], input=input)


def test_put_get_list_delete(project: Path, tmp_path: Path) -> None:
    source = tmp_path / "card.svg"
    source.write_bytes(b"<svg/>" * 1000)
    put = r2(project, "put", "media-bucket/cards/a.svg", "--file", str(source), "--content-type", "image/svg+xml")
    assert put.exit_code == 0, put.output
    assert 'Creating object "cards/a.svg" in bucket "media-bucket".' in put.stderr
    piped = r2(project, "get", "MEDIA/cards/a.svg", "--pipe")  # the binding name works too
    assert piped.exit_code == 0 and piped.stdout_bytes == b"<svg/>" * 1000
    saved = r2(project, "get", "media-bucket/cards/a.svg")
    assert saved.exit_code == 0 and (tmp_path / "a.svg").read_bytes() == b"<svg/>" * 1000
    out = tmp_path / "out.bin"
    assert r2(project, "get", "media-bucket/cards/a.svg", "--file", str(out)).exit_code == 0
    assert out.read_bytes() == source.read_bytes()
    assert r2(project, "put", "media-bucket/other", "--pipe", input=b"stdin").exit_code == 0
    listed = r2(project, "list", "media-bucket", "--prefix", "cards/")
    assert listed.exit_code == 0
    assert [(o["key"], o["size"]) for o in json.loads(listed.stdout)] == [("cards/a.svg", 6000)]
    deleted = r2(project, "delete", "media-bucket/cards/a.svg")
    assert deleted.exit_code == 0 and "Delete complete." in deleted.stderr
    missing = r2(project, "get", "media-bucket/cards/a.svg", "--pipe")
    assert missing.exit_code == 1 and "does not exist" in missing.stderr


def test_errors(project: Path) -> None:
    unknown = r2(project, "get", "nope/key", "--pipe")
    assert unknown.exit_code == 1 and "no R2 bucket named 'nope'" in unknown.stderr
    assert r2(project, "get", "media-bucket", "--pipe").exit_code == 2  # no key
    assert r2(project, "put", "media-bucket/k").exit_code == 2  # neither --file nor --pipe
    too_long = r2(project, "delete", "media-bucket/" + "k" * 1025)
    assert too_long.exit_code == 1 and "(10020)" in too_long.stderr

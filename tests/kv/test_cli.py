"""``portflare kv key|bulk``, through click's runner on a throwaway project."""

from __future__ import annotations

import base64
import json
import time
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from portflare.cli.kv import parse_bulk_put, parse_key_list
from portflare.cli.main import cli
from portflare.errors import ConfigError


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delenv("PORTFLARE_CACHE", raising=False)
    monkeypatch.delenv("PORTFLARE_OTHER", raising=False)
    root = tmp_path / "proj"
    root.mkdir()
    (root / "wrangler.toml").write_text(
        'name = "p"\nmain = "a.py"\n[[kv_namespaces]]\nbinding = "CACHE"\nid = "cache-id"\n'
        '[[kv_namespaces]]\nbinding = "OTHER"\nid = "other-id"\n')
    return root


def kv(project: Path, *args: str, input: str | None = None) -> Result:
    return CliRunner().invoke(cli, ["kv", *args, "-c", str(project)], input=input)


def test_put_get_list_delete(project: Path) -> None:
    put = kv(project, "key", "put", "greeting", "héllo", "--binding", "CACHE", "--metadata", '{"lang": "fr"}',
             "--ttl", "3600")
    assert put.exit_code == 0, put.output
    assert put.stdout == ('Writing the value "héllo" to key "greeting" on namespace cache-id with metadata '
                          '"{"lang":"fr"}".\n')
    text = kv(project, "key", "get", "greeting", "--binding", "CACHE", "--text")
    assert text.exit_code == 0 and text.stdout == "héllo\n"
    raw = kv(project, "key", "get", "greeting", "--namespace-id", "cache-id")
    assert raw.stdout_bytes == "héllo".encode()
    listed = json.loads(kv(project, "key", "list", "--binding", "CACHE").stdout)
    assert listed[0]["name"] == "greeting" and listed[0]["metadata"] == {"lang": "fr"}
    assert isinstance(listed[0]["expiration"], int)
    assert json.loads(kv(project, "key", "list", "--binding", "OTHER").stdout) == []
    deleted = kv(project, "key", "delete", "greeting", "--binding", "CACHE")
    assert deleted.exit_code == 0 and deleted.stdout == 'Deleting the key "greeting" on namespace cache-id.\n'
    missing = kv(project, "key", "get", "greeting", "--binding", "CACHE")
    assert missing.exit_code == 1 and "Value not found" in missing.stderr and missing.stdout == ""


def test_list_pages_through_everything_with_prefix(project: Path) -> None:
    items = [{"key": f"user:{i:04d}", "value": "v"} for i in range(1205)] + [{"key": "other", "value": "v"}]
    (project / "bulk.json").write_text(json.dumps(items))
    assert kv(project, "bulk", "put", str(project / "bulk.json"), "--binding", "CACHE").exit_code == 0
    listed = json.loads(kv(project, "key", "list", "--binding", "CACHE", "--prefix", "user:").stdout)
    assert [k["name"] for k in listed] == [f"user:{i:04d}" for i in range(1205)]


def test_put_from_file_and_persist_to(project: Path, tmp_path: Path) -> None:
    blob = tmp_path / "blob.bin"
    blob.write_bytes(bytes(range(256)))
    state = tmp_path / "state"
    put = kv(project, "key", "put", "bin", "--path", str(blob), "--binding", "CACHE", "--persist-to", str(state))
    assert put.exit_code == 0 and f"Writing the contents of {blob} to the key \"bin\"" in put.stdout
    assert (state / "kv" / "cache-id.sqlite").is_file()
    got = kv(project, "key", "get", "bin", "--binding", "CACHE", "--persist-to", str(state))
    assert got.stdout_bytes == bytes(range(256))


def test_errors_are_one_line(project: Path) -> None:
    bad = kv(project, "key", "put", "k", "v", "--binding", "CACHE", "--ttl", "10")
    assert bad.exit_code == 1
    assert "KV PUT failed: 400 Invalid expiration_ttl of 10. Expiration TTL must be at least 60." in bad.stderr
    unknown = kv(project, "key", "get", "k", "--binding", "NOPE")
    assert unknown.exit_code == 1 and "no KV namespace named 'NOPE'" in unknown.stderr
    ambiguous = kv(project, "key", "get", "k")
    assert ambiguous.exit_code == 1 and "--binding" in ambiguous.stderr
    both = kv(project, "key", "put", "k", "v", "--path", __file__, "--binding", "CACHE")
    assert both.exit_code == 2 and "exactly one of VALUE or --path" in both.stderr
    meta = kv(project, "key", "put", "k", "v", "--binding", "CACHE", "--metadata", "{oops")
    assert meta.exit_code == 2 and "--metadata" in meta.stderr


def test_bulk_put_get_delete(project: Path) -> None:
    items = [
        {"key": "a", "value": "alpha", "metadata": {"n": 1}},
        {"key": "b", "value": base64.b64encode(b"\x00\xffbin").decode(), "base64": True},
        {"key": "c", "value": "gamma", "expiration_ttl": 600, "colour": "red"},
    ]
    (project / "put.json").write_text(json.dumps(items))
    put = kv(project, "bulk", "put", str(project / "put.json"), "--binding", "CACHE")
    assert put.exit_code == 0, put.output
    assert put.stdout.strip() == "Success!"
    assert 'The item at index 2 contains unexpected properties: ["colour"].' in put.stderr
    assert kv(project, "key", "get", "b", "--binding", "CACHE").stdout_bytes == b"\x00\xffbin"

    (project / "keys.json").write_text(json.dumps(["a", "c", "zzz"]))
    got = kv(project, "bulk", "get", str(project / "keys.json"), "--binding", "CACHE")
    # wrangler's shape ({key: {value}}, a missing key's value null); its "Success!" goes to stderr here
    assert json.loads(got.stdout) == {"a": {"value": "alpha"}, "c": {"value": "gamma"}, "zzz": {"value": None}}
    assert got.stderr == "\nSuccess!\n"
    got = kv(project, "bulk", "get", str(project / "keys.json"), "--binding", "CACHE", "--with-metadata")
    assert json.loads(got.stdout) == {"a": {"value": "alpha", "metadata": {"n": 1}},
                                      "c": {"value": "gamma", "metadata": None},
                                      "zzz": {"value": None, "metadata": None}}
    (project / "listed.json").write_text(kv(project, "key", "list", "--binding", "CACHE").stdout)
    # values are read as text, as wrangler's TextDecoder does: the 0xFF byte becomes U+FFFD (--format bulk keeps it)
    assert json.loads(kv(project, "bulk", "get", str(project / "listed.json"), "--binding", "CACHE").stdout) == {
        "a": {"value": "alpha"}, "b": {"value": "\x00\ufffdbin"}, "c": {"value": "gamma"}}

    refused = kv(project, "bulk", "delete", str(project / "keys.json"), "--binding", "CACHE", input="n\n")
    assert f'Not deleting keys read from "{project / "keys.json"}".' in refused.stdout
    assert kv(project, "key", "get", "a", "--binding", "CACHE", "--text").stdout == "alpha\n"
    deleted = kv(project, "bulk", "delete", str(project / "keys.json"), "--binding", "CACHE", "--force")
    assert deleted.exit_code == 0 and deleted.stdout.strip() == "Success!"
    assert [k["name"] for k in json.loads(kv(project, "key", "list", "--binding", "CACHE").stdout)] == ["b"]


def test_bulk_get_format_bulk_round_trips_through_bulk_put(project: Path) -> None:
    expires = int(time.time()) + 3600
    items = [
        {"key": "bin", "value": base64.b64encode(b"\x00\xff\xfe raw").decode(), "base64": True,
         "expiration": expires, "metadata": {"type": "png", "n": [1, 2]}},
        {"key": "text", "value": "héllo 🎉\n", "metadata": {}},
        {"key": "plain", "value": ""},
        {"key": "ttl", "value": "soon", "expiration_ttl": 600},
    ]
    (project / "put.json").write_text(json.dumps(items))
    assert kv(project, "bulk", "put", str(project / "put.json"), "--binding", "CACHE").exit_code == 0
    (project / "keys.json").write_text(kv(project, "key", "list", "--binding", "CACHE").stdout)

    exported = kv(project, "bulk", "get", str(project / "keys.json"), "--binding", "CACHE", "--format", "bulk")
    assert exported.exit_code == 0, exported.output
    dump = json.loads(exported.stdout)
    by_key = {item["key"]: item for item in dump}
    assert by_key["bin"] == {"key": "bin", "value": base64.b64encode(b"\x00\xff\xfe raw").decode(), "base64": True,
                             "expiration": expires, "metadata": {"type": "png", "n": [1, 2]}}
    assert by_key["text"] == {"key": "text", "value": "héllo 🎉\n", "metadata": {}}
    assert by_key["plain"] == {"key": "plain", "value": ""}
    assert abs(by_key["ttl"]["expiration"] - (time.time() + 600)) < 5  # the TTL is now an absolute expiration

    (project / "dump.json").write_text(exported.stdout)
    put = kv(project, "bulk", "put", str(project / "dump.json"), "--binding", "OTHER")
    assert put.exit_code == 0 and put.stderr == "", put.output
    copied = kv(project, "bulk", "get", str(project / "keys.json"), "--binding", "OTHER", "--format", "bulk")
    assert json.loads(copied.stdout) == dump
    assert kv(project, "key", "get", "bin", "--binding", "OTHER").stdout_bytes == b"\x00\xff\xfe raw"
    assert kv(project, "key", "list", "--binding", "OTHER").stdout == kv(project, "key", "list", "--binding",
                                                                           "CACHE").stdout

    (project / "some.json").write_text(json.dumps(["text", "gone"]))
    partial = kv(project, "bulk", "get", str(project / "some.json"), "--binding", "OTHER", "--format", "bulk")
    assert [i["key"] for i in json.loads(partial.stdout)] == ["text"]
    assert "▲ 1 key(s) not found, left out: gone" in partial.stderr
    assert kv(project, "key", "put", "odd", "v", "--metadata", '"just text"', "--ttl", "60", "--binding",
              "OTHER").exit_code == 0
    (project / "odd.json").write_text(json.dumps(["odd"]))
    odd = kv(project, "bulk", "get", str(project / "odd.json"), "--binding", "OTHER", "--format", "bulk")
    assert json.loads(odd.stdout)[0]["metadata"] == "just text"
    assert "key(s) expire within 60 seconds, which `kv bulk put` refuses as an expiration: odd" in odd.stderr
    assert "key(s) have metadata that is not an object, which `kv bulk put` refuses: odd" in odd.stderr


def test_bulk_put_with_a_bad_item_writes_nothing(project: Path) -> None:
    items = [{"key": "a", "value": "v"}, {"key": "b", "value": "v", "expiration_ttl": 30}]
    (project / "put.json").write_text(json.dumps(items))
    bad = kv(project, "bulk", "put", str(project / "put.json"), "--binding", "CACHE")
    assert bad.exit_code == 1 and "Invalid expiration_ttl of 30" in bad.stderr
    assert json.loads(kv(project, "key", "list", "--binding", "CACHE").stdout) == []


def test_bulk_put_file_shape_errors() -> None:
    with pytest.raises(ConfigError) as info:
        parse_bulk_put({"key": "a"}, "f.json")
    assert str(info.value) == ('Unexpected JSON input from "f.json".\n'
                               'Expected an array of key-value objects but got type "object".')
    bad = [{"key": "a", "value": 1}, "text", {"key": "b", "value": "v", "expiration": True}] + [None] * 12
    with pytest.raises(ConfigError) as info:
        parse_bulk_put(bad, "f.json")
    lines = str(info.value).split("\n")
    assert lines[:3] == ['Unexpected JSON input from "f.json".', "Each item in the array should be an object that "
                         "matches:", ""]
    assert "interface KeyValue {" in lines and "  base64?: boolean;" in lines
    assert lines[-13:] == ['The item at index 0 is {"key":"a","value":1}', 'The item at index 1 is "text"',
                           'The item at index 2 is {"key":"b","value":"v","expiration":true}',
                           *[f"The item at index {i} is null" for i in range(3, 12)], "..."]
    items, warnings = parse_bulk_put([{"key": "a", "value": "v", "metadata": None, "x": 1}], "f.json")
    assert items == [{"key": "a", "value": "v", "metadata": None, "x": 1}]
    assert warnings == ['The item at index 0 contains unexpected properties: ["x"].']


def test_key_list_file_shape_errors() -> None:
    assert parse_key_list(["a", {"name": "b", "expiration": 1}], "k.json") == ["a", "b"]
    with pytest.raises(ConfigError) as info:
        parse_key_list(["a", 3, None], "k.json")
    assert str(info.value) == ('Unexpected JSON input from "k.json".\n'
                               'Expected an array of strings or objects with a "name" key.\n'
                               'The item at index 1 is type: "number" - 3\n'
                               'The item at index 2 is type: "object" - null')

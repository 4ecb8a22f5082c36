from __future__ import annotations

from pathlib import Path

import pytest

from portflare.backends import BackendTarget, backend_url, load_backend_class, redact, safe_name
from portflare.errors import BackendError

TABLE = {"embedded": "pathlib:Path", "sqlite": "pathlib:PurePath", "nodriver": "no_such_driver_xyz:Backend"}


def target(url: str | None, tmp_path: Path) -> BackendTarget:
    return BackendTarget(kind="kv", binding="CACHE", resource="ns", state_dir=tmp_path, url=url)


def test_unset_url_selects_the_embedded_backend(tmp_path: Path) -> None:
    assert backend_url("CACHE", {}) is None
    assert backend_url("CACHE", {"PORTFLARE_CACHE": " "}) is None
    assert load_backend_class("kv", TABLE, target(None, tmp_path)) is Path


def test_scheme_selects_backend(tmp_path: Path) -> None:
    assert backend_url("CACHE", {"PORTFLARE_CACHE": "sqlite:///x.db"}) == "sqlite:///x.db"
    from pathlib import PurePath

    assert load_backend_class("kv", TABLE, target("SQLITE:///x.db", tmp_path)) is PurePath


def test_unknown_scheme_lists_supported_ones_and_hides_password(tmp_path: Path) -> None:
    with pytest.raises(BackendError) as info:
        load_backend_class("kv", TABLE, target("ftp://user:hunter2@host/x", tmp_path))
    message = str(info.value)
    assert "PORTFLARE_CACHE=ftp://user:***@host/x" in message
    assert "no kv backend for scheme 'ftp://'" in message and "sqlite://" in message
    assert "hunter2" not in message


def test_missing_driver_names_the_extra(tmp_path: Path) -> None:
    with pytest.raises(BackendError, match=r"pip install 'portflare\[nodriver\]'"):
        load_backend_class("kv", TABLE, target("nodriver://h", tmp_path))


@pytest.mark.parametrize(
    ("resource", "expected"),
    [("abc123", "abc123"), ("../../etc/passwd", "_.._etc_passwd"), ("..", "_"), ("a/b\\c", "a_b_c"), ("", "_")],
)
def test_safe_name_never_escapes(resource: str, expected: str) -> None:
    assert safe_name(resource) == expected


def test_embedded_path_stays_in_state_dir(tmp_path: Path) -> None:
    path = BackendTarget(kind="d1", binding="DB", resource="../evil", state_dir=tmp_path).embedded_path(".sqlite")
    assert path.parent == tmp_path / "d1"
    assert path.resolve().is_relative_to(tmp_path)


def test_redact_leaves_passwordless_urls_alone() -> None:
    assert redact("redis://127.0.0.1:6379/0") == "redis://127.0.0.1:6379/0"
    assert redact(None) == ""

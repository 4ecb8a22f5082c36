"""The SQLite backend's own guarantees: URL selection and a file shared between connections."""

from __future__ import annotations

from pathlib import Path

import pytest

from portflare.backends import BackendTarget
from portflare.bindings.d1 import open_binding
from portflare.errors import BackendError, JsException
from portflare.sqlitefile import connect_wal


@pytest.mark.parametrize("scheme", ["sqlite", "file"])
async def test_url_selects_file(tmp_path: Path, scheme: str) -> None:
    path = tmp_path / "sub" / "chosen.db"
    target = BackendTarget(kind="d1", binding="DB", resource="r", state_dir=tmp_path / "state",
                           url=f"{scheme}://{path}")
    db = await open_binding(target)
    try:
        await db.exec("CREATE TABLE t (v)")
    finally:
        await db._aclose()
    assert path.is_file()
    assert not (tmp_path / "state" / "d1").exists()


async def test_unknown_scheme_is_a_backend_error(tmp_path: Path) -> None:
    target = BackendTarget(kind="d1", binding="DB", resource="r", state_dir=tmp_path, url="oracle://x")
    with pytest.raises(BackendError, match="no d1 backend for scheme 'oracle://'"):
        await open_binding(target)


async def test_two_connections_share_one_file(tmp_path: Path) -> None:
    target = BackendTarget(kind="d1", binding="DB", resource="shared", state_dir=tmp_path)
    a, b = await open_binding(target), await open_binding(target)
    try:
        await a.exec("CREATE TABLE t (v)")
        await a.prepare("INSERT INTO t VALUES (1)").run()
        assert await b.prepare("SELECT v FROM t").first("v") == 1
        await b.batch([b.prepare("INSERT INTO t VALUES (2)")])
        assert await a.prepare("SELECT count(*) AS n FROM t").first("n") == 2
    finally:
        await a._aclose()
        await b._aclose()


async def test_statements_hold_no_snapshot_open(tmp_path: Path) -> None:
    # The backend runs every statement on one reused cursor: a SELECT of several rows read through first(), or
    # one that failed midway, must leave no read snapshot behind, so another connection checkpoints the WAL.
    target = BackendTarget(kind="d1", binding="DB", resource="snap", state_dir=tmp_path)
    db = await open_binding(target)
    other = connect_wal(target.embedded_path(".sqlite"))
    try:
        await db.exec("CREATE TABLE t (id INTEGER PRIMARY KEY, j TEXT)")
        await db.prepare("INSERT INTO t (j) VALUES ('{}'), ('not json'), ('{}')").run()
        assert await db.prepare("SELECT id FROM t ORDER BY id").first("id") == 1
        other.execute("INSERT INTO t (j) VALUES ('{}')")
        assert other.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone() == (0, 0, 0)
        with pytest.raises(JsException, match="malformed JSON"):
            await db.prepare("SELECT json_extract(j, '$.a') FROM t ORDER BY id").first()
        other.execute("INSERT INTO t (j) VALUES ('{}')")
        assert other.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone() == (0, 0, 0)
    finally:
        other.close()
        await db._aclose()

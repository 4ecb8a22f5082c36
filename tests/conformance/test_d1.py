"""The D1 contract, run on every backend: what a Worker sees through ``env.DB``.

Adding a backend is one entry in ``BACKENDS`` (and a branch in ``_url`` when it needs a service); every test
gets a fresh, isolated database.
"""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from portflare.backends import BackendTarget
from portflare.bindings.d1 import D1Database, open_binding
from portflare.bindings.d1.base import SqlError
from portflare.bindings.d1.server import ServerD1Backend
from portflare.errors import JsException
from portflare.jsobject import JsDict, JsList
from tests.conftest import require_service
from tests.d1.servers import MYSQL_URL, POSTGRES_URL, drop_database

BACKENDS = ["sqlite", "postgres", "mysql"]

META_KEYS = {"served_by", "served_by_region", "served_by_primary", "timings", "duration", "changes",
             "last_row_id", "changed_db", "size_after", "rows_read", "rows_written"}


def _url(backend: str, tmp_path: Path) -> str | None:
    if backend == "sqlite":
        return None  # the embedded default: a SQLite file under the state directory
    if backend == "postgres":
        require_service("PostgreSQL", "127.0.0.1", 5432)
        return POSTGRES_URL
    if backend == "mysql":
        require_service("MySQL/MariaDB", "127.0.0.1", 3306)
        return MYSQL_URL
    raise AssertionError(backend)


@pytest.fixture(params=BACKENDS)
async def db(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[D1Database]:
    resource = f"conformance_{uuid.uuid4().hex[:12]}"  # a schema / database of its own, dropped afterwards
    target = BackendTarget(kind="d1", binding="DB", resource=resource, state_dir=tmp_path,
                           url=_url(request.param, tmp_path))
    database = await open_binding(target)
    try:
        yield database
    finally:
        await database._aclose()
        await drop_database(request.param, resource)


@pytest.fixture
async def users(db: D1Database) -> D1Database:
    await db.exec("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT NOT NULL, age INTEGER, data BLOB)")
    await db.batch([
        db.prepare("INSERT INTO users (name, age) VALUES (?, ?)").bind("ada", 36),
        db.prepare("INSERT INTO users (name, age) VALUES (?, ?)").bind("bob", None),
    ])
    return db


def _at(db: D1Database, offset: int) -> str:
    """`` at offset <n>`` as workerd adds it to SQLite's parse errors, where the backend can report it."""
    return f" at offset {offset}" if getattr(db.backend, "error_offsets", False) else ""


def _declared_type(value: object) -> str:
    """A column type for ``value`` (PostgreSQL and MySQL have no untyped columns: see test_untyped_columns)."""
    if isinstance(value, bool | int):
        return "INTEGER"
    if isinstance(value, float):
        return "REAL"
    if isinstance(value, str) or value is None:
        return "TEXT"
    return "BLOB"


def _on_server(db: D1Database) -> bool:
    return isinstance(db.backend, ServerD1Backend)


async def _error(awaitable: object) -> str:
    with pytest.raises(JsException) as info:
        await awaitable  # type: ignore[misc]
    return str(info.value)


# --- shapes ---------------------------------------------------------------------------------------------------

async def test_all_returns_success_meta_results(users: D1Database) -> None:
    result = await users.prepare("SELECT id, name FROM users ORDER BY id").all()
    assert isinstance(result, JsDict)
    assert list(result) == ["success", "meta", "results"]
    assert result.success is True
    assert result.results == [{"id": 1, "name": "ada"}, {"id": 2, "name": "bob"}]
    assert result["results"][0].name == "ada"  # attribute access on rows too
    assert isinstance(result.results, JsList)
    assert result.to_py() is result
    assert set(result.meta) == META_KEYS
    assert result.meta.changes == 0
    assert result.meta.changed_db is False
    assert result.meta.rows_read == 2
    assert result.meta.served_by_primary is True
    assert result.meta.timings.sql_duration_ms == result.meta.duration >= 0


async def test_run_is_all_and_write_meta(db: D1Database) -> None:
    await db.exec("CREATE TABLE t (id INTEGER PRIMARY KEY AUTOINCREMENT, v TEXT)")
    result = await db.prepare("INSERT INTO t (v) VALUES (?), (?)").bind("a", "b").run()
    assert result.success is True and result.results == []
    assert result.meta.changes == 2
    assert result.meta.last_row_id == 2
    assert result.meta.changed_db is True
    assert result.meta.rows_written == 2
    assert result.meta.size_after > 0
    rows = await db.prepare("SELECT v FROM t").run()
    assert [r.v for r in rows.results] == ["a", "b"]
    updated = await db.prepare("UPDATE t SET v = 'z'").run()
    assert updated.meta.changes == 2 and updated.meta.last_row_id == 2


async def test_insert_returning(db: D1Database) -> None:
    await db.exec("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)")
    result = await db.prepare("INSERT INTO t (v) VALUES (?) RETURNING id, v").bind("x").all()
    assert result.results == [{"id": 1, "v": "x"}]
    assert result.meta.changes == 1 and result.meta.last_row_id == 1
    assert await db.prepare("INSERT INTO t (v) VALUES ('y') RETURNING id").first("id") == 2


async def test_first(users: D1Database) -> None:
    assert await users.prepare("SELECT name, age FROM users ORDER BY id").first() == {"name": "ada", "age": 36}
    assert await users.prepare("SELECT name FROM users WHERE id = ?").bind(2).first("name") == "bob"
    assert await users.prepare("SELECT age FROM users WHERE id = 2").first("age") is None  # NULL, not missing
    assert await users.prepare("SELECT * FROM users WHERE id = 99").first() is None
    assert await users.prepare("SELECT * FROM users WHERE id = 99").first("nope") is None  # no row: no check
    message = await _error(users.prepare("SELECT name FROM users").first("nope"))
    assert message == "Error: D1_COLUMN_NOTFOUND: Column not found (nope)"


async def test_raw(users: D1Database) -> None:
    stmt = users.prepare("SELECT id, name FROM users ORDER BY id")
    assert await stmt.raw() == [[1, "ada"], [2, "bob"]]
    assert await stmt.raw(columnNames=True) == [["id", "name"], [1, "ada"], [2, "bob"]]
    assert await stmt.raw({"columnNames": True}) == [["id", "name"], [1, "ada"], [2, "bob"]]
    assert await stmt.raw({"columnNames": False}) == [[1, "ada"], [2, "bob"]]
    empty = users.prepare("SELECT id, name FROM users WHERE id < 0")
    assert await empty.raw() == []
    assert await empty.raw(columnNames=True) == [["id", "name"]]
    assert await users.prepare("SELECT 1 AS a, 2 AS a").raw() == [[1, 2]]  # duplicates kept in raw rows


async def test_select_star_follows_schema_changes(db: D1Database) -> None:
    # The same statement text, run again after the table changed, names the table's columns as they are now.
    await db.exec("CREATE TABLE t (a INTEGER)")
    await db.prepare("INSERT INTO t VALUES (1)").run()
    star = db.prepare("SELECT * FROM t")
    assert await star.first() == {"a": 1}
    await db.exec("ALTER TABLE t ADD COLUMN b TEXT DEFAULT 'x'")
    assert await star.first() == {"a": 1, "b": "x"}
    await db.exec("ALTER TABLE t RENAME COLUMN b TO c")
    assert await star.raw(columnNames=True) == [["a", "c"], [1, "x"]]
    assert (await star.all()).results == [{"a": 1, "c": "x"}]


async def test_duplicate_column_names_later_wins(db: D1Database) -> None:
    assert await db.prepare("SELECT 1 AS a, 2 AS a").first() == {"a": 2}


async def test_bind_returns_new_statement(users: D1Database) -> None:
    base = users.prepare("SELECT name FROM users WHERE id = ?")
    first, second = base.bind(1), base.bind(2)
    assert first is not base and second is not first
    assert await first.first("name") == "ada"
    assert await second.first("name") == "bob"
    assert base.params == ()
    assert "Wrong number of parameter bindings" in await _error(base.first())


async def test_ordered_parameters(db: D1Database) -> None:
    assert await db.prepare("SELECT ?2 AS b, ?1 AS a").bind("x", "y").first() == {"b": "y", "a": "x"}
    assert await db.prepare("SELECT ?1 AS a, ? AS b").bind("x", "y").first() == {"a": "x", "b": "y"}


INJECTIONS = [
    "x'); DROP TABLE t; --",
    "Robert'; DELETE FROM t WHERE 1=1; --",
    "\\'; DROP TABLE t; -- ",  # a backslash before the quote: MySQL-style escaping in client-side binding
    '"); DROP TABLE t; --',
    "%s %% %(v)s $1 ? ?1 :v @v",  # what placeholders look like to each driver
    "1 OR 1=1",
    "é'\n\t;--",
]


@pytest.mark.parametrize("value", INJECTIONS)
async def test_bound_values_are_data_never_sql(db: D1Database, value: str) -> None:
    await db.exec("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)")
    await db.prepare("INSERT INTO t (v) VALUES (?)").bind(value).run()
    await db.batch([db.prepare("INSERT INTO t (v) VALUES (?1), (?1)").bind(value)])
    assert await db.prepare("SELECT v FROM t WHERE id = ?").bind(1).first("v") == value  # verbatim
    assert await db.prepare("SELECT count(*) AS n FROM t WHERE v = ?").bind(value).first("n") == 3
    assert await db.prepare("SELECT ? AS echo").bind(value).first("echo") == value
    assert await db.prepare("SELECT count(*) AS n FROM t WHERE v = ? OR v = ?").bind(value, "none").first("n") == 3
    assert await db.prepare("SELECT count(*) AS n FROM t").first("n") == 3  # the table is still there, whole


async def test_named_parameters_bind_by_position(db: D1Database) -> None:
    # D1 documents only ? and ?NNN; workerd binds positionally, so a name takes the next index (as in SQLite).
    stmt = db.prepare("SELECT :a AS a, :b AS b, :a AS again")
    assert await stmt.bind(1, 2).first() == {"a": 1, "b": 2, "again": 1}


# --- types ----------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("value", "stored"), [
    (None, None),
    (True, 1),
    (False, 0),
    (42, 42),
    (2**53 - 1, 2**53 - 1),  # the largest int Pyodide passes as a JS number
    (1.5, 1.5),
    (2.0, 2),  # a double with an integral value reaches Python (Pyodide) as int
    ("héllo", "héllo"),
    (b"\x00\xff", [0, 255]),
    (bytearray(b"ab"), [97, 98]),
    (memoryview(b"ab"), [97, 98]),
    ([1, 2, 255], [1, 2, 255]),
    ((1, 2), [1, 2]),
    ([], []),
])
async def test_type_mapping(db: D1Database, value: object, stored: object) -> None:
    await db.exec(f"CREATE TABLE v (x {_declared_type(value)})")
    await db.prepare("INSERT INTO v (x) VALUES (?)").bind(value).run()
    got = await db.prepare("SELECT x FROM v").first("x")
    assert got == stored
    assert type(got) is type(stored) or isinstance(got, list)


async def test_blob_reads_as_list_of_ints(db: D1Database) -> None:
    assert await db.prepare("SELECT X'0102ff' AS b").first("b") == [1, 2, 255]
    if getattr(db.backend, "dialect", "") != "mysql":  # MySQL has no typeof(): refused, naming it
        assert await db.prepare("SELECT typeof(?) AS t").bind([1, 2]).first("t") == "blob"


@pytest.mark.parametrize(("value", "message"), [
    ({"a": 1}, "Type 'object' not supported for value '[object Object]'"),
    ([1, "a"], "Type 'object' not supported for value '1,a'"),
    ([256], "Type 'object' not supported for value '256'"),
    (2**53, f"Type 'bigint' not supported for value '{2**53}'"),  # Pyodide passes it as a BigInt
    (-(2**62), f"Type 'bigint' not supported for value '{-(2**62)}'"),
    (object(), "Type 'object' not supported for value '<object object"),
])
async def test_unsupported_types_raise_at_bind(db: D1Database, value: object, message: str) -> None:
    stmt = db.prepare("SELECT ? AS x")
    with pytest.raises(JsException) as info:
        stmt.bind(value)
    assert str(info.value).startswith(f"Error: D1_TYPE_ERROR: {message}")


# --- errors ---------------------------------------------------------------------------------------------------

async def test_sql_error_wording(db: D1Database) -> None:
    assert await _error(db.prepare("SELECT * FROM nope").all()) == (
        "Error: D1_ERROR: no such table: nope: SQLITE_ERROR")
    assert await _error(db.prepare("SELEC 1").all()) == (
        f'Error: D1_ERROR: near "SELEC": syntax error{_at(db, 0)}: SQLITE_ERROR')
    assert await _error(db.prepare("SELECT nope FROM sqlite_schema").all()) == (
        f"Error: D1_ERROR: no such column: nope{_at(db, 7)}: SQLITE_ERROR")
    # Offsets count from just after the previous statement, as workerd prepares each statement's tail.
    assert await _error(db.prepare("SELECT 1;  SELEC 2").all()) == (
        f'Error: D1_ERROR: near "SELEC": syntax error{_at(db, 2)}: SQLITE_ERROR')


async def test_error_cause_is_the_bare_message(db: D1Database) -> None:
    with pytest.raises(JsException) as info:
        await db.prepare("SELECT * FROM nope").all()
    assert str(info.value.__cause__) == "Error: no such table: nope: SQLITE_ERROR"
    with pytest.raises(JsException) as info:
        await db.prepare("SELECT 1 AS a").first("b")
    assert str(info.value.__cause__) == "Error: Column not found"


async def test_constraint_error_wording(db: D1Database) -> None:
    await db.exec("CREATE TABLE u (email TEXT UNIQUE)")
    await db.prepare("INSERT INTO u VALUES ('a')").run()
    assert await _error(db.prepare("INSERT INTO u VALUES ('a')").run()) == (
        "Error: D1_ERROR: UNIQUE constraint failed: u.email: SQLITE_CONSTRAINT")


async def test_transactions_are_refused(db: D1Database) -> None:
    for sql in ("BEGIN TRANSACTION", "begin", "COMMIT", "SAVEPOINT a", "ROLLBACK", "RELEASE a"):
        message = await _error(db.prepare(sql).run())
        assert message.startswith("Error: D1_ERROR: To execute a transaction, please use the "
                                  "state.storage.transaction()"), sql


async def test_reserved_cf_names_are_refused(db: D1Database) -> None:
    assert await _error(db.exec("CREATE TABLE _cf_x (a)")) == (
        "Error: D1_EXEC_ERROR: Error in line 1: CREATE TABLE _cf_x (a): not authorized: SQLITE_AUTH")
    assert await _error(db.prepare('SELECT * FROM "_CF_KV"').all()) == "Error: D1_ERROR: not authorized: SQLITE_AUTH"
    assert await db.prepare("SELECT '_cf_ in a string is fine' AS s").first("s") == "_cf_ in a string is fine"


async def test_pragmas_outside_d1s_list_are_refused(db: D1Database) -> None:
    await db.exec("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)")
    info = await db.prepare('PRAGMA table_info("t")').all()
    assert [row.name for row in info.results] == ["id", "v"]
    assert any(row.name == "t" for row in (await db.prepare("PRAGMA main.table_list").all()).results)
    assert (await db.prepare("PRAGMA foreign_keys").first()) == {"foreign_keys": 1}
    for sql in ("PRAGMA journal_mode=DELETE", "PRAGMA locking_mode = EXCLUSIVE", "pragma main.user_version = 3"):
        assert await _error(db.prepare(sql).run()) == "Error: D1_ERROR: not authorized: SQLITE_AUTH", sql


async def test_empty_sql(db: D1Database) -> None:
    assert await _error(db.prepare("").all()) == "Error: D1_ERROR: No SQL statements detected."
    assert await _error(db.prepare("-- only a comment").all()) == "Error: D1_ERROR: No SQL statements detected."
    assert await _error(db.prepare(" ").first()) == "Error: D1_ERROR: No SQL statements detected."
    assert await _error(db.prepare("/* */").raw()) == "Error: D1_ERROR: No SQL statements detected."
    assert await _error(db.batch([])) == "Error: D1_ERROR: No SQL statements detected."


async def test_multiple_statements_in_one_prepare(db: D1Database) -> None:
    result = await db.prepare(
        "CREATE TABLE t (v INTEGER); INSERT INTO t VALUES (1); INSERT INTO t VALUES (2); SELECT v FROM t WHERE v > ?"
    ).bind(1).all()
    assert result.results == [{"v": 2}]
    assert result.meta.changes == 2
    assert await db.prepare("INSERT INTO t VALUES (3); SELECT v FROM t ORDER BY v DESC").first("v") == 3
    assert await db.prepare("DELETE FROM t WHERE v = 1; SELECT v FROM t").raw(columnNames=True) == [["v"], [2], [3]]
    message = await _error(db.prepare("SELECT ?; SELECT 1").bind(1).all())
    assert message == ("Error: D1_ERROR: When executing multiple SQL statements in a single call, only the last "
                       "statement can have parameters.")


# --- limits ---------------------------------------------------------------------------------------------------

async def test_101_parameters_rejected_nothing_stored(db: D1Database) -> None:
    await db.exec("CREATE TABLE t (v INTEGER)")
    placeholders = ", ".join(["(?)"] * 101)
    stmt = db.prepare(f"INSERT INTO t (v) VALUES {placeholders}").bind(*range(101))
    too_many = "Error: D1_ERROR: too many SQL variables at offset 526: SQLITE_ERROR"  # the 101st "?"
    assert await _error(stmt.run()) == too_many
    ok = db.prepare(f"INSERT INTO t (v) VALUES {', '.join(['(?)'] * 100)}").bind(*range(100))
    assert (await ok.run()).meta.changes == 100
    await db.prepare("DELETE FROM t").run()
    assert await _error(db.batch([db.prepare("INSERT INTO t VALUES (1)"), stmt])) == too_many
    assert await db.prepare("SELECT count(*) AS n FROM t").first("n") == 0
    assert await _error(db.prepare("SELECT ?101").bind(1).all()) == (
        "Error: D1_ERROR: variable number must be between ?1 and ?100 at offset 7: SQLITE_ERROR")


async def test_statement_length_limit(db: D1Database) -> None:
    long_sql = "SELECT '" + "x" * 100_000 + "'"
    assert await _error(db.prepare(long_sql).all()) == "Error: D1_ERROR: statement too long: SQLITE_TOOBIG"


async def test_value_size_limit(db: D1Database) -> None:
    await db.exec("CREATE TABLE t (v TEXT)")
    too_big = "x" * 2_000_001
    assert await _error(db.prepare("INSERT INTO t VALUES (?)").bind(too_big).run()) == (
        "Error: D1_ERROR: string or blob too big: SQLITE_TOOBIG")
    assert await _error(db.prepare("INSERT INTO t VALUES (?)").bind(b"\0" * 2_000_001).run()) == (
        "Error: D1_ERROR: string or blob too big: SQLITE_TOOBIG")
    assert await _error(db.prepare("SELECT randomblob(2000001)").all()) == (
        "Error: D1_ERROR: string or blob too big: SQLITE_TOOBIG")
    await db.prepare("INSERT INTO t VALUES (?)").bind("é" * 900_000).run()  # 1.8 MB of UTF-8: fits
    assert await db.prepare("SELECT count(*) AS n FROM t").first("n") == 1


# --- batch, exec ----------------------------------------------------------------------------------------------

async def test_batch_results_in_order(db: D1Database) -> None:
    results = await db.batch([
        db.prepare("CREATE TABLE t (v TEXT)"),
        db.prepare("INSERT INTO t VALUES (?)").bind("a"),
        db.prepare("SELECT v FROM t"),
    ])
    assert isinstance(results, JsList) and len(results) == 3
    assert [r.success for r in results] == [True, True, True]
    assert results[1].meta.changes == 1
    assert results[2].results == [{"v": "a"}]


async def test_batch_is_atomic(db: D1Database) -> None:
    await db.exec("CREATE TABLE t (v INTEGER UNIQUE)")
    message = await _error(db.batch([
        db.prepare("INSERT INTO t VALUES (1)"),
        db.prepare("INSERT INTO t VALUES (2)"),
        db.prepare("INSERT INTO t VALUES (1)"),
    ]))
    assert message == "Error: D1_ERROR: UNIQUE constraint failed: t.v: SQLITE_CONSTRAINT"
    assert await db.prepare("SELECT count(*) AS n FROM t").first("n") == 0


async def test_batch_validates_everything_before_running(db: D1Database) -> None:
    await db.exec("CREATE TABLE t (v INTEGER)")
    message = await _error(db.batch([db.prepare("INSERT INTO t VALUES (1)"), db.prepare("COMMIT")]))
    assert "To execute a transaction" in message
    assert await db.prepare("SELECT count(*) AS n FROM t").first("n") == 0


async def test_exec_splits_on_newlines(db: D1Database) -> None:
    result = await db.exec("""
        CREATE TABLE t (v INTEGER);
        -- a comment line is not a statement

        INSERT INTO t VALUES (1); INSERT INTO t VALUES (2);
    """)
    assert isinstance(result, JsDict)
    assert result.count == 2 and result.duration >= 0
    assert await db.prepare("SELECT count(*) AS n FROM t").first("n") == 2


async def test_exec_error_names_line_and_rolls_back(db: D1Database) -> None:
    await db.exec("CREATE TABLE t (v INTEGER)")
    message = await _error(db.exec("INSERT INTO t VALUES (1)\n\n-- note\nINSERTZ INTO t VALUES (2)"))
    assert message == ('Error: D1_EXEC_ERROR: Error in line 4: INSERTZ INTO t VALUES (2): '
                       f'near "INSERTZ": syntax error{_at(db, 0)}: SQLITE_ERROR')
    assert await db.prepare("SELECT count(*) AS n FROM t").first("n") == 0
    message = await _error(db.exec("INSERT INTO t VALUES (1)\nINSERT INTO nope VALUES (2)"))
    assert message == ("Error: D1_EXEC_ERROR: Error in line 2: INSERT INTO nope VALUES (2): "
                       "no such table: nope: SQLITE_ERROR")
    assert await db.prepare("SELECT count(*) AS n FROM t").first("n") == 0


# --- foreign keys ---------------------------------------------------------------------------------------------

async def test_foreign_keys_enforced(db: D1Database) -> None:
    await db.exec("CREATE TABLE p (id INTEGER PRIMARY KEY)\nCREATE TABLE c (p INTEGER REFERENCES p(id))")
    assert await _error(db.prepare("INSERT INTO c VALUES (1)").run()) == (
        "Error: D1_ERROR: FOREIGN KEY constraint failed: SQLITE_CONSTRAINT")
    await db.prepare("PRAGMA foreign_keys = OFF").run()  # a no-op on D1; must not stick here either
    assert "FOREIGN KEY" in await _error(db.prepare("INSERT INTO c VALUES (1)").run())


async def test_defer_foreign_keys_in_batch(db: D1Database) -> None:
    await db.exec("CREATE TABLE p (id INTEGER PRIMARY KEY)\nCREATE TABLE c (p INTEGER REFERENCES p(id))")
    await db.batch([
        db.prepare("PRAGMA defer_foreign_keys = ON"),
        db.prepare("INSERT INTO c VALUES (1)"),
        db.prepare("INSERT INTO p VALUES (1)"),
    ])
    assert await db.prepare("SELECT count(*) AS n FROM c").first("n") == 1


# --- sessions -------------------------------------------------------------------------------------------------

async def test_with_session(db: D1Database) -> None:
    session = db.withSession()
    assert session.getBookmark() is None
    await session.prepare("CREATE TABLE t (v INTEGER)").run()
    first = session.getBookmark()
    assert isinstance(first, str)
    await session.batch([session.prepare("INSERT INTO t VALUES (?)").bind(1)])
    second = session.getBookmark()
    assert second is not None and second > first
    assert await session.prepare("SELECT v FROM t").first("v") == 1
    assert session.getBookmark() == second  # a read leaves the database where it was
    await session.prepare("INSERT INTO t VALUES (?)").bind(2).run()  # one statement, outside a batch
    third = session.getBookmark()
    assert third is not None and third > second
    assert await session.prepare("INSERT INTO t VALUES (3) RETURNING v").first("v") == 3  # a write via first()
    fourth = session.getBookmark()
    assert fourth is not None and fourth > third
    assert await session.prepare("SELECT count(*) AS n FROM t").raw() == [[3]]
    assert session.getBookmark() == fourth
    assert db.withSession("first-primary").getBookmark() is None
    assert db.withSession("  ").getBookmark() is None  # blank: first-unconstrained
    assert db.withSession(second).getBookmark() == second
    assert db.withSession(f" {second} ").getBookmark() == second


# --- dump -----------------------------------------------------------------------------------------------------

async def _fill_for_dump(db: D1Database) -> None:
    await db.exec("CREATE TABLE \"my table\" (id INTEGER PRIMARY KEY AUTOINCREMENT, s TEXT, b BLOB, r REAL)")
    await db.batch([
        db.prepare('INSERT INTO "my table" (s, b, r) VALUES (?, ?, ?)').bind("it's\nmulti\r\nline", b"\x00\x01", 1.5),
        db.prepare('INSERT INTO "my table" (s, b, r) VALUES (?, ?, ?)').bind(None, None, 2.0),
        db.prepare("CREATE INDEX idx_s ON \"my table\" (s)"),
    ])


async def test_export_round_trip(db: D1Database, tmp_path: Path) -> None:
    """The backend's export (what `portflare d1 export` writes) is wrangler's SQL, and imports back."""
    await _fill_for_dump(db)
    dumped = "\n".join(await db.backend.dump())
    lines = dumped.split("\n")
    assert lines[0] == "PRAGMA defer_foreign_keys=TRUE;"
    assert lines[1].startswith('CREATE TABLE IF NOT EXISTS "my table"')
    assert lines[2] == ('INSERT INTO "my table" ("id","s","b","r") VALUES(1,'
                        "replace(replace('it''s\\nmulti\\r\\nline','\\r',char(13)),'\\n',char(10)),X'0001',1.5);")
    assert "DELETE FROM sqlite_sequence;" in lines
    assert lines[-1] == 'CREATE INDEX idx_s ON "my table" (s);'

    target = BackendTarget(kind="d1", binding="DB2", resource="copy", state_dir=tmp_path / "copy")
    copy = await open_binding(target)
    try:
        from portflare.bindings.d1.splitter import file_statements

        await copy.batch([copy.prepare(s) for s in file_statements(dumped)])
        query = 'SELECT id, s, b, r FROM "my table" ORDER BY id'
        assert await copy.prepare(query).raw() == await db.prepare(query).raw()
        assert "\n".join(await copy.backend.dump()) == dumped
    finally:
        await copy._aclose()


async def test_dump_is_an_sqlite_database_file(db: D1Database) -> None:
    """workerd's deprecated dump(): an ArrayBuffer holding an SQLite database file (any backend)."""
    import sqlite3

    await _fill_for_dump(db)
    await db.prepare('INSERT INTO "my table" (s) VALUES (?)').bind("last").run()
    dumped = await db.dump()
    assert isinstance(dumped, memoryview)
    image = bytes(dumped)
    assert image[:16] == b"SQLite format 3\x00" and image[18:20] == b"\x01\x01"  # rollback journal: opens anywhere
    copy = sqlite3.connect(":memory:")
    try:
        copy.deserialize(image)
        assert copy.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert copy.execute('SELECT id, s, b, r FROM "my table" ORDER BY id').fetchall() == [
            (1, "it's\nmulti\r\nline", b"\x00\x01", 1.5), (2, None, None, 2.0), (3, "last", None, None)]
        assert copy.execute("SELECT seq FROM sqlite_sequence WHERE name = 'my table'").fetchone() == (3,)
        assert copy.execute("SELECT name FROM sqlite_master WHERE type = 'index'").fetchall() == [("idx_s",)]
    finally:
        copy.close()


async def test_export_refuses_virtual_tables(db: D1Database) -> None:
    if _on_server(db):
        dialect = "PostgreSQL" if db.backend.dialect == "postgres" else "MySQL"  # type: ignore[attr-defined]
        assert await _error(db.exec("CREATE VIRTUAL TABLE f USING fts5(body)")) == (
            "Error: D1_EXEC_ERROR: Error in line 1: CREATE VIRTUAL TABLE f USING fts5(body): CREATE VIRTUAL TABLE "
            f"(fts5 and other virtual tables) cannot be translated to {dialect}: SQLITE_ERROR")
        return
    await db.exec("CREATE VIRTUAL TABLE f USING fts5(body)")
    with pytest.raises(SqlError, match=r"^D1 Export error: cannot export databases with Virtual Tables \(fts5\)"):
        await db.backend.dump()
    # the database file is the file: virtual tables and all
    import sqlite3

    copy = sqlite3.connect(":memory:")
    copy.deserialize(bytes(await db.dump()))
    assert copy.execute("SELECT name FROM sqlite_master WHERE name = 'f'").fetchone() == ("f",)
    copy.close()


# --- server backends: what has no faithful translation fails, naming the construct ------------------------

async def test_untyped_columns(db: D1Database) -> None:
    if not _on_server(db):
        await db.exec("CREATE TABLE t (v)")  # SQLite's dynamic typing: any value in any column
        await db.prepare("INSERT INTO t VALUES (?), (?)").bind(1, "a").run()
        assert await db.prepare("SELECT v FROM t ORDER BY rowid").raw() == [[1], ["a"]]
        return
    message = await _error(db.exec("CREATE TABLE t (v)"))
    assert 'a column without a declared type ("v", SQLite\'s dynamic typing) cannot be translated to' in message
    assert "no such table: t" in await _error(db.prepare("SELECT * FROM t").all())  # nothing half-created


# --- SQLite's values on every backend (the translation's rules; tests/d1/test_corpus.py has many more) -------

async def test_real_as_text_is_sqlites(db: D1Database) -> None:
    from tests.d1.test_translate_types import _floats

    values = [v for v in _floats() if abs(v) < 1e300][::3]  # fixed cases, uniform and random bit patterns
    await db.exec("CREATE TABLE r (id INTEGER PRIMARY KEY, v REAL)")
    await db.batch([db.prepare("INSERT INTO r (v) VALUES (?)").bind(v) for v in values])
    rows = await db.prepare("SELECT v || '' AS a, CAST(v AS TEXT) AS b FROM r ORDER BY id").raw()
    sqlite = sqlite3.connect(":memory:")
    expected = [[sqlite.execute("SELECT CAST(? AS TEXT)", (v,)).fetchone()[0]] * 2 for v in values]
    assert rows == expected


async def test_sqlite_rules_for_casts_round_substr_and_text(db: D1Database) -> None:
    await db.exec("CREATE TABLE t (n INTEGER, r REAL, s TEXT)")
    await db.prepare("INSERT INTO t VALUES (?, ?, ?)").bind(7, 2.5, "12abc").run()
    row = await db.prepare(
        "SELECT CAST(r AS INTEGER) AS a, CAST(s AS INTEGER) AS b, round(r) AS c, round(-r) AS d, "
        "substr('hello', -3, 2) AS e, substr(s, 0, 2) AS f, typeof(1.0) AS g, CAST(n AS REAL) || '' AS h, "
        "lower('ÀB') AS i, date('2024-01-31', '+1 month') AS j, s > 2 AS k, n = '7' AS l, 10 = '10' AS m "
        "FROM t").first()
    assert row == {"a": 2, "b": 12, "c": 3, "d": -3, "e": "ll", "f": "1", "g": "real", "h": "7.0", "i": "Àb",
                   "j": "2024-03-02", "k": 0, "l": 1, "m": 0}  # k: '12abc' > '2' compares text
    assert await db.prepare("SELECT n FROM t LIMIT ? OFFSET ?").bind("1", "0").raw() == [[7]]
    assert await db.prepare("SELECT n FROM t LIMIT -1").raw() == [[7]]


async def test_values_read_back_by_type_next_to_a_star(db: D1Database) -> None:
    # A mixed-type coalesce and json_extract stand beside `t.*`, whose width only the server knows: their
    # values must still come back with SQLite's types (MySQL gave '5' for 5, PostgreSQL failed on 'none').
    await db.exec("CREATE TABLE t (id INTEGER PRIMARY KEY, n INTEGER, j TEXT)")
    await db.batch([db.prepare("INSERT INTO t (n, j) VALUES (?, ?)").bind(5, '{"a": 1.5}'),
                    db.prepare("INSERT INTO t (n, j) VALUES (?, ?)").bind(None, '{"a": "x"}')])
    behind = await db.prepare("SELECT t.*, coalesce(n, 'none') AS c, json_extract(j, '$.a') AS x "
                              "FROM t ORDER BY id").raw()
    assert behind == [[1, 5, '{"a": 1.5}', 5, 1.5], [2, None, '{"a": "x"}', "none", "x"]]
    before = await db.prepare("SELECT coalesce(n, 'none') AS c, * FROM t ORDER BY id").raw()
    assert before == [[5, 1, 5, '{"a": 1.5}'], ["none", 2, None, '{"a": "x"}']]
    joined = await db.prepare("SELECT 1 AS one, * FROM t JOIN t AS u ON u.id = t.id WHERE t.id = 1").raw()
    assert joined == [[1, 1, 5, '{"a": 1.5}', 1, 5, '{"a": 1.5}']]  # a late bare * is every source's columns
    between = "SELECT t.*, coalesce(n, 'none') AS c, t.* FROM t ORDER BY id"
    if isinstance(db.backend, ServerD1Backend) and db.backend.dialect == "mysql":
        assert "between two * in the select list" in await _error(db.prepare(between).raw())
    else:
        assert (await db.prepare(between).raw())[1] == [2, None, '{"a": "x"}', "none", 2, None, '{"a": "x"}']


async def test_recursive_cte_has_no_iteration_limit(db: D1Database) -> None:
    # MariaDB's default max_recursive_iterations (1000) silently cut this to 1001 rows.
    row = await db.prepare("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 5000) "
                           "SELECT count(*) AS n, max(x) AS m FROM c").first()
    assert row == {"n": 5000, "m": 5000}


async def test_what_cannot_be_translated_is_refused_by_name(db: D1Database) -> None:
    await db.exec("CREATE TABLE t (name TEXT, n INTEGER)")
    await db.prepare("INSERT INTO t VALUES ('a', 1), ('b', 5)").run()
    bare = db.prepare("SELECT name, max(n) AS m FROM t")
    fraction = db.prepare("INSERT INTO t (name, n) VALUES ('c', ?)").bind(1.5)
    if not _on_server(db):
        assert await bare.first() == {"name": "b", "m": 5}  # the row of the max, as SQLite picks it
        await fraction.run()
        assert await db.prepare("SELECT n FROM t WHERE name = 'c'").first("n") == 1.5  # a REAL in an INTEGER column
        return
    dialect = "PostgreSQL" if db.backend.dialect == "postgres" else "MySQL"  # type: ignore[attr-defined]
    assert await _error(bare.first()) == (
        'Error: D1_ERROR: the bare column "name" next to an aggregate (SQLite takes it from the row that '
        f"min()/max() picks; GROUP BY it, or select it in a subquery) cannot be translated to {dialect}: SQLITE_ERROR")
    assert await _error(fraction.run()) == (
        "Error: D1_ERROR: datatype mismatch: 1.5 in an INTEGER column (SQLite would store a REAL): SQLITE_MISMATCH")
    assert await db.prepare("SELECT count(*) AS c FROM t").first("c") == 2  # nothing stored
    assert await db.prepare("SELECT name, max(n) AS m FROM t GROUP BY name ORDER BY name").raw() == [["a", 1],
                                                                                                 ["b", 5]]

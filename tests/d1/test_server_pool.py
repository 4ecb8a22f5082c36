"""PostgreSQL and MySQL D1 backends on the real servers: the URL's ``pool_size``, the pinned connection after a
cancelled query, and the per-statement caches (one translation per statement text, bounded).

Connections are counted from the server's side: a connection of the test's own locks the test's table, so each
D1 query blocks holding its connection, and the server lists how many wait at once.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from portflare.backends import BackendTarget
from portflare.bindings.d1 import D1Database, open_binding
from portflare.bindings.d1 import postgres as postgres_module
from portflare.bindings.d1 import server as server_module
from portflare.bindings.d1.server import ServerD1Backend, schema_name
from portflare.bindings.d1.shadow import Catalog
from portflare.bindings.d1.translate import Translation
from portflare.errors import BackendError, JsException
from tests.conftest import require_service
from tests.d1.servers import MYSQL_URL, POSTGRES_URL, admin_execute, drop_database

SERVERS = {"postgres": (POSTGRES_URL, 5432), "mysql": (MYSQL_URL, 3306)}
Waiting = Callable[[], Awaitable[int]]


class Server:
    """One D1 database on a server, opened as bindings with chosen URL options, and its own lockable table."""

    def __init__(self, backend: str, tmp_path: Path) -> None:
        self.backend = backend
        self.url = SERVERS[backend][0]
        self.tmp_path = tmp_path
        self.resource = f"pool_{uuid.uuid4().hex[:12]}"
        self.schema = schema_name(self.resource)
        self.table = f"locked_{uuid.uuid4().hex[:8]}"  # named in the server's list of queries
        self.opened: list[D1Database] = []

    async def open(self, options: str = "") -> D1Database:
        url = f"{self.url}{'&' if '?' in self.url else '?'}{options}" if options else self.url
        db = await open_binding(BackendTarget(kind="d1", binding="DB", resource=self.resource,
                                              state_dir=self.tmp_path, url=url))
        self.opened.append(db)
        return db

    @asynccontextmanager
    async def locked(self) -> AsyncIterator[Waiting]:
        """Every row of the table locked by another connection; yields a count of the D1 queries waiting."""
        if self.backend == "postgres":
            import asyncpg

            conn = await asyncpg.connect(self.url, server_settings={"search_path": self.schema})
            # Counted from a connection of its own: inside a transaction pg_stat_activity is a snapshot.
            watcher = await asyncpg.connect(self.url)
            try:
                async with conn.transaction():
                    await conn.execute(f'UPDATE "{self.table}" SET "v" = "v"')

                    async def waiting() -> int:
                        return int(await watcher.fetchval(
                            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE $1",
                            f'UPDATE "{self.table}"%'))

                    yield waiting
            finally:
                await watcher.close()
                await conn.close()
            return
        import aiomysql

        conn = await aiomysql.connect(host="127.0.0.1", port=3306, user="root", password="", db=self.schema)
        try:
            await conn.begin()
            async with conn.cursor() as cursor:
                await cursor.execute(f"UPDATE `{self.table}` SET `v` = `v`")

            async def waiting() -> int:
                async with conn.cursor() as cursor:
                    await cursor.execute("SELECT count(*) FROM information_schema.PROCESSLIST "
                                         "WHERE DB = %s AND INFO LIKE %s", (self.schema, f"UPDATE `{self.table}`%"))
                    row = await cursor.fetchone()
                return int(row[0])

            yield waiting
            await conn.rollback()
        finally:
            conn.close()

    async def close(self) -> None:
        for db in self.opened:
            await db._aclose()
        if self.opened:  # (MySQL warns about dropping a database that was never made)
            await drop_database(self.backend, self.resource)


@pytest.fixture(params=sorted(SERVERS))
async def server(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Server]:
    require_service(request.param, "127.0.0.1", SERVERS[request.param][1])
    server = Server(request.param, tmp_path)
    try:
        yield server
    finally:
        await server.close()


async def _until_waiting(waiting: Waiting, count: int) -> None:
    """Poll the server until ``count`` D1 queries wait on the lock (for at most 5 s)."""
    for _ in range(500):
        if await waiting() >= count:
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"fewer than {count} queries ever waited on the lock")


async def _with_table(server: Server, options: str = "") -> D1Database:
    db = await server.open(options)
    await db.exec(f"CREATE TABLE {server.table} (id INTEGER PRIMARY KEY, v INTEGER NOT NULL)")
    await db.prepare(f"INSERT INTO {server.table} (v) VALUES (0)").run()
    return db


@pytest.mark.parametrize("pool_size", [1, 3])
async def test_pool_size_bounds_the_connections_a_database_uses(server: Server, pool_size: int) -> None:
    db = await _with_table(server, f"pool_size={pool_size}")
    update = db.prepare(f"UPDATE {server.table} SET v = v + 1")
    async with server.locked() as waiting:
        updates = [asyncio.create_task(update.run()) for _ in range(pool_size + 2)]
        await _until_waiting(waiting, pool_size)
        await asyncio.sleep(0.2)  # room for one connection too many to show up
        assert await waiting() == pool_size  # the others queue in the binding, not on the server
    results = await asyncio.gather(*updates)
    assert [r.meta.changes for r in results] == [1] * (pool_size + 2)
    assert await db.prepare(f"SELECT v FROM {server.table}").first("v") == pool_size + 2


async def test_a_cancelled_query_leaves_the_binding_usable(server: Server) -> None:
    db = await _with_table(server)
    backend = db.backend
    assert isinstance(backend, ServerD1Backend)
    async with server.locked() as waiting:
        update = asyncio.create_task(db.prepare(f"UPDATE {server.table} SET v = v + 1").run())
        await _until_waiting(waiting, 1)
        update.cancel()
        with pytest.raises(asyncio.CancelledError):
            await update
        assert backend.connections.pinned is None  # handed back to the pool to be cleaned up or dropped
        # The table is still locked, and the next query works on a sound connection meanwhile.
        assert await db.prepare("SELECT 40 + ? AS n").bind(2).first("n") == 42
        assert backend.connections.pinned is not None
    assert await db.prepare(f"SELECT count(*) AS n FROM {server.table}").first("n") == 1
    if server.backend == "postgres":
        # PostgreSQL cancels the query on the server (MySQL's runs on once the client is gone).
        assert await db.prepare(f"SELECT v FROM {server.table}").first("v") == 0


async def test_a_pinned_connection_the_server_closed_is_replaced(server: Server) -> None:
    db = await server.open()
    backend = db.backend
    assert isinstance(backend, ServerD1Backend)
    assert await db.prepare("SELECT 1 AS one").first("one") == 1
    pinned = backend.connections.pinned
    if server.backend == "postgres":
        await admin_execute("postgres", f"SELECT pg_terminate_backend({pinned.get_server_pid()})")
    else:
        await admin_execute("mysql", f"KILL {pinned.thread_id()}")
    await asyncio.sleep(0.1)  # the driver sees the connection end
    assert await db.prepare("SELECT 2 AS two").first("two") == 2  # not "connection lost"
    assert backend.connections.pinned is not pinned


def _count_translations(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    calls: list[str] = []
    real = server_module.translate

    def counting(sql: str, dialect: str, catalog: Catalog) -> Translation:
        calls.append(sql)
        return real(sql, dialect, catalog)

    monkeypatch.setattr(server_module, "translate", counting)
    return calls


async def test_a_statement_is_translated_once_until_the_schema_changes(
        server: Server, monkeypatch: pytest.MonkeyPatch) -> None:
    translated = _count_translations(monkeypatch)
    db = await server.open()
    await db.exec("CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT)")
    insert = db.prepare("INSERT INTO t (id, a) VALUES (?, ?)")
    await insert.bind(1, "x").run()
    select = db.prepare("SELECT * FROM t WHERE id = ?")
    translated.clear()
    for _ in range(3):
        assert await select.bind(1).first() == {"id": 1, "a": "x"}
    assert translated == [select.statement]

    await db.exec("ALTER TABLE t ADD COLUMN b INTEGER")
    translated.clear()
    assert await select.bind(1).first() == {"id": 1, "a": "x", "b": None}  # not the cached column list
    assert translated == [select.statement]

    # The table made again with other types: the same statement's parameter follows the new type.
    find = db.prepare("SELECT id FROM t WHERE a = ?")
    assert await find.bind("x").first("id") == 1
    await db.exec("DROP TABLE t")
    await db.exec("CREATE TABLE t (id INTEGER PRIMARY KEY, a INTEGER)")
    await insert.bind(7, 8).run()
    assert await find.bind(8).first("id") == 7
    assert await find.bind("8").first("id") == 7  # SQLite's INTEGER affinity: '8' is 8


async def test_per_statement_caches_keep_only_the_most_recently_used(
        server: Server, monkeypatch: pytest.MonkeyPatch) -> None:
    size = 8
    monkeypatch.setattr(server_module, "STATEMENTS_CACHED", size)
    monkeypatch.setattr(postgres_module, "STATEMENTS_CACHED", size)
    db = await server.open()
    backend = db.backend
    assert isinstance(backend, ServerD1Backend)
    # SQL built at run time: a new text each time (on PostgreSQL the untyped ? is also cast by its type).
    for i in range(30):
        assert await db.prepare(f"SELECT ? AS x{i}").bind(i).first(f"x{i}") == i
    caches = [backend._statements]
    if isinstance(backend, postgres_module.PostgresD1Backend):
        caches += [backend._shapes, backend._rendered]
    assert [len(cache) for cache in caches] == [size] * len(caches)

    translated = _count_translations(monkeypatch)
    assert await db.prepare("SELECT ? AS x29").bind(1).first("x29") == 1  # recent: still cached
    assert translated == []
    assert await db.prepare("SELECT ? AS x0").bind(1).first("x0") == 1  # oldest: dropped, translated again
    assert translated == ["SELECT ? AS x0"]


@pytest.mark.parametrize("value", ["0", "-1", "five", ""])
async def test_pool_size_must_be_a_positive_integer(server: Server, value: str) -> None:
    with pytest.raises(BackendError, match=f"PORTFLARE_DB: pool_size must be a positive integer, not '{value}'"):
        await server.open(f"pool_size={value}")


async def test_other_url_options_reach_postgres_or_are_refused_by_mysql(server: Server) -> None:
    name = f"pf_{uuid.uuid4().hex[:10]}"
    if server.backend == "mysql":  # aiomysql takes no URL options: a dropped ssl=… would go unnoticed
        with pytest.raises(BackendError, match="takes only the options pool_size and schema, not application_name"):
            await server.open(f"application_name={name}&pool_size=2")
        return
    db = await server.open(f"application_name={name}&pool_size=2")  # asyncpg: a server setting
    assert await db.prepare("SELECT 1 AS one").first("one") == 1
    import asyncpg

    conn = await asyncpg.connect(server.url)
    try:
        assert await conn.fetchval("SELECT count(*) FROM pg_stat_activity WHERE application_name = $1", name) == 1
    finally:
        await conn.close()


async def test_ddl_of_another_process_is_seen_after_our_own(server: Server) -> None:
    # Two bindings on one database: two `portflare serve` nodes. Each has its own schema mirror.
    first, second = await server.open(), await server.open()
    await first.exec("CREATE TABLE x (id INTEGER PRIMARY KEY, v TEXT)")
    await second.exec("CREATE TABLE IF NOT EXISTS y (id INTEGER PRIMARY KEY)")  # its own DDL, after first's
    await first.prepare("INSERT INTO x (v) VALUES ('a')").run()
    assert await second.prepare("SELECT v FROM x").first("v") == "a"
    await first.exec("ALTER TABLE x ADD COLUMN w INTEGER")
    assert await second.prepare("SELECT * FROM x").first() == {"id": 1, "v": "a", "w": None}


async def test_ddl_of_another_process_met_in_a_failed_batch_is_not_lost(server: Server) -> None:
    first, second = await server.open(), await server.open()
    await first.exec("CREATE TABLE x (id INTEGER PRIMARY KEY, v TEXT)")
    with pytest.raises(JsException, match="no such table: nope"):
        await second.batch([
            second.prepare("CREATE TABLE y (id INTEGER PRIMARY KEY)"),
            second.prepare("INSERT INTO x (v) VALUES ('a')"),  # second learns of x here, inside the batch
            second.prepare("INSERT INTO nope (v) VALUES ('a')"),
        ])
    count = await second.prepare("SELECT count(*) AS n FROM x").first("n")  # x is known: no "no such table"
    if server.backend == "postgres":
        assert count == 0  # (MySQL commits a batch's writes at its DDL: see docs/d1-backends.md)

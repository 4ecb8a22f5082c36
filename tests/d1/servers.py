"""The PostgreSQL and MySQL servers the D1 tests use, and dropping a test's schema / database afterwards."""

from __future__ import annotations

import os

from portflare.bindings.d1.server import schema_name

POSTGRES_URL = os.environ.get("PORTFLARE_TEST_POSTGRES", "postgres://postgres@127.0.0.1:5432/test")
MYSQL_URL = os.environ.get("PORTFLARE_TEST_MYSQL", "mysql://root@127.0.0.1:3306/test")


async def admin_execute(backend: str, sql: str) -> None:
    """Run one statement on the server as the tests' administrator, outside any D1 database."""
    if backend == "postgres":
        import asyncpg

        conn = await asyncpg.connect(POSTGRES_URL)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()
    elif backend == "mysql":
        import aiomysql

        conn = await aiomysql.connect(host="127.0.0.1", port=3306, user="root", password="")
        try:
            async with conn.cursor() as cursor:
                await cursor.execute(sql)
        finally:
            conn.close()


async def drop_database(backend: str, resource: str) -> None:
    """Drop what a D1 database named ``resource`` left on its server (nothing for SQLite)."""
    name = schema_name(resource)
    if backend == "postgres":
        await admin_execute(backend, f'DROP SCHEMA IF EXISTS "{name}" CASCADE')
    elif backend == "mysql":
        await admin_execute(backend, f"DROP DATABASE IF EXISTS `{name}`")

"""Fixtures: a throwaway PostgreSQL schema / MariaDB database per test, holding the quiz app's old schema."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path

import pytest

from tests.conftest import require_service

PG_URL = "postgresql://postgres@127.0.0.1:5432/test"
MYSQL_URL = "mysql://root@127.0.0.1:3306/test"
FIXTURE = (Path(__file__).parent / "fixture_pg.sql").read_text()
BASE = dt.datetime(2024, 3, 1, 12, 0, 0, tzinfo=dt.UTC)


async def fill_quiz_app(conn: object, users: int = 60, results: int = 150) -> None:
    """Rows shaped like the quiz app's: referrals (self-FK, some pointing at later users), JSON, money."""
    await conn.executemany(  # type: ignore[attr-defined]
        "INSERT INTO quizzes (id, quiz_type, title, published) VALUES ($1, $2, $3, $4)",
        [("big5", "personality", "Big Five", True), ("mbti", "personality", "Type 'MBTI'\nquiz", False),
         ("iq", "skill", "Quick IQ", True)])
    rows = []
    for i in range(1, users + 1):
        rows.append((i, f"user{i}@example.com", None if i % 7 == 0 else f"Üser {i} 🎉", ["free", "plus", "team"][i % 3],
                     i % 5 == 0, Decimal(f"{i * 3}.{i % 100:02d}"), [f"t{i % 4}", "x,y", 'q"uote'][: i % 4],
                     (i % users) + 1 if i % 4 == 0 else None, uuid.UUID(int=i) if i % 2 else None,
                     bytes([i % 256, 0, 255]) if i % 3 == 0 else None,
                     dt.date(1990, 1, 1) + dt.timedelta(days=i) if i % 2 else None, i / 8 if i % 6 else None,
                     BASE + dt.timedelta(hours=i)))
    # referred_by may point at a later user: insert without the FK first, then set it
    await conn.executemany(  # type: ignore[attr-defined]
        "INSERT INTO users (id, email, display_name, plan, is_admin, balance, tags, external_id, avatar, "
        "birthday, score, created_at) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12)",
        [(*r[:7], *r[8:]) for r in rows])
    await conn.executemany("UPDATE users SET referred_by = $2 WHERE id = $1",  # type: ignore[attr-defined]
                           [(r[0], r[7]) for r in rows if r[7] is not None])
    await conn.execute("SELECT setval(pg_get_serial_sequence('users', 'id'), $1)", users)  # type: ignore[attr-defined]
    results_rows = []
    for i in range(results):
        results_rows.append((uuid.UUID(int=10_000 + i), ["big5", "mbti", "iq"][i % 3],
                             (i % users) + 1 if i % 10 else None,
                             json.dumps({"q1": i % 5 + 1, "q2": [1, 2], "note": "héllo"}),
                             json.dumps({"openness": i % 100, "z": None}),
                             Decimal("4.99") if i % 2 else None, BASE + dt.timedelta(minutes=i, seconds=30)))
    await conn.executemany(  # type: ignore[attr-defined]
        "INSERT INTO quiz_results (id, quiz_id, user_id, answers, scores, price_paid, created_at) "
        "VALUES ($1,$2,$3,$4,$5,$6,$7)", results_rows)


async def _schema() -> AsyncIterator[str]:
    require_service("PostgreSQL", "127.0.0.1", 5432)
    import asyncpg

    name = f"pf_mig_{uuid.uuid4().hex[:10]}"
    conn = await asyncpg.connect(PG_URL)
    await conn.execute(f"CREATE SCHEMA {name}")
    try:
        yield name
    finally:
        await conn.execute(f"DROP SCHEMA {name} CASCADE")
        await conn.close()


@pytest.fixture
async def pg_schema() -> AsyncIterator[str]:
    """A fresh, empty PostgreSQL schema; dropped afterwards."""
    async for name in _schema():
        yield name


@pytest.fixture
async def empty_pg_schema() -> AsyncIterator[str]:
    """A second fresh schema, for a copy back into PostgreSQL."""
    async for name in _schema():
        yield name


@pytest.fixture
async def quiz_pg(pg_schema: str) -> str:
    """The quiz app's old PostgreSQL schema, filled; returns the schema name."""
    import asyncpg

    conn = await asyncpg.connect(PG_URL, server_settings={"search_path": pg_schema})
    try:
        await conn.execute(FIXTURE)
        await fill_quiz_app(conn)
    finally:
        await conn.close()
    return pg_schema

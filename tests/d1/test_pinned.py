"""``PinnedPool``: one connection kept for requests that come one at a time, the pool for overlapping ones.

Pure asyncio against a counting fake pool; ``test_server_pool.py`` runs the same rules on the real drivers.
"""

from __future__ import annotations

import asyncio

import pytest

from portflare.bindings.d1.base import SqlError
from portflare.bindings.d1.pinned import PinnedPool


class FakePool:
    """Hands out numbered connections, up to ``size`` at once, and records releases."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.made = 0
        self.out: set[int] = set()
        self.released: list[tuple[int, bool]] = []
        self.unusable: set[int] = set()  # closed, or left inside a transaction

    async def acquire(self) -> int:
        assert len(self.out) < self.size, "the pool would block forever: every connection is out"
        await asyncio.sleep(0)
        self.made += 1
        self.out.add(self.made)
        return self.made

    async def release(self, conn: int, broken: bool) -> None:
        self.out.remove(conn)
        self.released.append((conn, broken))

    def pinned_pool(self) -> PinnedPool[int]:
        return PinnedPool(self.acquire, self.release, lambda conn: conn not in self.unusable, self.size)


async def test_requests_one_at_a_time_share_the_pinned_connection_without_the_pool() -> None:
    fake = FakePool(3)
    pool = fake.pinned_pool()
    assert pool.take() is None  # nothing pinned yet
    first = await pool.acquire()
    assert pool.put_back(first)
    for _ in range(5):
        conn = pool.take()
        assert conn == first
        assert pool.put_back(conn)
    assert fake.made == 1 and fake.released == []  # the pool was not asked again


async def test_overlapping_requests_take_other_connections_of_the_pool() -> None:
    fake = FakePool(3)
    pool = fake.pinned_pool()
    pinned = await pool.acquire()
    assert pool.take() is None  # busy
    other = await pool.acquire()
    assert other != pinned and fake.out == {pinned, other}
    assert not pool.put_back(other)  # not the pinned one: back to the pool
    await pool.release(other, clean=True)
    assert fake.released == [(other, False)]
    assert pool.put_back(pinned)
    assert pool.take() == pinned


async def test_pool_size_one_queues_requests_for_the_pinned_connection_in_order() -> None:
    fake = FakePool(1)
    pool = fake.pinned_pool()
    order: list[str] = []

    async def request(name: str) -> None:
        async with pool.lease() as conn:
            order.append(f"{name}:{conn}")
            await asyncio.sleep(0.01)

    await asyncio.gather(*(request(n) for n in "abcd"))
    assert order == ["a:1", "b:1", "c:1", "d:1"]
    assert fake.made == 1  # the pool's one connection served everything


async def test_a_cancelled_waiter_passes_its_turn_on() -> None:
    fake = FakePool(1)
    pool = fake.pinned_pool()
    held = await pool.acquire()
    waiting = [asyncio.create_task(pool.acquire()) for _ in range(2)]
    await asyncio.sleep(0)
    assert pool.put_back(held)  # wakes the first waiter...
    waiting[0].cancel()  # ...which is cancelled before it runs
    assert await asyncio.wait_for(waiting[1], 1) == held
    with pytest.raises(asyncio.CancelledError):
        await waiting[0]


async def test_a_failed_request_unpins_and_the_pool_gets_the_connection_as_broken() -> None:
    fake = FakePool(2)
    pool = fake.pinned_pool()
    with pytest.raises(ConnectionError):
        async with pool.lease():
            raise ConnectionError("server went away")
    assert fake.released == [(1, True)] and pool.pinned is None
    async with pool.lease() as conn:
        assert conn == 2  # a fresh connection is pinned
    assert pool.pinned == 2


async def test_a_statement_error_keeps_the_connection_when_it_is_still_usable() -> None:
    fake = FakePool(2)
    pool = fake.pinned_pool()
    with pytest.raises(SqlError):
        async with pool.lease():
            raise SqlError("no such table: t")
    assert pool.pinned == 1 and fake.released == []
    with pytest.raises(SqlError):
        async with pool.lease():
            fake.unusable.add(1)  # e.g. the error left it inside a transaction, or closed it
            raise SqlError("UNIQUE constraint failed: t.id", "SQLITE_CONSTRAINT")
    assert pool.pinned is None and fake.released == [(1, True)]


async def test_close_waits_for_the_request_in_flight_then_returns_the_pinned_connection() -> None:
    fake = FakePool(2)
    pool = fake.pinned_pool()
    conn = await pool.acquire()
    closing = asyncio.create_task(pool.close())
    await asyncio.sleep(0.01)
    assert not closing.done() and fake.released == []
    assert pool.put_back(conn)
    await asyncio.wait_for(closing, 1)
    assert fake.released == [(conn, False)] and fake.out == set()


async def test_a_pinned_connection_closed_while_idle_is_replaced() -> None:
    fake = FakePool(2)
    pool = fake.pinned_pool()
    assert pool.put_back(await pool.acquire())
    fake.unusable.add(1)  # the server closed it meanwhile
    assert pool.take() is None
    conn = await pool.acquire()
    assert conn == 2 and fake.released == [(1, True)]

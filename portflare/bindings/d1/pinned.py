"""A driver's connection pool with one connection kept out of it for requests that come one at a time.

Taking a connection from asyncpg's pool and giving it back costs ~20 µs and several turns of the event loop
per query (the release resets the connection in a shielded task; aiomysql's wakes waiters in a new task):
a third of a PostgreSQL point query. Most of a Worker's queries do not overlap, so the first connection
taken stays *pinned* and serves every request that finds it free, taken and given back without an await;
only requests that overlap one in flight take connections from the pool. The pinned connection is one of
the pool's, so ``pool_size`` still bounds the total; with ``pool_size=1`` requests queue for it.

A request that ends with anything but a clean result or a statement's own error (a lost connection, a
cancellation) hands the pinned connection back to the pool, whose release cleans it up or drops it, and the
next request pins a fresh one; so does a request that finds the pinned connection closed (by the server, while
it was idle), as the pool's own acquire would.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Generic, TypeVar

from portflare.bindings.d1.base import SqlError

C = TypeVar("C")


class PinnedPool(Generic[C]):
    """``acquire``/``release`` are the pool's; ``usable(conn)`` says a connection is open and outside a
    transaction, so it can serve the next request as it is.

    The hot path is ``take()`` (None: ``await acquire()`` instead) and ``put_back()`` (False: ``await
    release()`` instead), both synchronous; ``lease()`` wraps them for code that is not hot.
    """

    def __init__(self, acquire: Callable[[], Awaitable[C]], release: Callable[[C, bool], Awaitable[None]],
                 usable: Callable[[C], bool], size: int) -> None:
        self._acquire = acquire
        self._release = release  # (connection, broken): a broken one must not serve again as it is
        self._usable = usable
        self._size = size
        self._pinned: C | None = None
        self._busy = False  # a request holds the pinned connection (or is opening it)
        self._waiters: deque[asyncio.Future[None]] = deque()  # requests queued for it (pool_size=1)

    @property
    def pinned(self) -> C | None:
        return self._pinned

    def take(self) -> C | None:
        """The pinned connection if it is free, taken now; None if the caller must ``await acquire()``."""
        pinned = self._pinned
        if self._busy or pinned is None or not self._usable(pinned):  # e.g. the server closed it while idle
            return None
        self._busy = True
        return pinned

    async def acquire(self) -> C:
        """A connection when ``take()`` had none: another of the pool's while the pinned one is busy, or the
        pinned one (opened now if there is none, or once it is free with ``pool_size=1``)."""
        if self._busy and self._size > 1:
            return await self._acquire()
        await self._turn()
        try:
            if self._pinned is not None and not self._usable(self._pinned):
                stale, self._pinned = self._pinned, None
                await self._release(stale, True)
            if self._pinned is None:
                self._pinned = await self._acquire()
        except BaseException:
            self._free()
            raise
        return self._pinned

    def put_back(self, conn: C) -> bool:
        """Give back ``conn`` after a clean request, now, if it is the pinned one; False: ``await release()``."""
        if conn is not self._pinned:
            return False
        self._free()
        return True

    async def release(self, conn: C, *, clean: bool) -> None:
        """Give back ``conn``; ``clean``: the request ended normally or with its statement's own error."""
        if conn is not self._pinned:
            await self._release(conn, not clean)
            return
        try:
            if not (clean and self._usable(conn)):
                self._pinned = None
                await self._release(conn, True)
        finally:
            self._free()

    @asynccontextmanager
    async def lease(self) -> AsyncIterator[C]:
        """``async with pool.lease() as conn``: a connection for one request."""
        conn = self.take()
        if conn is None:
            conn = await self.acquire()
        try:
            yield conn
        except BaseException as exc:
            await self.release(conn, clean=isinstance(exc, SqlError))
            raise
        if not self.put_back(conn):
            await self.release(conn, clean=True)

    async def close(self) -> None:
        """Return the pinned connection to the pool (whose close waits for all of them)."""
        await self._turn()
        conn, self._pinned = self._pinned, None
        try:
            if conn is not None:
                await self._release(conn, False)
        finally:
            self._free()

    async def _turn(self) -> None:
        """Wait until no request holds the pinned connection, then hold it."""
        while self._busy:
            waiter = asyncio.get_running_loop().create_future()
            self._waiters.append(waiter)
            try:
                await waiter
            except BaseException:
                if not self._busy:
                    self._wake()  # we were woken but will not take it: pass the turn on
                raise
            finally:
                self._waiters.remove(waiter)
        self._busy = True

    def _free(self) -> None:
        self._busy = False
        self._wake()

    def _wake(self) -> None:
        for waiter in self._waiters:
            if not waiter.done():
                waiter.set_result(None)
                return

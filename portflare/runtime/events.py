"""``EventContext``: the ``ctx`` of a queue batch or a cron run, whose event lasts until its ``waitUntil`` work settles.

workerd runs a ``queue``/``scheduled`` handler as one more waitUntil task of its event and reports the
event's outcome only once every waitUntil task has settled (``finishScheduled()``, then
``waitUntilStatus()``): a batch is acked or retried after that work, and a rejected waitUntil promise fails
the event as a throw does. A fetch's waitUntil work, by contrast, outlives the response: that stays
``ExecutionContext``'s behaviour. The tasks still belong to the host's ``BackgroundTasks`` (so a failure is
logged as it happens and shutdown waits for them); this context also keeps them, to wait for them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any

from portflare.runtime.context import ExecutionContext


class WaitUntilError(Exception):
    """A ``ctx.waitUntil()`` task of a queue batch or cron run failed (or was cancelled): the event failed."""


class EventContext(ExecutionContext):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._pending: list[asyncio.Future[Any]] = []

    def wait_until(self, awaitable: Awaitable[Any]) -> None:
        self._pending.append(self._tasks.add(awaitable))

    waitUntil = wait_until

    async def complete(self, handler: Awaitable[Any]) -> None:
        """Await the handler, then every waitUntil task it (or they) started.

        Raises what the handler raised (after its waitUntil work settled, as workerd reports the event only
        then), else ``WaitUntilError`` for the first failed task. If this is cancelled (the wall-time limit,
        a shutdown), the event's unfinished waitUntil tasks are cancelled with it.
        """
        try:
            await handler
        except asyncio.CancelledError:
            self._cancel()
            raise
        except Exception:
            await self._settle()
            raise
        await self._settle()
        for task in self._pending:
            if task.cancelled():
                raise WaitUntilError("a ctx.waitUntil() task was cancelled")
            exc = task.exception()
            if exc is not None:
                raise WaitUntilError(f"a ctx.waitUntil() task failed: {type(exc).__name__}: {exc}") from exc

    async def _settle(self) -> None:
        waited = 0
        try:
            while waited < len(self._pending):  # a task may start more with ctx.waitUntil meanwhile
                batch = self._pending[waited:]
                await asyncio.wait(batch)
                waited += len(batch)
        except asyncio.CancelledError:
            self._cancel()
            raise

    def _cancel(self) -> None:
        for task in self._pending:
            task.cancel()

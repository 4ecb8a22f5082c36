"""``ExecutionContext``: the ``ctx`` of an event, whose ``wait_until`` keeps work running after the response.

Tasks handed to ``wait_until`` belong to a ``BackgroundTasks`` set the host owns: a failure is logged when it
happens (never lost), and at shutdown the host waits for what is still running, up to a bound.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable
from typing import Any

from portflare.jsobject import JsDict

log = logging.getLogger("portflare.worker")


class BackgroundTasks:
    """Tasks started by ``wait_until`` and not yet finished."""

    def __init__(self) -> None:
        self._tasks: set[asyncio.Future[Any]] = set()

    def add(self, awaitable: Awaitable[Any]) -> asyncio.Future[Any]:
        try:
            task = asyncio.ensure_future(awaitable)
        except TypeError:
            raise TypeError(f"waitUntil() needs a coroutine, task or future, got {type(awaitable).__name__}") from None
        self._tasks.add(task)
        task.add_done_callback(self._done)
        return task

    def _done(self, task: asyncio.Future[Any]) -> None:
        self._tasks.discard(task)
        if task.cancelled():
            return
        exc = task.exception()
        if exc is not None:
            log.error("A waitUntil() task failed", exc_info=(type(exc), exc, exc.__traceback__))

    def __len__(self) -> int:
        return len(self._tasks)

    async def drain(self, grace: float) -> None:
        """Wait for running tasks (including ones they start) up to ``grace`` seconds; cancel the rest."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + grace
        while self._tasks:
            remaining = deadline - loop.time()
            if remaining <= 0:
                break
            await asyncio.wait(set(self._tasks), timeout=remaining)
        if self._tasks:
            log.warning("Cancelling %d waitUntil() task(s) still running after %.0fs", len(self._tasks), grace)
            pending = set(self._tasks)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)


class ExecutionContext:
    """The ``ctx`` passed to handlers (``self.ctx`` on a ``WorkerEntrypoint``)."""

    def __init__(self, tasks: BackgroundTasks | None = None, props: Any = None) -> None:
        self._tasks = tasks if tasks is not None else BackgroundTasks()
        self.props = JsDict(props or {})
        self.passed_through = False

    def wait_until(self, awaitable: Awaitable[Any]) -> None:
        self._tasks.add(awaitable)

    waitUntil = wait_until

    def pass_through_on_exception(self) -> None:
        """Record that an exception should fall through to the origin (here: static assets, if any)."""
        self.passed_through = True

    passThroughOnException = pass_through_on_exception

    def to_py(self, *args: Any, **kwargs: Any) -> ExecutionContext:
        return self

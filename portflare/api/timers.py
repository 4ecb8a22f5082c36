"""``setTimeout``/``clearTimeout`` and ``Promise`` for Worker code that reaches them through ``js``.

Both live on the running event loop (a Worker's code always runs on one). A timer's callback may be a plain
function or an ``async def``; a coroutine it returns is run as a task. Promises are asyncio futures, so
``await`` works on them as on a JS promise under Pyodide; a rejection with a value that is not an exception
raises ``JsException`` carrying it, as awaiting a rejected JS promise does.
"""

from __future__ import annotations

import asyncio
import inspect
import itertools
import logging
import math
from collections.abc import Callable, Iterable
from typing import Any

from portflare.errors import JsException

log = logging.getLogger("portflare.worker")

_ids = itertools.count(1)
_timers: dict[int, asyncio.TimerHandle] = {}
_tasks: set[asyncio.Task[Any]] = set()  # strong references: the loop keeps only weak ones


def _delay_seconds(delay: Any) -> float:
    try:
        ms = float(delay or 0)
    except (TypeError, ValueError):
        return 0.0
    return ms / 1000 if math.isfinite(ms) and ms > 0 else 0.0  # NaN, negative, undefined: now, as in JS


def _run_callback(callback: Callable[..., Any], args: tuple[Any, ...]) -> None:
    result = callback(*args)
    if inspect.isawaitable(result):
        task = asyncio.ensure_future(result)
        _tasks.add(task)
        task.add_done_callback(_finished)


def _finished(task: asyncio.Task[Any]) -> None:
    _tasks.discard(task)
    if not task.cancelled() and task.exception() is not None:
        log.error("Uncaught exception in a setTimeout callback", exc_info=task.exception())


def setTimeout(callback: Callable[..., Any], delay: Any = 0, *args: Any) -> int:
    """Call ``callback(*args)`` after ``delay`` milliseconds; returns the id ``clearTimeout`` takes."""
    loop = asyncio.get_running_loop()
    timer_id = next(_ids)

    def fire() -> None:
        _timers.pop(timer_id, None)
        _run_callback(callback, args)

    _timers[timer_id] = loop.call_later(_delay_seconds(delay), fire)
    return timer_id


def clearTimeout(timer_id: Any = None) -> None:
    """Cancel a pending timer; an unknown or already fired id is ignored, as in JS."""
    handle = _timers.pop(timer_id, None) if isinstance(timer_id, int) else None
    if handle is not None:
        handle.cancel()


def _as_exception(reason: Any) -> BaseException:
    if isinstance(reason, BaseException):
        return reason
    return JsException(str(reason))


class Promise:
    """``Promise.new(executor)``, ``Promise.resolve/reject/all/allSettled/race``: each returns an awaitable."""

    @staticmethod
    def new(executor: Callable[[Callable[..., None], Callable[..., None]], Any]) -> asyncio.Future[Any]:
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()

        def resolve(value: Any = None) -> None:
            if not future.done():
                future.set_result(value)

        def reject(reason: Any = None) -> None:
            if not future.done():
                future.set_exception(_as_exception(reason))

        try:
            executor(resolve, reject)
        except Exception as exc:  # a throwing executor rejects the promise
            reject(exc)
        return future

    @staticmethod
    def resolve(value: Any = None) -> asyncio.Future[Any]:
        if inspect.isawaitable(value):
            return asyncio.ensure_future(value)
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        future.set_result(value)
        return future

    @staticmethod
    def reject(reason: Any = None) -> asyncio.Future[Any]:
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        future.set_exception(_as_exception(reason))
        return future

    @staticmethod
    def all(values: Iterable[Any]) -> asyncio.Future[list[Any]]:
        return asyncio.ensure_future(_all([Promise.resolve(v) for v in values]))

    @staticmethod
    def allSettled(values: Iterable[Any]) -> asyncio.Future[list[dict[str, Any]]]:
        return asyncio.ensure_future(_all_settled([Promise.resolve(v) for v in values]))

    @staticmethod
    def race(values: Iterable[Any]) -> asyncio.Future[Any]:
        return asyncio.ensure_future(_race([Promise.resolve(v) for v in values]))


async def _all(futures: list[asyncio.Future[Any]]) -> list[Any]:
    return list(await asyncio.gather(*futures))


async def _all_settled(futures: list[asyncio.Future[Any]]) -> list[dict[str, Any]]:
    from portflare.jsobject import JsDict

    outcomes = await asyncio.gather(*futures, return_exceptions=True)
    return [JsDict(status="rejected", reason=o) if isinstance(o, BaseException)
            else JsDict(status="fulfilled", value=o) for o in outcomes]


async def _race(futures: list[asyncio.Future[Any]]) -> Any:
    if not futures:  # JS: a race of nothing never settles
        return await asyncio.get_running_loop().create_future()
    done, _ = await asyncio.wait(futures, return_when=asyncio.FIRST_COMPLETED)
    return next(iter(done)).result()

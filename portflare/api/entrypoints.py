"""The classes a Worker subclasses, and the ``@handler`` decorator for legacy module-level handlers."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])


class _Entrypoint:
    """Base for Worker classes: the runtime creates one instance per event as ``cls(ctx, env)``."""

    def __init__(self, ctx: Any, env: Any) -> None:
        self.ctx = ctx
        self.env = env


class WorkerEntrypoint(_Entrypoint):
    """``class Default(WorkerEntrypoint)`` is the Worker's default export; other subclasses are named ones."""


class DurableObject(_Entrypoint):
    """A Durable Object class: ``ctx`` is its state (``ctx.storage``, ``ctx.id``)."""


class WorkflowEntrypoint(_Entrypoint):
    """A Workflow class: ``async def run(self, event, step)``."""


def handler(func: F) -> F:
    """Mark a legacy ``on_fetch``-style handler as taking SDK objects.

    On Cloudflare it converts the raw JS request/env into ``workers.Request``/the env wrapper; ours are
    already those, so it only keeps the call shape (and sync/async-ness) of the function.
    """
    if inspect.iscoroutinefunction(func):

        @functools.wraps(func)
        async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
            return await func(*args, **kwargs)

        return async_wrapper  # type: ignore[return-value]
    return func

"""``WorkerHandlers``: every Worker shape adapted once, at load, to one calling convention.

Whether the Worker is ``class Default(WorkerEntrypoint)`` or module-level ``on_fetch``, sync or async, and
whatever arity its handlers declare, the host calls ``handlers.fetch(request, env, ctx)``,
``handlers.scheduled(controller, env, ctx)`` and ``handlers.queue(batch, env, ctx)``.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

from portflare.api.current import event_scope
from portflare.api.response import Response

# (event, env, ctx) -> whatever the user's handler returned
EventHandler = Callable[[Any, Any, Any], Awaitable[Any]]


def _arity(func: Callable[..., Any], *, bound_self: bool) -> int:
    """How many leading positional arguments ``func`` accepts (3 for ``*args``)."""
    try:
        params = list(inspect.signature(func).parameters.values())
    except (TypeError, ValueError):
        return 3
    if bound_self and params:
        params = params[1:]
    if any(p.kind is inspect.Parameter.VAR_POSITIONAL for p in params):
        return 3
    positional = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    return min(3, sum(1 for p in params if p.kind in positional))


async def _settle(result: Any) -> Any:
    return await result if inspect.isawaitable(result) else result


def function_handler(func: Callable[..., Any]) -> EventHandler:
    """A module-level ``on_*`` function, called with as many of (event, env, ctx) as it accepts."""
    n = _arity(func, bound_self=False)
    if inspect.iscoroutinefunction(func):  # the common case: await directly, no isawaitable check per call

        async def call_async(event: Any, env: Any, ctx: Any) -> Any:
            return await func(*(event, env, ctx)[:n])

        return call_async

    async def call(event: Any, env: Any, ctx: Any) -> Any:
        return await _settle(func(*(event, env, ctx)[:n]))

    return call


def method_handler(cls: type, name: str) -> EventHandler:
    """A method of an entrypoint class; one instance per event, built as ``cls(ctx, env)``.

    Cloudflare calls ``fetch`` with relaxed arity and ``scheduled``/``queue`` as ``(event, None, None)``.
    We pass the real env and ctx in those slots instead of None: every Cloudflare sample and most user code
    reads them (``async def scheduled(self, controller, env, ctx)``), and None would only break it. A method
    declaring fewer parameters (``scheduled(self, controller)``, ``fetch(self)``) gets fewer arguments.
    """
    n = _arity(getattr(cls, name), bound_self=True)

    async def call(event: Any, env: Any, ctx: Any) -> Any:
        result = getattr(cls(ctx, env), name)(*(event, env, ctx)[:n])
        return await result if inspect.isawaitable(result) else result  # inline: one coroutine less per event

    return call


def as_response(value: Any) -> Response:
    """The Response a fetch handler returned, unwrapping ``.js_object`` / ``.js_response`` holders."""
    if isinstance(value, Response):
        return value
    for attr in ("js_object", "js_response"):
        inner = getattr(value, attr, None)
        if isinstance(inner, Response):
            return inner
    raise TypeError(f"The Worker's fetch handler returned {type(value).__name__}, not a Response; return "
                    f"`Response(...)` (from workers import Response)")


@dataclass
class WorkerHandlers:
    """A loaded Worker: its event handlers in one shape, plus its exported classes by name."""

    module: ModuleType
    default: type | None = None
    entrypoints: dict[str, type] = field(default_factory=dict)  # named WorkerEntrypoint classes (RPC targets)
    durable_objects: dict[str, type] = field(default_factory=dict)
    workflows: dict[str, type] = field(default_factory=dict)
    fetch_handler: EventHandler | None = None
    scheduled_handler: EventHandler | None = None
    queue_handler: EventHandler | None = None

    @property
    def has_fetch(self) -> bool:
        return self.fetch_handler is not None

    @property
    def has_scheduled(self) -> bool:
        return self.scheduled_handler is not None

    @property
    def has_queue(self) -> bool:
        return self.queue_handler is not None

    async def fetch(self, request: Any, env: Any, ctx: Any) -> Response:
        if self.fetch_handler is None:
            raise RuntimeError("Handler does not export a fetch() function.")
        with event_scope(env, ctx):
            return as_response(await self.fetch_handler(request, env, ctx))

    async def scheduled(self, controller: Any, env: Any, ctx: Any) -> None:
        if self.scheduled_handler is None:
            raise RuntimeError("Handler does not export a scheduled() function.")
        with event_scope(env, ctx):
            await self.scheduled_handler(controller, env, ctx)

    async def queue(self, batch: Any, env: Any, ctx: Any) -> None:
        if self.queue_handler is None:
            raise RuntimeError("Handler does not export a queue() function.")
        with event_scope(env, ctx):
            await self.queue_handler(batch, env, ctx)

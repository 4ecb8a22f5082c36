"""Which env and ExecutionContext the running code sees (for ``workers.env`` and ``workers.wait_until``).

Inside an event the runtime sets context variables; outside one (at import time, in background tasks started
at startup) the process-wide values apply, so ``from workers import env`` works at module level.
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

_env: contextvars.ContextVar[Any] = contextvars.ContextVar("portflare_env", default=None)
_ctx: contextvars.ContextVar[Any] = contextvars.ContextVar("portflare_ctx", default=None)
_process: dict[str, Any] = {"env": None, "ctx": None}


def set_process_env(env: Any, ctx: Any = None) -> None:
    """The env (and fallback ctx for ``wait_until`` outside events) for the whole process."""
    _process["env"], _process["ctx"] = env, ctx


def current_env() -> Any:
    env = _env.get()
    return env if env is not None else _process["env"]


def current_ctx() -> Any:
    ctx = _ctx.get()
    return ctx if ctx is not None else _process["ctx"]


@contextmanager
def event_scope(env: Any, ctx: Any) -> Iterator[None]:
    """Run one event (a request, a cron tick, a queue batch) with this env and ctx current."""
    env_token, ctx_token = _env.set(env), _ctx.set(ctx)
    try:
        yield
    finally:
        _env.reset(env_token)
        _ctx.reset(ctx_token)


@contextmanager
def override_env(env: Any) -> Iterator[None]:
    token = _env.set(env)
    try:
        yield
    finally:
        _env.reset(token)

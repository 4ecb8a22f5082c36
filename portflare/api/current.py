"""Which env and ExecutionContext the running code sees (for ``workers.env`` and ``workers.wait_until``).

Inside an event the runtime sets context variables; outside one (at import time, in background tasks started
at startup) the process-wide values apply, so ``from workers import env`` works at module level.
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
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


class _EventScope:
    # A plain class rather than @contextmanager: entered twice per request, and a generator costs more.
    __slots__ = ("_ctx", "_env", "_tokens")

    def __init__(self, env: Any, ctx: Any) -> None:
        self._env, self._ctx = env, ctx

    def __enter__(self) -> None:
        self._tokens = (_env.set(self._env), _ctx.set(self._ctx))

    def __exit__(self, *exc_info: object) -> None:
        env_token, ctx_token = self._tokens
        _env.reset(env_token)
        _ctx.reset(ctx_token)


def event_scope(env: Any, ctx: Any) -> AbstractContextManager[None]:
    """Run one event (a request, a cron tick, a queue batch) with this env and ctx current."""
    return _EventScope(env, ctx)


@contextmanager
def override_env(env: Any) -> Iterator[None]:
    token = _env.set(env)
    try:
        yield
    finally:
        _env.reset(token)

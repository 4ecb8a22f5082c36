"""Module-level ``workers`` helpers: ``env``, ``wait_until``, ``patch_env``, RPC value conversion, and
``import_from_javascript``."""

from __future__ import annotations

import datetime
import types
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from portflare.api import current
from portflare.jsobject import JsDict, JsList, js_value


class _EnvProxy:
    """``workers.env``: whichever env is current (the event's, else the process's), resolved on each access.

    ``from workers import env`` binds this proxy at import time, before any env exists, so it must not hold
    the env itself.
    """

    __slots__ = ()

    def _target(self) -> Any:
        env = current.current_env()
        if env is None:
            raise RuntimeError("workers.env is not available yet: the runtime has not opened the env")
        return env

    def __getattr__(self, name: str) -> Any:
        return getattr(self._target(), name)

    def __getitem__(self, name: str) -> Any:
        return self._target()[name]

    def __contains__(self, name: object) -> bool:
        return name in self._target()

    def __iter__(self) -> Iterator[str]:
        return iter(self._target())

    def __dir__(self) -> list[str]:
        return dir(self._target())

    def get(self, name: str, default: Any = None) -> Any:
        return getattr(self._target(), name, default)

    def to_py(self, *args: Any, **kwargs: Any) -> Any:
        return self._target()

    def __repr__(self) -> str:
        env = current.current_env()
        return f"workers.env({env!r})"


env = _EnvProxy()


def wait_until(awaitable: Any) -> None:
    """Keep the current event alive until ``awaitable`` settles (a coroutine, task or future)."""
    ctx = current.current_ctx()
    if ctx is None:
        raise RuntimeError("wait_until() called outside the runtime: there is no ExecutionContext")
    ctx.wait_until(awaitable)


waitUntil = wait_until


class _PatchedEnv:
    """An env seen through overrides: the overrides win, everything else falls through."""

    def __init__(self, base: Any, overrides: Mapping[str, Any]) -> None:
        object.__setattr__(self, "_base", base)
        object.__setattr__(self, "_overrides", dict(overrides))

    def __getattr__(self, name: str) -> Any:
        overrides = object.__getattribute__(self, "_overrides")
        if name in overrides:
            return overrides[name]
        return getattr(object.__getattribute__(self, "_base"), name)

    def __getitem__(self, name: str) -> Any:
        return self.__getattr__(name)

    def __contains__(self, name: object) -> bool:
        return name in self._overrides or (self._base is not None and name in self._base)


@contextmanager
def patch_env(d: Mapping[str, Any] | None = None, **kwargs: Any) -> Iterator[None]:
    """Within the block, ``workers.env`` sees these values over the real ones (for tests)."""
    overrides = {**(d or {}), **kwargs}
    with current.override_env(_PatchedEnv(current.current_env(), overrides)):
        yield


def python_to_rpc(value: Any) -> Any:
    """What Cloudflare sends over RPC for ``value``; SDK objects are unwrapped via ``.js_object``."""
    if isinstance(value, (tuple, bytearray)):
        raise TypeError(f"{type(value).__name__} cannot be converted for RPC; use a list or bytes")
    js = getattr(value, "js_object", None)
    if js is not None:
        return js
    if isinstance(value, dict):
        return {k: python_to_rpc(v) for k, v in value.items()}
    if isinstance(value, list):
        return [python_to_rpc(v) for v in value]
    return value


def python_from_rpc(value: Any) -> Any:
    """What Python code receives from RPC: plain objects become ``JsDict``, arrays lists."""
    if isinstance(value, (JsDict, JsList)):
        return value
    if isinstance(value, (dict, list)):
        return js_value(value)
    if isinstance(value, datetime.datetime):
        return value
    return value


def import_from_javascript(name: str) -> Any:
    """``cloudflare:workers`` (env, waitUntil, the entrypoint classes) and a stub ``cloudflare:sockets``."""
    from portflare.api import entrypoints

    if name == "cloudflare:workers":
        return types.SimpleNamespace(
            env=env, waitUntil=wait_until, WorkerEntrypoint=entrypoints.WorkerEntrypoint,
            DurableObject=entrypoints.DurableObject, WorkflowEntrypoint=entrypoints.WorkflowEntrypoint,
        )
    if name == "cloudflare:sockets":
        return types.SimpleNamespace(connect=_sockets_connect)
    raise ImportError(f"import_from_javascript('{name}'): only 'cloudflare:workers' and 'cloudflare:sockets' "
                      f"are available")


def _sockets_connect(*args: Any, **kwargs: Any) -> Any:
    raise NotImplementedError("cloudflare:sockets connect() is not supported by portflare yet")

"""``pyodide.ffi`` on CPython: there is no JS boundary, so conversions are (near) identities.

``to_js(obj, dict_converter=Object.fromEntries)`` and ``.to_py()`` round-trip plain data, which is what
Worker code uses them for when calling bindings.
"""

import asyncio
import threading

from portflare.errors import JsException
from portflare.jsobject import JsDict, JsList

__all__ = ["JsArray", "JsException", "JsProxy", "create_once_callable", "create_proxy", "destroy_proxies",
           "run_sync", "to_js"]


class JsProxy:
    """Nothing is a JS proxy on CPython; exists for imports and ``isinstance`` checks (always False)."""


JsArray = JsList
JsMap = JsDict


def to_js(obj, *, depth=-1, pyproxies=None, create_pyproxies=True, dict_converter=None, default_converter=None,
          eager_converter=None):
    if depth == 0:
        return obj
    if isinstance(obj, dict):
        items = [(k, to_js(v, depth=depth - 1, dict_converter=dict_converter)) for k, v in obj.items()]
        return dict_converter(items) if dict_converter is not None else JsDict(items)
    if isinstance(obj, (list, tuple)):
        return JsList(to_js(v, depth=depth - 1, dict_converter=dict_converter) for v in obj)
    return obj


def create_proxy(obj, *, capture_this=False, roundtrip=True):
    return obj


def create_once_callable(obj, *, _may_syncify=False):
    return obj


def destroy_proxies(proxies):
    return None


def run_sync(awaitable):
    """Block until ``awaitable`` is done. Inside a running loop it runs on a fresh loop in another thread,
    so it must not touch objects bound to the caller's loop (bindings are; prefer ``await``)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(_wrap(awaitable))
    result = {}

    def target():
        try:
            result["value"] = asyncio.run(_wrap(awaitable))
        except BaseException as exc:  # re-raised in the caller's thread
            result["error"] = exc

    thread = threading.Thread(target=target, name="pyodide.ffi.run_sync")
    thread.start()
    thread.join()
    if "error" in result:
        raise result["error"]
    return result["value"]


async def _wrap(awaitable):
    return await awaitable

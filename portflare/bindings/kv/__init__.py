"""Workers KV: ``env.<BINDING>`` for each ``kv_namespaces`` entry.

Backends by ``PORTFLARE_<BINDING>`` URL: unset/``sqlite:///path`` → SQLite (embedded default);
``redis://``, ``rediss://``, ``valkey://``, ``valkeys://`` → Redis/Valkey shared by many nodes.
"""

from __future__ import annotations

from portflare.backends import BackendTarget, load_backend_class
from portflare.bindings.kv.base import KVBackend
from portflare.bindings.kv.binding import KVNamespace

BACKENDS = {
    "embedded": "portflare.bindings.kv.sqlite:SqliteKVBackend",
    "sqlite": "portflare.bindings.kv.sqlite:SqliteKVBackend",
    "redis": "portflare.bindings.kv.redis:RedisKVBackend",
    "rediss": "portflare.bindings.kv.redis:RedisKVBackend",
    "valkey": "portflare.bindings.kv.redis:RedisKVBackend",
    "valkeys": "portflare.bindings.kv.redis:RedisKVBackend",
}


async def open_backend(target: BackendTarget) -> KVBackend:
    backend: KVBackend = await load_backend_class("kv", BACKENDS, target).open(target)
    return backend


async def open_binding(target: BackendTarget) -> KVNamespace:
    return KVNamespace(await open_backend(target))


__all__ = ["BACKENDS", "KVNamespace", "open_backend", "open_binding"]

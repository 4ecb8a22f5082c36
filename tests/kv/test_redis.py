"""KV on Redis, what the conformance suite cannot see: URL parsing, index upkeep, the commands a listing sends."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import redis.asyncio as aioredis

from portflare.backends import BackendTarget
from portflare.bindings.kv import open_binding
from portflare.bindings.kv.binding import KVNamespace
from portflare.bindings.kv.redis import EXPIRED_TRIM, RedisKVBackend, client_from_url
from tests.conftest import require_service

REDIS_URL = "redis://127.0.0.1:6379/15"


@pytest.mark.parametrize(("url", "ssl"), [
    ("redis://127.0.0.1:6379/2", False),
    ("valkey://127.0.0.1:6379/2", False),
    ("rediss://127.0.0.1:6379/2", True),
    ("valkeys://127.0.0.1:6379/2?ssl_cert_reqs=none", True),
    ("REDISS://127.0.0.1:6379/2?max_connections=7", True),
])
async def test_url_scheme_picks_the_connection_class(url: str, ssl: bool) -> None:
    client = client_from_url(url)  # connects lazily: nothing listens for TLS here, and nothing needs to
    try:
        pool = client.connection_pool
        assert issubclass(pool.connection_class, aioredis.SSLConnection) is ssl
        assert pool.connection_kwargs["host"] == "127.0.0.1" and pool.connection_kwargs["db"] == 2
        assert pool.max_connections == (7 if "max_connections" in url else 50)
        if "ssl_cert_reqs" in url:  # redis-py's TLS options pass through
            assert pool.connection_kwargs["ssl_cert_reqs"] == "none"
    finally:
        await client.aclose()


@pytest.fixture
async def kv(tmp_path: Path) -> AsyncIterator[KVNamespace]:
    require_service("redis", "127.0.0.1", 6379)
    # One connection: everything the binding sends comes from one client address (see the MONITOR test).
    binding = await open_binding(BackendTarget(kind="kv", binding="KV", resource=f"t-{uuid.uuid4().hex}",
                                               state_dir=tmp_path, url=f"{REDIS_URL}?max_connections=1"))
    yield binding
    await binding._backend.clear()  # type: ignore[attr-defined]
    await binding._aclose()


def backend_of(kv: KVNamespace) -> RedisKVBackend:
    backend = kv._backend
    assert isinstance(backend, RedisKVBackend)
    return backend


async def server_second(client: aioredis.Redis) -> int:
    seconds, _ = await client.time()
    return int(seconds)


async def test_expired_keys_leave_the_index_without_a_listing(kv: KVNamespace) -> None:
    """Redis drops an expired hash by itself; puts with an expiration drop its name from the index, so a
    namespace of short-lived keys that is never listed does not grow its index forever."""
    backend = backend_of(kv)
    raw = backend._redis
    expires = await server_second(raw) + 1  # a 1 s TTL (below KV's 60 s minimum: only the backend allows it)
    count = EXPIRED_TRIM + EXPIRED_TRIM // 2
    for i in range(count):
        await backend.put(f"short{i:03d}", b"v", expires, None)
    await backend.put("renewed", b"v", expires, None)
    await backend.put("renewed", b"v", None, None)  # re-put without expiration: must not be trimmed
    await backend.put("later", b"v", expires, None)
    await backend.put("later", b"v", expires + 3600, None)  # a later expiration: must not be trimmed either
    assert await raw.zcard(backend._index) == count + 2
    seconds, micros = await raw.time()
    await asyncio.sleep(expires + 1 - (seconds + micros / 1e6) + 0.02)  # EXPIREAT T keeps a key through second T
    assert await server_second(raw) > expires

    assert await raw.exists(backend._values + b"short000") == 0  # gone from Redis by Redis's own expiry
    assert await kv.get("short000") is None
    forever = expires + 3600
    await backend.put("plain", b"v", None, None)  # plain puts leave the sets alone (and cost what they did)
    assert await raw.zcard(backend._index) == count + 3
    await backend.put("live1", b"v", forever, None)  # each put with an expiration trims up to EXPIRED_TRIM
    # ... names: "renewed" (first in order) and 99 short ones; "renewed" still has its hash, so stays indexed
    assert await raw.zcard(backend._index) == count + 4 - (EXPIRED_TRIM - 1)
    await backend.put("live2", b"v", forever, None)
    assert await raw.zrange(backend._index, 0, -1) == [b"later", b"live1", b"live2", b"plain", b"renewed"]
    assert await raw.zrange(backend._expirations, 0, -1) == [b"later", b"live1", b"live2"]
    assert [k["name"] for k in (await kv.list())["keys"]] == ["later", "live1", "live2", "plain", "renewed"]
    await kv.delete("later")
    assert await raw.zrange(backend._expirations, 0, -1) == [b"live1", b"live2"]


async def test_listing_drops_what_it_meets_expired(kv: KVNamespace) -> None:
    backend = backend_of(kv)
    raw = backend._redis
    await kv.put("gone", "v", expirationTtl=60)
    await raw.delete(backend._values + b"gone")  # as if Redis had expired it (the sets still name it)
    assert (await kv.list())["keys"] == []
    assert await raw.zcard(backend._index) == 0 and await raw.zcard(backend._expirations) == 0


async def test_a_listing_is_one_script_call_over_the_page_only(kv: KVNamespace) -> None:
    """Listing is O(page): one EVALSHA from the client, and inside it one ZRANGEBYLEX plus one HGET per member
    examined, never KEYS or SCAN. Recorded by MONITOR on a second connection."""
    backend = backend_of(kv)
    await kv.put("k000", "v")  # loads the script on a fresh server
    async with backend._redis.pipeline(transaction=False) as pipe:  # 300 keys, in one round trip
        for i in range(1, 300):
            name = f"k{i:03d}".encode()
            pipe.evalsha(backend._put._sha, 2, backend._index, backend._values + name, b"v", b"|", name)
        await pipe.execute()
    info = await backend._redis.client_info()  # the binding's only connection, as MONITOR names it
    ours = str(info["addr"])
    watcher = aioredis.Redis.from_url(REDIS_URL)
    end = f"end-of-listing-{uuid.uuid4().hex}"
    try:
        async with watcher.monitor() as monitor:
            first = await kv.list(limit=10)
            page = await kv.list(limit=10, cursor=first["cursor"])
            await watcher.echo(end)  # from another connection: marks the end of the window
            seen = []
            while True:
                entry = await monitor.next_command()
                if end in entry["command"]:
                    break
                seen.append(entry)
    finally:
        await watcher.aclose()
    assert [k["name"] for k in page["keys"]] == [f"k{i:03d}" for i in range(10, 20)]

    calls = [i for i, e in enumerate(seen) if f"{e['client_address']}:{e['client_port']}" == ours]
    assert [seen[i]["command"].split()[0].upper() for i in calls] == ["EVALSHA", "EVALSHA"]
    for i in calls:  # a script's own commands follow its call, uninterrupted (scripts are atomic)
        inner = []
        for entry in seen[i + 1:]:
            if entry["client_type"] != "lua":
                break
            inner.append(entry["command"].split()[0].upper())
        assert inner.count("ZRANGEBYLEX") == 1
        assert inner.count("HGET") == 11  # the page and one more, to know whether more follow
        assert set(inner) <= {"TIME", "ZRANGEBYSCORE", "ZRANGEBYLEX", "HGET"}  # TIME, ZRANGEBYSCORE: the trim
    assert not [e for e in seen if e["command"].split()[0].upper() in ("KEYS", "SCAN") and
                (e["client_type"] == "lua" or f"{e['client_address']}:{e['client_port']}" == ours)]


async def test_a_flushed_server_gets_the_scripts_again(kv: KVNamespace) -> None:
    backend = backend_of(kv)
    await kv.put("k", "v")
    backend._put._sha = "0" * 40  # as after SCRIPT FLUSH or a restart (not run here: the server is shared)
    await kv.put("k2", "v2")
    assert [k["name"] for k in (await kv.list())["keys"]] == ["k", "k2"]

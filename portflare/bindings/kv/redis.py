"""KV on Redis or Valkey, shared by any number of portflare nodes.

URL: ``redis://[user:password@]host:6379/0`` (``rediss://`` for TLS; ``valkey://``/``valkeys://`` are the same),
with ``?max_connections=N`` to size the pool.

Layout, per namespace (``portflare:kv:<namespace id>:``):
- ``…:v:<key>`` a hash {value, expiration, metadata}, with the Redis expiry set to the KV expiration, so an
  expired key disappears by itself and is never returned stale;
- ``…:idx`` a sorted set of key names, all with score 0, so ``ZRANGEBYLEX`` walks keys in byte order from a
  cursor without scanning the keyspace. Members whose hash expired are dropped from the index lazily, when a
  listing meets them.
Writes go through MULTI/EXEC so value, metadata and index change together.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from urllib.parse import parse_qs, urlsplit, urlunsplit

import redis.asyncio as aioredis

from portflare.backends import BackendTarget
from portflare.bindings.kv.base import Entry, ListedKey, is_live

_SCHEMES = {"redis": "redis", "valkey": "redis", "rediss": "rediss", "valkeys": "rediss"}
LIST_FETCH = 256  # index members read per round trip while listing


def client_from_url(url: str) -> aioredis.Redis:
    parts = urlsplit(url)
    query = parse_qs(parts.query)
    max_connections = int(query.pop("max_connections", ["50"])[0])
    scheme = _SCHEMES.get(parts.scheme.lower(), parts.scheme)
    rest = "&".join(f"{k}={v[0]}" for k, v in query.items())
    normalised = urlunsplit((scheme, parts.netloc, parts.path, rest, ""))
    return aioredis.Redis.from_url(normalised, max_connections=max_connections, decode_responses=False)


class RedisKVBackend:
    def __init__(self, client: aioredis.Redis, namespace: str) -> None:
        self._redis = client
        self._prefix = f"portflare:kv:{namespace}:".encode()
        self._index = self._prefix + b"idx"

    @classmethod
    async def open(cls, target: BackendTarget) -> RedisKVBackend:
        assert target.url is not None
        return cls(client_from_url(target.url), target.resource)

    def _data_key(self, key: str) -> bytes:
        return self._prefix + b"v:" + key.encode("utf-8")

    @staticmethod
    def _entry(fields: Sequence[Any], now: float) -> Entry | None:
        value, expiration, metadata = fields
        if value is None:
            return None
        exp = int(expiration) if expiration else None
        if not is_live(exp, now):
            return None
        return Entry(bytes(value), exp, metadata.decode("utf-8") if metadata else None)

    async def get(self, key: str, now: float) -> Entry | None:
        fields = await self._redis.hmget(self._data_key(key), ["value", "expiration", "metadata"])
        return self._entry(fields, now)

    async def get_many(self, keys: Sequence[str], now: float) -> dict[str, Entry | None]:
        async with self._redis.pipeline(transaction=False) as pipe:
            for key in keys:
                pipe.hmget(self._data_key(key), ["value", "expiration", "metadata"])
            replies = await pipe.execute()
        return {key: self._entry(fields, now) for key, fields in zip(keys, replies, strict=True)}

    async def put(self, key: str, value: bytes, expiration: int | None, metadata: str | None) -> None:
        data_key = self._data_key(key)
        mapping: dict[str, bytes | str | int] = {"value": value}
        if expiration is not None:
            mapping["expiration"] = expiration
        if metadata is not None:
            mapping["metadata"] = metadata
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.delete(data_key)
            pipe.hset(data_key, mapping=mapping)  # type: ignore[arg-type]
            if expiration is not None:
                pipe.expireat(data_key, expiration)
            pipe.zadd(self._index, {key.encode("utf-8"): 0})
            await pipe.execute()

    async def delete(self, key: str) -> None:
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.delete(self._data_key(key))
            pipe.zrem(self._index, key.encode("utf-8"))
            await pipe.execute()

    async def list_page(self, prefix: str, start_after: str | None, limit: int,
                        now: float) -> tuple[list[ListedKey], bool]:
        encoded_prefix = prefix.encode("utf-8")
        # 0xFF never occurs in UTF-8, so every key with the prefix sorts below prefix + 0xFF.
        upper = b"(" + encoded_prefix + b"\xff" if prefix else b"+"
        if start_after is not None and start_after.encode("utf-8") >= encoded_prefix:
            lower = b"(" + start_after.encode("utf-8")
        else:
            lower = b"[" + encoded_prefix if prefix else b"-"
        found: list[ListedKey] = []
        while len(found) <= limit:
            members: list[bytes] = await self._redis.zrangebylex(  # type: ignore[assignment]
                self._index, lower, upper, start=0, num=LIST_FETCH)
            if not members:
                break
            async with self._redis.pipeline(transaction=False) as pipe:
                for member in members:
                    pipe.hmget(self._prefix + b"v:" + member, ["value", "expiration", "metadata"])
                replies = await pipe.execute()
            stale = []
            for member, (value, expiration, metadata) in zip(members, replies, strict=True):
                exp = int(expiration) if expiration else None
                if value is None:  # the hash expired (or was deleted between calls): drop it from the index
                    stale.append(member)
                    continue
                if is_live(exp, now):
                    found.append(ListedKey(member.decode("utf-8"), exp, metadata.decode() if metadata else None))
            if stale:
                await self._redis.zrem(self._index, *stale)
            lower = b"(" + members[-1]
            if len(members) < LIST_FETCH:
                break
        return found[:limit], len(found) > limit

    async def clear(self) -> None:
        """Delete every key of this namespace (tests and migrations)."""
        cursor = 0
        while True:
            cursor, keys = await self._redis.scan(cursor, match=self._prefix + b"*", count=500)
            if keys:
                await self._redis.delete(*keys)
            if cursor == 0:
                break

    async def close(self) -> None:
        await self._redis.aclose()

"""KV on Redis or Valkey, shared by any number of portflare nodes.

URL: ``redis://[user:password@]host:6379/0`` (``rediss://`` for TLS; ``valkey://``/``valkeys://`` are the same),
with ``?max_connections=N`` to size the connection pool (default 50; more callers wait for a connection).

Layout, per namespace (``portflare:kv:<namespace id>:``):
- ``…:v:<key>`` a hash ``{v: value, m: "<expiration>|<metadata JSON>"}`` (either side of ``|`` may be empty),
  with the Redis expiry set to the KV expiration (``EXPIREAT``), so an expired key disappears by itself and
  is never returned stale; ``m`` is small and always present, so listing never reads a value;
- ``…:idx`` a sorted set of key names, all with score 0, so ``ZRANGEBYLEX`` walks keys in byte order from a
  cursor without scanning the keyspace;
- ``…:exp`` a sorted set of the names put with an expiration, scored by it. Redis drops an expired hash by
  itself but cannot touch the index, so every put with an expiration (and every listing) also removes up to
  ``EXPIRED_TRIM`` names whose expiration has passed, by the server's clock (the one ``EXPIREAT`` uses), from
  both sets. The writes that make future garbage pay for removing it, and at up to 100 per put faster than
  they make it: a namespace of short-lived keys that is never listed keeps an index about the size of its
  live keys, not of every key ever written. A listing that meets an index member whose hash is gone drops it
  too.
Every call is one Lua script (one round trip, atomic), so value, metadata, expiry and both sets change
together, and a listing never drops from the index a key another node has just written. Needs Redis >= 5
(scripts that read ``TIME`` and then write) or Valkey.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, cast
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

import redis.asyncio as aioredis
from redis.exceptions import NoScriptError, RedisError

from portflare.backends import BackendTarget, redact
from portflare.bindings.kv.base import Entry, ListedKey, is_live, storage_error
from portflare.errors import BackendError

_SCHEMES = {"redis": "redis", "valkey": "redis", "rediss": "rediss", "valkeys": "rediss"}
DEFAULT_MAX_CONNECTIONS = 50
LIST_BATCH = 256  # index members examined per round trip while listing
EXPIRED_TRIM = 100  # expired names one put or listing removes, at most (bounds the script's time)
FIELDS = (b"v", b"m")

# Removes up to EXPIRED_TRIM names whose expiration is before the server's current second from the
# expirations set (KEYS[2]) and, if their hash is gone, from the index (KEYS[1]); ``prefix`` is the data key
# prefix. Strictly before: EXPIREAT T keeps a key through T*1000 ms, so such a hash is one Redis no longer
# serves. A hash still there was re-put without an expiration since (plain puts skip the expirations set, to
# stay as cheap as before it existed): it keeps its index entry.
_TRIM = f"""
local dead = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', '(' .. redis.call('TIME')[1], 'LIMIT', 0, {EXPIRED_TRIM})
if #dead > 0 then
  redis.call('ZREM', KEYS[2], unpack(dead))
  local gone = {{}}
  for _, name in ipairs(dead) do
    if redis.call('EXISTS', prefix .. name) == 0 then gone[#gone + 1] = name end
  end
  if #gone > 0 then redis.call('ZREM', KEYS[1], unpack(gone)) end
end
"""
# KEYS: index, data key. ARGV: value, meta, member.
_PUT = """
redis.call('DEL', KEYS[2])
redis.call('HSET', KEYS[2], 'v', ARGV[1], 'm', ARGV[2])
redis.call('ZADD', KEYS[1], 0, ARGV[3])
"""
# KEYS: index, expirations, data key. ARGV: value, meta, member, expiration (epoch s), data key prefix.
# The writes that make future garbage in the index are the ones that pay for removing it.
_PUT_EXPIRING = """
redis.call('DEL', KEYS[3])
redis.call('HSET', KEYS[3], 'v', ARGV[1], 'm', ARGV[2])
redis.call('EXPIREAT', KEYS[3], ARGV[4])
redis.call('ZADD', KEYS[1], 0, ARGV[3])
redis.call('ZADD', KEYS[2], ARGV[4], ARGV[3])
local prefix = ARGV[5]
""" + _TRIM
# KEYS: index, expirations, data key. ARGV: member.
_DELETE = """
redis.call('DEL', KEYS[3])
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('ZREM', KEYS[2], ARGV[1])
"""
# KEYS: index, expirations. ARGV: data key prefix, lower, upper, count. Returns {members, metas}; a member whose
# hash is gone gets a nil meta and leaves both sets, in the same atomic step, so a concurrent put is never
# unindexed. (Both this and the trim read data keys they were not given in KEYS: fine on a standalone server,
# and the layout is not cluster-ready anyway, since a namespace's keys live in different hash slots.)
_LIST = "local prefix = ARGV[1]\n" + _TRIM + """
local members = redis.call('ZRANGEBYLEX', KEYS[1], ARGV[2], ARGV[3], 'LIMIT', 0, tonumber(ARGV[4]))
local metas = {}
for i, member in ipairs(members) do
  local meta = redis.call('HGET', prefix .. member, 'm')
  if meta then
    metas[i] = meta
  else
    metas[i] = false
    redis.call('ZREM', KEYS[1], member)
    redis.call('ZREM', KEYS[2], member)
  end
end
return {members, metas}
"""


class _Script:
    """A Lua script run with ``EVALSHA`` straight through ``execute_command``: redis-py's ``Script`` object
    costs a few µs more per call (an import and tuple copies each time), a tenth of a KV put's overhead. The
    script is loaded on the first NOSCRIPT (a new, restarted or flushed server)."""

    def __init__(self, client: aioredis.Redis, text: str) -> None:
        self._client = client
        self._execute: Callable[..., Awaitable[Any]] = client.execute_command
        self._text = text
        self._sha = hashlib.sha1(text.encode()).hexdigest()

    async def __call__(self, numkeys: int, *keys_and_args: bytes | int) -> Any:
        try:
            return await self._execute("EVALSHA", self._sha, numkeys, *keys_and_args)
        except NoScriptError:
            self._sha = await self._client.script_load(self._text)
            return await self._execute("EVALSHA", self._sha, numkeys, *keys_and_args)


def client_from_url(url: str) -> aioredis.Redis:
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    try:
        max_connections = int(query.pop("max_connections", DEFAULT_MAX_CONNECTIONS))
    except ValueError:
        raise BackendError(f"{redact(url)}: max_connections must be an integer") from None
    scheme = _SCHEMES.get(parts.scheme.lower(), parts.scheme)
    normalised = urlunsplit((scheme, parts.netloc, parts.path, urlencode(query), ""))
    return aioredis.Redis.from_url(normalised, max_connections=max_connections, decode_responses=False)


def _pack_meta(expiration: int | None, metadata: str | None) -> bytes:
    return f"{'' if expiration is None else expiration}|{metadata or ''}".encode()


def _unpack_meta(meta: bytes) -> tuple[int | None, str | None]:
    expiration, _, metadata = meta.partition(b"|")
    return (int(expiration) if expiration else None), (metadata.decode("utf-8") if metadata else None)


class RedisKVBackend:
    def __init__(self, client: aioredis.Redis, namespace: str) -> None:
        self._redis = client
        self._execute: Callable[..., Awaitable[Any]] = client.execute_command
        # Quoting keeps one namespace's prefix from being another's (":" in an id would otherwise allow it).
        self._prefix = f"portflare:kv:{quote(namespace, safe='')}:".encode()
        self._values = self._prefix + b"v:"
        self._index = self._prefix + b"idx"
        self._expirations = self._prefix + b"exp"
        self._put = _Script(client, _PUT)
        self._put_expiring = _Script(client, _PUT_EXPIRING)
        self._delete = _Script(client, _DELETE)
        self._list = _Script(client, _LIST)
        # redis-py's pool raises "Too many connections" past its size, which a burst of requests would turn
        # into failed KV calls; callers wait here instead. (Its BlockingConnectionPool waits too, but costs
        # ~15% more per call; an uncontended semaphore costs ~1 µs.)
        self._slots = asyncio.Semaphore(client.connection_pool.max_connections)

    @classmethod
    async def open(cls, target: BackendTarget) -> RedisKVBackend:
        if target.url is None:
            raise BackendError(f"KV binding {target.binding}: the Redis backend needs a URL")
        return cls(client_from_url(target.url), target.resource)

    @staticmethod
    def _entry(fields: Sequence[Any], now: float) -> Entry | None:
        value, meta = fields
        if value is None or meta is None:
            return None
        expiration, metadata = _unpack_meta(meta)
        if not is_live(expiration, now):
            return None
        return Entry(value, expiration, metadata)

    async def get(self, key: str, now: float) -> Entry | None:
        try:
            async with self._slots:
                fields = await self._execute("HMGET", self._values + key.encode("utf-8"), *FIELDS)
        except RedisError as exc:
            raise storage_error("GET", exc) from exc
        return self._entry(fields, now)

    async def get_many(self, keys: Sequence[str], now: float) -> dict[str, Entry | None]:
        try:
            async with self._slots, self._redis.pipeline(transaction=False) as pipe:
                for key in keys:
                    pipe.hmget(self._values + key.encode("utf-8"), FIELDS)
                replies = await pipe.execute()
        except RedisError as exc:
            raise storage_error("GET_BULK", exc) from exc
        return {key: self._entry(fields, now) for key, fields in zip(keys, replies, strict=True)}

    async def put(self, key: str, value: bytes, expiration: int | None, metadata: str | None) -> None:
        name = key.encode("utf-8")
        try:
            async with self._slots:
                if expiration is None:
                    await self._put(2, self._index, self._values + name, value, _pack_meta(None, metadata), name)
                else:
                    await self._put_expiring(3, self._index, self._expirations, self._values + name, value,
                                             _pack_meta(expiration, metadata), name, expiration, self._values)
        except RedisError as exc:
            raise storage_error("PUT", exc) from exc

    async def delete(self, key: str) -> None:
        name = key.encode("utf-8")
        try:
            async with self._slots:
                await self._delete(3, self._index, self._expirations, self._values + name, name)
        except RedisError as exc:
            raise storage_error("DELETE", exc) from exc

    async def list_page(self, prefix: str, start_after: str | None, limit: int,
                        now: float) -> tuple[list[ListedKey], bool]:
        encoded_prefix = prefix.encode("utf-8")
        # 0xFF never occurs in UTF-8, so every key with the prefix sorts below prefix + 0xFF.
        upper = b"(" + encoded_prefix + b"\xff" if prefix else b"+"
        if start_after is not None and start_after.encode("utf-8") >= encoded_prefix:
            lower = b"(" + start_after.encode("utf-8")
        else:
            lower = b"[" + encoded_prefix if prefix else b"-"
        try:
            async with self._slots:
                return await self._list_page(lower, upper, limit, now)
        except RedisError as exc:
            raise storage_error("GET", exc) from exc

    async def _list_page(self, lower: bytes, upper: bytes, limit: int, now: float) -> tuple[list[ListedKey], bool]:
        found: list[ListedKey] = []
        batch = limit + 1
        while len(found) <= limit:
            members, metas = await self._list(2, self._index, self._expirations, self._values, lower, upper, batch)
            for member, meta in zip(members, metas, strict=True):
                if meta is None:  # expired in Redis (or just deleted): the script dropped it from the index
                    continue
                expiration, metadata = _unpack_meta(meta)
                if is_live(expiration, now):
                    found.append(ListedKey(member.decode("utf-8"), expiration, metadata))
            if len(members) < batch:
                break
            lower = b"(" + members[-1]
            batch = max(limit + 1 - len(found), LIST_BATCH)
        return found[:limit], len(found) > limit

    async def clear(self) -> None:
        """Delete every key of this namespace (tests, tools). Walks the index, never the whole keyspace."""
        while members := cast("list[bytes]", await self._redis.zrange(self._index, 0, 499)):
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.delete(*[self._values + member for member in members])
                pipe.zrem(self._index, *members)
                await pipe.execute()
        await self._redis.delete(self._index, self._expirations)

    async def close(self) -> None:
        await self._redis.aclose()

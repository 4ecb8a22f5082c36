"""Queues on Redis Streams (or Valkey), shared by any number of portflare nodes.

URL: ``redis://[user:password@]host:6379/0`` (``rediss://`` for TLS; ``valkey://``/``valkeys://`` alike).

Layout, per queue (the ``{name}`` hash tag keeps one queue's keys in one cluster slot):
- ``portflare:queue:{<name>}:s`` a stream of deliverable messages, read by the consumer group ``portflare``;
  each entry holds ``h`` = ``"<id> <timestamp ms> <content type> <att>"`` (``att``: deliveries made before
  this entry) and ``b`` = the body;
- ``…:d`` a sorted set of delayed message ids scored by due time (ms), with each message in a hash
  ``…:m:<id>``; due ones are moved into the stream (atomically, in Lua) whenever a consumer polls.

A lease is a stream entry's place in the group's pending list: ``XREADGROUP`` leases new entries, ``XCLAIM
JUSTID`` (which does not count a delivery) keeps a lease alive, and ``XAUTOCLAIM`` takes over entries idle for
longer than the lease (their consumer died), counting one more delivery. Ack is ``XACK`` + ``XDEL``; retry and
release re-add the message as a new entry (or a delayed one) in one Lua call, and only if this consumer still
holds it.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Sequence
from typing import Any, ClassVar

import redis.asyncio as aioredis
from redis.exceptions import ResponseError

from portflare.backends import BackendTarget
from portflare.bindings.kv.redis import client_from_url
from portflare.bindings.queues.base import Delivery, OutgoingMessage, QueueStats

GROUP = "portflare"
PROMOTE_MAX = 1000  # delayed messages moved per poll
MAINTENANCE_EVERY = 0.1  # seconds between moving due delayed messages / reclaiming dead consumers' entries

# KEYS: stream, delayed; ARGV: now_ms, limit, hash prefix
_PROMOTE = """
local due = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
for _, id in ipairs(due) do
  local h = ARGV[3] .. id
  local fields = redis.call('HGETALL', h)
  if #fields > 0 then redis.call('XADD', KEYS[1], '*', unpack(fields)) end
  redis.call('DEL', h)
  redis.call('ZREM', KEYS[2], id)
end
return #due
"""

# KEYS: stream, delayed; ARGV: group, consumer, entry id, hash prefix, message id, due_ms ('' = now), fields...
_REQUEUE = """
if #redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[3], ARGV[3], 1, ARGV[2]) == 0 then return 0 end
redis.call('XACK', KEYS[1], ARGV[1], ARGV[3])
redis.call('XDEL', KEYS[1], ARGV[3])
local fields = {unpack(ARGV, 7)}
if ARGV[6] == '' then
  redis.call('XADD', KEYS[1], '*', unpack(fields))
else
  redis.call('HSET', ARGV[4] .. ARGV[5], unpack(fields))
  redis.call('ZADD', KEYS[2], ARGV[6], ARGV[5])
end
return 1
"""

# KEYS: stream; ARGV: group, consumer, entry ids... — refresh only the leases this consumer still holds
_EXTEND = """
local kept = 0
for i = 3, #ARGV do
  if #redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[i], ARGV[i], 1, ARGV[2]) > 0 then
    redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[2], 0, ARGV[i], 'JUSTID')
    kept = kept + 1
  end
end
return kept
"""

# KEYS: stream, delayed; ARGV: group, hash prefix
_PURGE = """
local n = redis.call('XLEN', KEYS[1]) + redis.call('ZCARD', KEYS[2])
for _, id in ipairs(redis.call('ZRANGE', KEYS[2], 0, -1)) do redis.call('DEL', ARGV[2] .. id) end
redis.call('DEL', KEYS[1], KEYS[2])
redis.call('XGROUP', 'CREATE', KEYS[1], ARGV[1], '0', 'MKSTREAM')
return n
"""


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


class RedisQueueBackend:
    blocks: ClassVar[bool] = True

    def __init__(self, client: aioredis.Redis, queue: str) -> None:
        self._redis = client
        prefix = f"portflare:queue:{{{queue}}}:"
        self._stream = prefix + "s"
        self._delayed = prefix + "d"
        self._hashes = prefix + "m:"
        self._consumer = f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self._claim_from = "0-0"
        self._maintained_at = float("-inf")
        self._promote = client.register_script(_PROMOTE)
        self._requeue = client.register_script(_REQUEUE)
        self._extend = client.register_script(_EXTEND)
        self._purge = client.register_script(_PURGE)

    @classmethod
    async def open(cls, target: BackendTarget) -> RedisQueueBackend:
        assert target.url is not None
        backend = cls(client_from_url(target.url), target.resource)
        await backend._ensure_group()
        return backend

    async def _ensure_group(self) -> None:
        try:
            await self._redis.xgroup_create(self._stream, GROUP, id="0", mkstream=True)
        except ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise

    @staticmethod
    def _fields(m: OutgoingMessage | Delivery, attempts: int) -> dict[str, Any]:
        # Two fields, not five: redis-py parses replies in Python, and every field costs two bulk strings.
        return {"h": f"{m.id} {m.timestamp_ms} {m.content_type} {attempts}", "b": m.body}

    def _delivery(self, entry_id: Any, fields: dict[bytes, bytes], delivered: int) -> Delivery:
        id_, ts, ct, att = fields[b"h"].decode().split(" ")
        return Delivery(receipt=_text(entry_id), id=id_, timestamp_ms=int(ts), content_type=ct,
                        body=bytes(fields[b"b"]), attempts=int(att) + delivered)

    async def send(self, messages: Sequence[OutgoingMessage], now: float) -> None:
        if len(messages) == 1 and messages[0].delay <= 0:  # the common send(): one round trip, no MULTI
            await self._redis.xadd(self._stream, self._fields(messages[0], 0))  # type: ignore[arg-type]
            return
        async with self._redis.pipeline(transaction=True) as pipe:
            for m in messages:
                if m.delay > 0:
                    pipe.hset(self._hashes + m.id, mapping=self._fields(m, 0))  # type: ignore[arg-type]
                    pipe.zadd(self._delayed, {m.id: int((now + m.delay) * 1000)})
                else:
                    pipe.xadd(self._stream, self._fields(m, 0))  # type: ignore[arg-type]
            await pipe.execute()

    async def receive(self, limit: int, lease: float, now: float, wait: float = 0.0) -> list[Delivery]:
        found: list[Delivery] = []
        if not now - MAINTENANCE_EVERY < self._maintained_at <= now:  # a few times a second, not every poll
            self._maintained_at = now
            await self._promote(keys=[self._stream, self._delayed], args=[int(now * 1000), PROMOTE_MAX, self._hashes])
            found = await self._reclaim(limit, lease)
        if len(found) >= limit:
            return found
        # BLOCK 0 is "wait forever" to Redis: a wait under 1 ms must still be 1 ms (it hung a filling batch until
        # redis-py's socket timeout, and its messages until their leases ran out).
        block = max(1, int(wait * 1000)) if wait > 0 and not found else None
        try:
            reply = await self._redis.xreadgroup(GROUP, self._consumer, {self._stream: ">"},
                                                 count=limit - len(found), block=block)
        except ResponseError as exc:
            if "NOGROUP" not in str(exc):
                raise
            await self._ensure_group()  # the stream was deleted from outside (FLUSHDB): start again
            return found
        replies: list[Any] = reply or []  # type: ignore[assignment]
        for _stream, entries in replies:
            found.extend(self._delivery(entry_id, fields, 1) for entry_id, fields in entries if fields)
        return found

    async def _reclaim(self, limit: int, lease: float) -> list[Delivery]:
        """Entries whose consumer stopped extending its lease: take them over (one more delivery each)."""
        reply = await self._redis.xautoclaim(self._stream, GROUP, self._consumer, int(lease * 1000),
                                             start_id=self._claim_from, count=limit)
        next_id, entries = reply[0], reply[1]
        self._claim_from = _text(next_id)
        entries = [(entry_id, fields) for entry_id, fields in entries if fields]
        if not entries:
            return []
        async with self._redis.pipeline(transaction=False) as pipe:
            for entry_id, _ in entries:
                pipe.xpending_range(self._stream, GROUP, min=entry_id, max=entry_id, count=1)
            pending = await pipe.execute()
        return [self._delivery(entry_id, fields, int(info[0]["times_delivered"]) if info else 1)
                for (entry_id, fields), info in zip(entries, pending, strict=True)]

    async def extend(self, deliveries: Sequence[Delivery], lease: float, now: float) -> None:
        if deliveries:
            await self._extend(keys=[self._stream], args=[GROUP, self._consumer, *(d.receipt for d in deliveries)])

    async def ack(self, deliveries: Sequence[Delivery]) -> None:
        if not deliveries:
            return
        receipts = [d.receipt for d in deliveries]
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.xack(self._stream, GROUP, *receipts)
            pipe.xdel(self._stream, *receipts)
            await pipe.execute()

    async def _requeue_all(self, items: Sequence[tuple[Delivery, int, float]], now: float) -> None:
        keys = [self._stream, self._delayed]
        async with self._redis.pipeline(transaction=False) as pipe:
            for d, attempts, delay in items:
                due = str(int((now + delay) * 1000)) if delay > 0 else ""
                flat = [x for kv in self._fields(d, attempts).items() for x in kv]
                await self._requeue(keys=keys, args=[GROUP, self._consumer, d.receipt, self._hashes, d.id, due, *flat],
                                    client=pipe)
            await pipe.execute()

    async def retry(self, retries: Sequence[tuple[Delivery, float]], now: float) -> None:
        await self._requeue_all([(d, d.attempts, delay) for d, delay in retries], now)

    async def release(self, deliveries: Sequence[Delivery], now: float) -> None:
        await self._requeue_all([(d, d.attempts - 1, 0.0) for d in deliveries], now)

    async def stats(self, now: float) -> QueueStats:
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.xlen(self._stream)
            pipe.xpending(self._stream, GROUP)
            pipe.zcard(self._delayed)
            length, pending, delayed = await pipe.execute()
        in_flight = int(pending["pending"])  # leases that ran out still count until someone reclaims them
        return QueueStats(ready=max(0, int(length) - in_flight), delayed=int(delayed), in_flight=in_flight)

    async def purge(self) -> int:
        return int(await self._purge(keys=[self._stream, self._delayed], args=[GROUP, self._hashes]))

    async def clear(self) -> None:
        """Delete every key of this queue, the group included (tests)."""
        await self.purge()
        await self._redis.delete(self._stream)

    async def close(self) -> None:
        await self._redis.aclose()

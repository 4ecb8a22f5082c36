"""Queues conformance: one suite, every backend (embedded SQLite and a real Redis).

The producer binding (Cloudflare's API, limits and wording), the backend contract (leases, retries, release,
purge, stats) and the consumer loop (batching, ack/retry precedence, dead-lettering) run on both.
"""

from __future__ import annotations

import asyncio
import inspect
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from portflare.backends import BackendTarget
from portflare.bindings.queues import Queue, open_backend, open_binding
from portflare.bindings.queues.base import QueueBackend
from portflare.bindings.queues.batch import MessageBatch
from portflare.config import QueueConsumer
from portflare.errors import JsException, JsTypeError
from portflare.runtime.consumers import Consumer
from tests.conftest import Clock, require_service

REDIS_URL = "redis://127.0.0.1:6379/15"


@dataclass
class Setup:
    """Opens queues on the backend under test; every queue name is unique to the test."""

    url: str | None
    state_dir: Path
    clock: Clock
    prefix: str
    opened: list[Any]

    async def producer(self, name: str = "q", **kwargs: Any) -> Queue:
        q = await open_binding(self.target(name))
        q._clock = self.clock
        for key, value in kwargs.items():
            setattr(q, f"_{key}", value)
        self.opened.append(q._backend)
        return q

    async def backend(self, name: str = "q") -> QueueBackend:
        backend = await open_backend(self.target(name))
        self.opened.append(backend)
        return backend

    def target(self, name: str) -> BackendTarget:
        return BackendTarget(kind="queues", binding="Q", resource=f"{self.prefix}-{name}", state_dir=self.state_dir,
                             url=self.url)


@pytest.fixture(params=["sqlite", "redis"])
async def setup(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Setup]:
    url = None
    if request.param == "redis":
        require_service("redis", "127.0.0.1", 6379)
        url = REDIS_URL
    s = Setup(url, tmp_path, Clock(), f"test-{uuid.uuid4().hex[:12]}", [])
    yield s
    for backend in s.opened:
        if url is not None:
            await backend.clear()
        await backend.close()


async def drain(backend: QueueBackend, now: float, lease: float = 3600) -> list[Any]:
    return await backend.receive(100, lease, now)


# -- producer -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("body", "options", "content_type", "stored"), [
    ({"a": [1, 2], "b": None}, {}, "json", b'{"a":[1,2],"b":null}'),
    ("héllo", {"contentType": "text"}, "text", "héllo".encode()),
    ("plain", {"contentType": "TEXT"}, "text", b"plain"),
    (b"\x00\x01", {"contentType": "bytes"}, "bytes", b"\x00\x01"),
    (None, {}, "json", b"null"),
    (42, {"contentType": "json"}, "json", b"42"),
])
async def test_send_stores_body_per_content_type(setup: Setup, body: Any, options: dict[str, Any],
                                                 content_type: str, stored: bytes) -> None:
    q = await setup.producer()
    await q.send(body, **options)
    [d] = await drain(q._backend, setup.clock.now)
    assert (d.content_type, d.body, d.attempts) == (content_type, stored, 1)
    assert len(d.id) == 32 and int(d.id, 16) >= 0
    assert abs(d.timestamp_ms - setup.clock.now * 1000) < 2


async def test_options_as_dict_keywords_or_to_js(setup: Setup) -> None:
    q = await setup.producer()

    class ToJs:
        def to_py(self) -> dict[str, Any]:
            return {"contentType": "text"}

    await q.send("a", {"contentType": "text"})
    await q.send("b", ToJs())
    await q.sendBatch([{"body": "c", "contentType": "text"}], {"delaySeconds": 0})
    got = await drain(q._backend, setup.clock.now)
    assert sorted((d.content_type, d.body) for d in got) == [("text", b"a"), ("text", b"b"), ("text", b"c")]


@pytest.mark.parametrize(("call", "error", "message"), [
    (lambda q: q.send("x", contentType="xml"), JsTypeError, "TypeError: Unsupported queue message content type: xml"),
    (lambda q: q.send(1, contentType="text"), JsTypeError,
     'TypeError: Content Type "text" requires a value of type string, but received: number'),
    (lambda q: q.send({"a": 1}, contentType="text"), JsTypeError,
     'TypeError: Content Type "text" requires a value of type string, but received: object'),
    (lambda q: q.send("s", contentType="bytes"), JsTypeError,
     'TypeError: Content Type "bytes" requires a value of type ArrayBufferView, but received: string'),
    (lambda q: q.sendBatch([]), JsTypeError, "TypeError: sendBatch() requires at least one message"),
    (lambda q: q.sendBatch([{"contentType": "text"}]), JsTypeError, "TypeError: Message body cannot be undefined"),
    (lambda q: q.send("x" * 128_001, contentType="text"), JsException,
     "Error: Queue send failed: message length of 128001 bytes exceeds limit of 128000"),
    (lambda q: q.sendBatch([{"body": i} for i in range(101)]), JsException,
     "Error: Queue sendBatch failed: batch message count of 101 exceeds limit of 100"),
    (lambda q: q.sendBatch([{"body": "y" * 128_001, "contentType": "text"}]), JsException,
     "Error: Queue sendBatch failed: message in batch has length 128001 bytes which exceeds single message size "
     "limit of 128000"),
    (lambda q: q.sendBatch([{"body": "z" * 100_000, "contentType": "text"}] * 3), JsException,
     "Error: Queue sendBatch failed: batch size of 300000 bytes exceeds limit of 256000"),
    (lambda q: q.send("x", delaySeconds=43_201), JsException,
     "Error: Queue send failed: message delay 43201 is invalid: must be an integer from 0 to 43200 seconds"),
    (lambda q: q.sendBatch([{"body": 1}], delaySeconds=-1), JsException,
     "Error: Queue sendBatch failed: message delay -1 is invalid: must be an integer from 0 to 43200 seconds"),
])
async def test_errors_have_cloudflares_wording(setup: Setup, call: Callable[[Queue], Awaitable[None]],
                                               error: type[Exception], message: str) -> None:
    q = await setup.producer()
    with pytest.raises(error) as info:
        await call(q)
    assert str(info.value) == message
    assert await drain(q._backend, setup.clock.now) == []  # nothing of a rejected batch is stored


async def test_exact_limits_are_accepted(setup: Setup) -> None:
    q = await setup.producer()
    await q.send("x" * 128_000, contentType="text")
    await q.sendBatch([{"body": "y" * 85_000, "contentType": "text"}] * 3)  # 255 KB
    await q.sendBatch([{"body": i} for i in range(100)])
    await q.send(1, delaySeconds=43_200)
    assert (await q._backend.stats(setup.clock.now)).depth == 105


async def test_delays_per_message_batch_and_producer_default(setup: Setup) -> None:
    q = await setup.producer(delivery_delay=30)
    await q.send("default", contentType="text")  # producer's delivery_delay
    await q.send("now", contentType="text", delaySeconds=0)  # an explicit 0 overrides it
    await q.sendBatch([{"body": "own", "contentType": "text", "delaySeconds": 5},
                       {"body": "batch", "contentType": "text"}], delaySeconds=10)
    t = setup.clock.now
    stats = await q._backend.stats(t)
    assert (stats.ready, stats.delayed) == (1, 3)
    assert [d.body for d in await drain(q._backend, t)] == [b"now"]
    assert [d.body for d in await drain(q._backend, t + 5)] == [b"own"]
    assert [d.body for d in await drain(q._backend, t + 10)] == [b"batch"]
    assert [d.body for d in await drain(q._backend, t + 30)] == [b"default"]


async def test_batch_is_all_or_nothing_and_order_is_kept(setup: Setup) -> None:
    q = await setup.producer()
    await q.sendBatch([{"body": i} for i in range(20)])
    got = await drain(q._backend, setup.clock.now)
    assert [d.body for d in got] == [str(i).encode() for i in range(20)]
    assert len({d.id for d in got}) == 20


# -- backend contract -----------------------------------------------------------------------------------


async def test_a_lease_hides_messages_from_other_consumers(setup: Setup) -> None:
    q = await setup.producer()
    other = await setup.backend()
    await q.sendBatch([{"body": i} for i in range(5)])
    now = setup.clock.now
    first = await q._backend.receive(3, 30, now)
    second = await other.receive(10, 30, now)
    assert len(first) == 3 and len(second) == 2
    assert {d.id for d in first}.isdisjoint(d.id for d in second)
    assert await other.receive(10, 30, now) == []
    stats = await other.stats(now)
    assert (stats.ready, stats.in_flight, stats.depth) == (0, 5, 5)


async def test_ack_deletes_and_retry_counts_an_attempt(setup: Setup) -> None:
    q = await setup.producer()
    await q.sendBatch([{"body": "a", "contentType": "text"}, {"body": "b", "contentType": "text"}])
    now = setup.clock.now
    a, b = await q._backend.receive(10, 30, now)
    await q._backend.ack([a])
    await q._backend.retry([(b, 0)], now)
    [again] = await q._backend.receive(10, 30, now)
    assert (again.id, again.body, again.attempts, again.timestamp_ms) == (b.id, b"b", 2, b.timestamp_ms)
    await q._backend.retry([(again, 20)], now)
    assert await q._backend.receive(10, 30, now + 19) == []
    [third] = await q._backend.receive(10, 30, now + 21)
    assert third.attempts == 3
    await q._backend.ack([third])
    assert (await q._backend.stats(now + 21)).depth == 0


async def test_release_gives_back_without_counting(setup: Setup) -> None:
    q = await setup.producer()
    await q.send(1)
    now = setup.clock.now
    [d] = await q._backend.receive(10, 30, now)
    await q._backend.release([d], now)
    [again] = await q._backend.receive(10, 30, now)
    assert again.attempts == 1


async def test_expired_lease_is_redelivered_to_another_consumer(setup: Setup) -> None:
    # Redis measures a lease's idle time on its own clock, so this test waits for real.
    q = await setup.producer()
    rescuer = await setup.backend()
    await q.send("work", contentType="text")
    [lost] = await q._backend.receive(10, 0.2, time.time())
    assert await rescuer.receive(10, 0.2, time.time()) == []
    await asyncio.sleep(0.3)
    [found] = await rescuer.receive(10, 0.2, time.time())  # every consumer of a queue uses one lease length
    assert (found.id, found.body, found.attempts) == (lost.id, b"work", 2)
    # the first consumer, too late, cannot retry a message it no longer holds
    await q._backend.retry([(lost, 0)], time.time())
    assert await q._backend.receive(10, 0.2, time.time()) == []
    await rescuer.ack([found])
    assert (await rescuer.stats(time.time())).depth == 0


async def test_extend_keeps_a_lease(setup: Setup) -> None:
    q = await setup.producer()
    other = await setup.backend()
    await q.send(1)
    [d] = await q._backend.receive(10, 0.3, time.time())
    for _ in range(3):
        await asyncio.sleep(0.15)
        await q._backend.extend([d], 0.3, time.time())
    assert await other.receive(10, 0.3, time.time()) == []


async def test_a_wait_shorter_than_a_millisecond_returns(setup: Setup) -> None:
    # A filling batch's last wait can be a fraction of a millisecond; Redis reads BLOCK 0 as "forever".
    backend = await setup.backend()
    assert await backend.receive(10, 30, time.time(), wait=0.0004) == []


async def test_purge_and_stats(setup: Setup) -> None:
    q = await setup.producer()
    await q.sendBatch([{"body": i} for i in range(4)])
    await q.send("later", delaySeconds=60)
    now = setup.clock.now
    await q._backend.receive(1, 30, now)
    stats = await q._backend.stats(now)
    assert (stats.ready, stats.delayed, stats.in_flight) == (3, 1, 1)
    assert await q._backend.purge() == 5
    assert (await q._backend.stats(now + 100)).depth == 0
    await q.send("after")
    assert len(await drain(q._backend, now)) == 1


async def test_messages_survive_reopening(setup: Setup) -> None:
    q = await setup.producer()
    await q.send({"kept": True})
    reopened = await setup.backend()
    [d] = await drain(reopened, setup.clock.now)
    assert d.body == b'{"kept":true}'


# -- consumer loop --------------------------------------------------------------------------------------


Handler = Callable[[MessageBatch], Awaitable[None]]


WITHIN = 30.0  # generous: CI runs these on a loaded 2-core machine; a passing test returns long before


Until = Callable[[], bool | Awaitable[bool]]


async def consume(setup: Setup, handler: Handler, until: Until, *, within: float = WITHIN, **settings: Any
                  ) -> Consumer:
    """Run a consumer (``consume_later``'s settings) until ``until()`` (or what it awaits) holds; return it."""
    return await run_consumer(await consume_later(setup, handler, **settings), until, within)


async def consume_later(setup: Setup, handler: Handler, *, name: str = "q", lease: float = 3600.0,
                        **settings: Any) -> Consumer:
    """A consumer of queue ``name``, not running yet."""
    dlq_name = settings.pop("dead_letter_queue", None)
    settings.setdefault("max_batch_timeout", 0.05)
    consumer_settings = QueueConsumer(queue=f"{setup.prefix}-{name}",
                                      dead_letter_queue=dlq_name and f"{setup.prefix}-{dlq_name}", **settings)
    dead_letter = await setup.backend(dlq_name) if dlq_name else None
    return Consumer(consumer_settings, await setup.backend(name), handler, dead_letter=dead_letter, poll=0.01,
                    lease=lease)


async def run_consumer(consumer: Consumer, until: Until, within: float = WITHIN) -> Consumer:
    task = asyncio.create_task(consumer.run())
    try:
        deadline = time.monotonic() + within
        while not ((await done) if inspect.isawaitable(done := until()) else done):
            assert time.monotonic() < deadline, "the consumer did not finish in time"
            await asyncio.sleep(0.02)
        await asyncio.sleep(0.05)  # let the last batch settle
    finally:
        consumer.stop()
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    return consumer


async def test_consumer_delivers_batches_and_acks(setup: Setup) -> None:
    q = await setup.producer()
    await q.sendBatch([{"body": {"n": i}} for i in range(25)])
    batches: list[list[Any]] = []

    async def handler(batch: MessageBatch) -> None:
        assert batch.queue == f"{setup.prefix}-q"
        m = batch.messages[0]
        assert isinstance(m.timestamp, datetime) and m.timestamp.tzinfo is UTC and m.attempts == 1
        batches.append([m.body.n for m in batch.messages])  # JSON objects have attribute access

    await consume(setup, handler, lambda: sum(map(len, batches)) == 25, max_batch_size=10)
    assert sorted(n for b in batches for n in b) == list(range(25))
    assert max(map(len, batches)) == 10
    assert (await q._backend.stats(time.time())).depth == 0


async def test_batch_waits_for_timeout_when_not_full(setup: Setup) -> None:
    q = await setup.producer()
    await q.send(1)
    seen: list[float] = []
    started = time.monotonic()

    async def handler(batch: MessageBatch) -> None:
        seen.append(time.monotonic() - started)

    await consume(setup, handler, lambda: bool(seen), max_batch_size=10, max_batch_timeout=0.4)
    assert seen[0] >= 0.35


async def test_content_types_reach_the_consumer(setup: Setup) -> None:
    q = await setup.producer()
    await q.send("t", contentType="text")
    await q.send(b"\x01\x02", contentType="bytes")
    await q.send({"when": datetime(2026, 1, 1, tzinfo=UTC), "raw": b"x", "tags": {"a"}}, contentType="v8")
    await q.send([1, {"k": "v"}], contentType="json")
    bodies: list[Any] = []

    async def handler(batch: MessageBatch) -> None:
        bodies.extend(m.body for m in batch.messages)

    await consume(setup, handler, lambda: len(bodies) == 4, max_batch_size=4)
    text, raw, v8, js = bodies
    assert text == "t" and bytes(raw) == b"\x01\x02" and js == [1, {"k": "v"}]
    assert v8["when"] == datetime(2026, 1, 1, tzinfo=UTC) and bytes(v8["raw"]) == b"x" and v8["tags"] == {"a"}


async def test_handler_error_retries_all_but_explicitly_acked(setup: Setup) -> None:
    q = await setup.producer()
    await q.sendBatch([{"body": i} for i in range(3)])
    deliveries: list[tuple[int, int]] = []

    async def handler(batch: MessageBatch) -> None:
        for m in batch.messages:
            deliveries.append((m.body, m.attempts))
        if len(deliveries) == 3:
            batch.messages[0].ack()
            raise RuntimeError("boom")

    await consume(setup, handler, lambda: len(deliveries) == 5, max_batch_size=3)
    first = deliveries[0][0]
    assert sorted(deliveries[3:]) == sorted((b, 2) for b in range(3) if b != first)  # production, not Miniflare


async def test_explicit_retry_wins_over_ack_all_and_uses_its_delay(setup: Setup) -> None:
    q = await setup.producer()
    await q.sendBatch([{"body": "a", "contentType": "text"}, {"body": "b", "contentType": "text"}])
    seen: list[tuple[str, int, float]] = []

    async def handler(batch: MessageBatch) -> None:
        for m in batch.messages:
            seen.append((m.body, m.attempts, time.monotonic()))
            if m.body == "a" and m.attempts == 1:
                m.retry()
                m.ack()  # ignored, with workerd's warning
        batch.ackAll()

    await consume(setup, handler, lambda: len(seen) == 3, max_batch_size=2)
    assert [(b, n) for b, n, _ in seen] == [("a", 1), ("b", 1), ("a", 2)]


@pytest.mark.parametrize("how", ["retryAll(delaySeconds=1)", "a throw with retry_delay=1"])
async def test_a_retry_waits_its_delay(setup: Setup, how: str) -> None:
    q = await setup.producer()
    await q.send(1)
    times: list[float] = []
    throw = how.startswith("a throw")

    async def handler(batch: MessageBatch) -> None:
        times.append(time.monotonic())
        if throw:
            raise RuntimeError("fails, so the message waits retry_delay before its next delivery")
        if len(times) == 1:
            batch.retryAll(delaySeconds=1)

    await consume(setup, handler, lambda: len(times) >= 2, max_batch_size=1, max_retries=3,
                  retry_delay=1 if throw else 0)
    assert times[1] - times[0] >= 0.9


async def test_dead_letter_after_max_retries_keeps_id_and_timestamp(setup: Setup) -> None:
    q = await setup.producer()
    await q.send({"poison": True})
    attempts: list[int] = []

    async def handler(batch: MessageBatch) -> None:
        attempts.extend(m.attempts for m in batch.messages)
        raise ValueError("always")

    await consume(setup, handler, lambda: len(attempts) == 3, max_batch_size=1, max_retries=2,
                  dead_letter_queue="dlq")
    assert attempts == [1, 2, 3]
    dlq = await setup.backend("dlq")
    [d] = await drain(dlq, time.time())
    assert d.body == b'{"poison":true}' and d.attempts == 1
    assert (await q._backend.stats(time.time())).depth == 0


async def test_dropped_after_max_retries_without_dead_letter_queue(setup: Setup, caplog: pytest.LogCaptureFixture
                                                                   ) -> None:
    q = await setup.producer()
    await q.send(1)
    attempts: list[int] = []

    async def handler(batch: MessageBatch) -> None:
        for m in batch.messages:
            attempts.append(m.attempts)
            m.retry()

    await consume(setup, handler, lambda: len(attempts) == 2, max_batch_size=1, max_retries=1)
    assert (await q._backend.stats(time.time())).depth == 0
    assert any("Dropped message" in r.message and "after 2 failed attempts!" in r.message for r in caplog.records)


async def test_a_message_that_keeps_killing_its_consumer_is_given_up(setup: Setup,
                                                                    caplog: pytest.LogCaptureFixture) -> None:
    # Each of its max_retries + 1 deliveries went to a consumer that died (leased, never settled); the next
    # consumer dead-letters it without showing it to the Worker again.
    q = await setup.producer()
    await q.send({"crashes": "every consumer"})
    lease, max_retries = 0.2, 1
    for attempt in range(1, max_retries + 2):
        dying = await setup.backend()  # a consumer that leases the message, then dies
        deadline = time.monotonic() + WITHIN
        while not (got := await dying.receive(10, lease, time.time())):
            assert time.monotonic() < deadline, "the message's lease never ran out"
            await asyncio.sleep(0.05)
        assert [d.attempts for d in got] == [attempt]
    calls: list[int] = []

    async def handler(batch: MessageBatch) -> None:
        calls.extend(m.attempts for m in batch.messages)

    dlq = await setup.backend("dlq")

    async def dead_lettered() -> bool:
        return (await dlq.stats(time.time())).depth == 1

    await consume(setup, handler, dead_lettered, lease=lease, max_batch_size=1, max_retries=max_retries,
                  dead_letter_queue="dlq")
    assert calls == []
    [d] = await drain(dlq, time.time())
    assert d.body == b'{"crashes":"every consumer"}'
    assert (await q._backend.stats(time.time())).depth == 0
    assert any('Moving message' in r.getMessage() and "after 3 failed attempts" in r.getMessage()
               for r in caplog.records)


async def test_a_receive_error_hands_back_the_filling_batch(setup: Setup) -> None:
    q = await setup.producer()
    await q.sendBatch([{"body": i} for i in range(3)])
    attempts: list[int] = []

    async def handler(batch: MessageBatch) -> None:
        attempts.extend(m.attempts for m in batch.messages)

    consumer = await consume_later(setup, handler, max_batch_size=10, max_batch_timeout=1)
    receive, calls = consumer.backend.receive, 0

    async def flaky_receive(*args: Any, **kwargs: Any) -> Any:
        nonlocal calls
        calls += 1
        if calls == 2:  # the batch holds the 3 messages and waits for more: the backend fails now
            raise ConnectionError("the backend went away")
        return await receive(*args, **kwargs)

    consumer.backend.receive = flaky_receive  # type: ignore[method-assign]
    # With a lease of an hour, only a hand-back (not counting an attempt) delivers them within the test.
    await run_consumer(consumer, lambda: len(attempts) == 3)
    assert attempts == [1, 1, 1]


async def test_concurrency_is_bounded(setup: Setup) -> None:
    q = await setup.producer()
    await q.sendBatch([{"body": i} for i in range(12)])
    active = peak = done = 0

    async def handler(batch: MessageBatch) -> None:
        nonlocal active, peak, done
        active += 1
        peak = max(peak, active)
        await asyncio.sleep(0.05)
        active -= 1
        done += len(batch.messages)

    await consume(setup, handler, lambda: done == 12, max_batch_size=1, max_concurrency=3)
    assert peak == 3

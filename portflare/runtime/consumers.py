"""The consumer loop of one ``[[queues.consumers]]`` entry: lease batches, call the handler, settle messages.

A batch is handed over when ``max_batch_size`` messages are waiting or ``max_batch_timeout`` has passed since
its first message arrived, whichever comes first (empty batches never are). Up to ``max_concurrency`` batches
run at once (unset: as many as full batches are waiting, up to Cloudflare's 250), so concurrency grows only
with the backlog. Every message the loop holds, while a batch fills and while the handler runs, has its lease
extended every third of ``lease`` seconds; if the process dies the leases run out and another consumer (here
or on another node) gets the messages again. What happens to each message afterwards is decided by
``portflare.bindings.queues.batch.decide``; the loop only applies it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Sequence

from portflare.bindings.queues import codec
from portflare.bindings.queues import validate as v
from portflare.bindings.queues.base import Delivery, QueueBackend
from portflare.bindings.queues.batch import Action, Decision, Message, MessageBatch, Outcome, decide
from portflare.config import QUEUE_LIMITS, QueueConsumer
from portflare.runtime.events import WaitUntilError

log = logging.getLogger("portflare.queues")

QueueHandler = Callable[[MessageBatch], Awaitable[None]]

LEASE_SECONDS = 30.0  # how long a silent consumer keeps its messages before another may take them
POLL_SECONDS = 0.05  # idle polling of backends that cannot block
MAX_WAIT_SECONDS = 1.0  # longest blocking read, so delayed messages are promoted about once a second
WALL_TIME_SECONDS = 15 * 60  # Cloudflare's consumer wall-time limit
BACKOFF_MAX_SECONDS = 30.0


def batch_ready(count: int, max_size: int, deadline: float | None, now: float) -> bool:
    """Whether a filling batch of ``count`` messages goes to the handler now."""
    return count >= max_size or (count > 0 and deadline is not None and now >= deadline)


def concurrency_limit(settings: QueueConsumer) -> int:
    most = QUEUE_LIMITS["max_concurrency"][1]
    return min(settings.max_concurrency or most, most)


def exhausted(attempts: int, max_retries: int) -> bool:
    """A delivery past ``max_retries + 1``: earlier ones were lost with their consumer (a crash, a kill)."""
    return attempts > max_retries + 1


def backoff(failures: int) -> float:
    return float(min(BACKOFF_MAX_SECONDS, 0.5 * 2 ** max(0, failures - 1)))


def _plural(n: int) -> str:
    return "" if n == 1 else "s"


class Consumer:
    def __init__(self, settings: QueueConsumer, backend: QueueBackend, handler: QueueHandler, *,
                 dead_letter: QueueBackend | None = None, lease: float = LEASE_SECONDS,
                 poll: float = POLL_SECONDS, clock: Callable[[], float] = time.time) -> None:
        v.configured_delay(settings.retry_delay, f"queues.consumers (queue {settings.queue}): retry_delay")
        self.settings = settings
        self.backend = backend
        self.dead_letter = dead_letter
        self.handler = handler
        self.lease = lease
        self.poll = poll
        self.clock = clock
        self._held: dict[str, Delivery] = {}
        self._running: set[asyncio.Task[None]] = set()
        self._stopping = False

    def stop(self) -> None:
        """Ask ``run`` to stop taking messages; cancel its task too (a flag, because on Python 3.11 a cancel
        that lands while redis-py sends a command can be swallowed by ``asyncio.wait_for``)."""
        self._stopping = True

    async def run(self) -> None:
        """Consume until stopped or cancelled; then wait for running batches (cancel again to stop them)."""
        self._stopping = False
        slots = asyncio.Semaphore(concurrency_limit(self.settings))
        keeper = asyncio.create_task(self._keep_leases())
        failures = 0
        try:
            while not self._stopping:
                await slots.acquire()
                try:
                    batch = await self._collect()
                except Exception as exc:
                    slots.release()
                    failures += 1
                    log.error("queue %s: cannot receive messages (retrying in %.1fs): %s", self.settings.queue,
                              backoff(failures), exc)
                    await asyncio.sleep(backoff(failures))
                    continue
                except BaseException:
                    slots.release()
                    raise
                failures = 0
                task = asyncio.create_task(self._process(batch))
                self._running.add(task)
                task.add_done_callback(self._running.discard)
                task.add_done_callback(lambda _: slots.release())
        finally:
            self._stopping = True
            try:
                if self._running:
                    await asyncio.gather(*self._running, return_exceptions=True)
            finally:
                for task in self._running:
                    task.cancel()
                keeper.cancel()
                await asyncio.wait([keeper], timeout=5)

    async def _collect(self) -> list[Delivery]:
        size = self.settings.max_batch_size
        batch: list[Delivery] = []
        deadline: float | None = None
        try:
            while True:
                if self._stopping:
                    raise asyncio.CancelledError
                now = self.clock()
                wait = MAX_WAIT_SECONDS if deadline is None else max(0.0, min(MAX_WAIT_SECONDS, deadline - now))
                got = await self.backend.receive(size - len(batch), self.lease, now, wait)
                self._held.update((d.receipt, d) for d in got)
                batch.extend(got)
                now = self.clock()
                if batch and deadline is None:
                    deadline = now + self.settings.max_batch_timeout
                if batch_ready(len(batch), size, deadline, now):
                    return batch
                if not got and not self.backend.blocks:
                    await asyncio.sleep(self.poll if deadline is None else max(0.0, min(self.poll, deadline - now)))
        except asyncio.CancelledError:
            if batch:  # never shown to the Worker: hand back without counting an attempt
                await asyncio.shield(self._release(batch))
            raise
        except Exception:
            if batch:  # the same, rather than leave them leased for a whole lease; if the backend is down,
                with contextlib.suppress(Exception):  # the leases run out instead
                    await self._release(batch)
            self._forget(batch)
            raise
        except BaseException:
            self._forget(batch)
            raise

    async def _release(self, batch: Sequence[Delivery]) -> None:
        try:
            await self.backend.release(batch, self.clock())
        finally:
            self._forget(batch)

    def _forget(self, batch: Sequence[Delivery]) -> None:
        for d in batch:
            self._held.pop(d.receipt, None)

    async def _keep_leases(self) -> None:
        while True:  # until run() has no running batch left; it then cancels this
            await asyncio.sleep(self.lease / 3)
            if not self._held:
                continue
            try:
                await self.backend.extend(list(self._held.values()), self.lease, self.clock())
            except Exception as exc:
                log.error("queue %s: cannot extend message leases: %s", self.settings.queue, exc)

    async def _process(self, batch: list[Delivery]) -> None:
        s = self.settings
        started = self.clock()
        try:
            decisions: list[tuple[Delivery, Decision]] = []
            live = []
            for d in batch:
                if exhausted(d.attempts, s.max_retries):
                    give_up = Action.DEAD_LETTER if s.dead_letter_queue else Action.DROP
                    decisions.append((d, Decision(give_up)))
                else:
                    live.append(d)
            if live:
                outcome = Outcome()
                failed = False
                try:
                    messages = [Message(d, codec.decode(d.body, d.content_type), outcome) for d in live]
                    async with asyncio.timeout(WALL_TIME_SECONDS):
                        await self.handler(MessageBatch(s.queue, messages, outcome))
                except WaitUntilError as exc:
                    log.error("queue %s: %s; every message not acked will be retried", s.queue, exc)
                    failed = True
                except Exception:
                    log.exception("queue %s: the queue handler raised; every message not acked will be retried",
                                  s.queue)
                    failed = True
                decisions.extend((d, decide(outcome, d.id, d.attempts, failed=failed, max_retries=s.max_retries,
                                            retry_delay=s.retry_delay, dead_letter=bool(s.dead_letter_queue)))
                                 for d in live)
            await self._settle(decisions)
            acked = sum(1 for _, dec in decisions if dec.action is Action.ACK)
            log.info("QUEUE %s %d/%d (%dms)", s.queue, acked, len(batch), (self.clock() - started) * 1000)
        except Exception as exc:
            log.error("queue %s: cannot settle a batch of %d (its messages will be delivered again): %s", s.queue,
                      len(batch), exc)
        finally:
            self._forget(batch)

    async def _settle(self, decisions: Sequence[tuple[Delivery, Decision]]) -> None:
        s = self.settings
        by_action: dict[Action, list[Delivery]] = {a: [] for a in Action}
        for d, dec in decisions:
            by_action[dec.action].append(d)
        for d in by_action[Action.DEAD_LETTER]:
            log.warning('Moving message "%s" on queue "%s" to dead letter queue "%s" after %d failed attempt%s...',
                        d.id, s.queue, s.dead_letter_queue, d.attempts, _plural(d.attempts))
        for d in by_action[Action.DROP]:
            log.warning('Dropped message "%s" on queue "%s" after %d failed attempt%s!', d.id, s.queue, d.attempts,
                        _plural(d.attempts))
        now = self.clock()
        if by_action[Action.DEAD_LETTER]:
            if self.dead_letter is None:
                raise RuntimeError(f"queue {s.queue}: dead-letter queue {s.dead_letter_queue} is not open")
            # Stored in the dead-letter queue before it leaves this one: at worst a copy, never a loss.
            await self.dead_letter.send([d.outgoing() for d in by_action[Action.DEAD_LETTER]], now)
        retries = [(d, float(dec.delay)) for d, dec in decisions if dec.action is Action.RETRY]
        if retries:
            await self.backend.retry(retries, now)
        done = by_action[Action.ACK] + by_action[Action.DEAD_LETTER] + by_action[Action.DROP]
        if done:
            await self.backend.ack(done)

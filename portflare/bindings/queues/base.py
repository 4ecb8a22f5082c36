"""The queue backend interface: small, async, bytes-level, with leases.

A backend stores encoded messages and hands them out under a *lease*: ``receive`` makes up to ``limit``
deliverable messages invisible to every other consumer (in any process, on any node sharing the backend) for
``lease`` seconds and counts one delivery attempt. The consumer then acks, retries or releases each one, and
keeps the lease alive with ``extend`` while it works. A consumer that dies (SIGKILL, power loss) stops
extending; its leases run out and the messages are delivered again, to anyone: that is how no message is lost
and why delivery is at-least-once.

Content types, limits, batching and retry/dead-letter decisions live above the backends (``validate.py``,
``portflare.runtime.consumers``). Every call takes ``now`` (epoch seconds) so tests control time.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar, Protocol

from portflare.backends import BackendTarget


@dataclass(frozen=True, slots=True)
class OutgoingMessage:
    id: str  # 32 hex characters, as Cloudflare's
    timestamp_ms: int  # when it was sent; kept when it moves to a dead-letter queue
    content_type: str
    body: bytes
    delay: float = 0.0  # seconds before the first delivery


@dataclass(frozen=True, slots=True)
class Delivery:
    receipt: str  # the backend's handle on this lease (not the message id)
    id: str
    timestamp_ms: int
    content_type: str
    body: bytes
    attempts: int  # this delivery's number: 1 the first time, +1 for each earlier delivery

    def outgoing(self) -> OutgoingMessage:
        """The same message, to send elsewhere (a dead-letter queue) with its id and timestamp."""
        return OutgoingMessage(self.id, self.timestamp_ms, self.content_type, self.body)


@dataclass(frozen=True, slots=True)
class QueueStats:
    ready: int  # deliverable now (including messages whose consumer's lease ran out)
    delayed: int  # waiting for a send delay or retry delay
    in_flight: int  # leased to a consumer

    @property
    def depth(self) -> int:
        return self.ready + self.delayed + self.in_flight


class QueueBackend(Protocol):
    # True if ``receive`` can wait for messages itself (``wait``); otherwise the consumer polls.
    blocks: ClassVar[bool]

    @classmethod
    async def open(cls, target: BackendTarget) -> QueueBackend: ...

    async def send(self, messages: Sequence[OutgoingMessage], now: float) -> None:
        """Store every message durably, or none (a batch is one write)."""
        ...

    async def receive(self, limit: int, lease: float, now: float, wait: float = 0.0) -> list[Delivery]:
        """Lease up to ``limit`` deliverable messages for ``lease`` seconds, each counting one attempt.

        Deliverable: past its delay, and not leased (or its lease ran out). All consumers of one queue use
        the same ``lease`` (a backend may judge others' leases by it). A backend with ``blocks`` may wait up to
        ``wait`` seconds for a first message; others return at once.
        """
        ...

    async def extend(self, deliveries: Sequence[Delivery], lease: float, now: float) -> None:
        """Push the leases still held on these deliveries ``lease`` seconds past ``now``."""
        ...

    async def ack(self, deliveries: Sequence[Delivery]) -> None:
        """Delete the messages: they were handled. Works even if the lease ran out meanwhile."""
        ...

    async def retry(self, retries: Sequence[tuple[Delivery, float]], now: float) -> None:
        """Make each message deliverable again after its delay (seconds); its attempt stays counted.

        A delivery whose lease was lost to another consumer is left alone (that consumer owns it now)."""
        ...

    async def release(self, deliveries: Sequence[Delivery], now: float) -> None:
        """Give back messages that were leased but never handed to the Worker: deliverable now, and the
        attempt is not counted (a graceful shutdown does this)."""
        ...

    async def stats(self, now: float) -> QueueStats: ...

    async def purge(self) -> int:
        """Delete every message (ready, delayed and in flight); return how many there were."""
        ...

    async def close(self) -> None: ...

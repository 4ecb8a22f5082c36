"""What a consumer's ``queue(batch, env, ctx)`` handler gets, and what becomes of each message afterwards.

``MessageBatch`` and ``Message`` only *record* the handler's calls (``ack``, ``retry``, ``ackAll``,
``retryAll``) with workerd's precedence and warnings; ``decide`` (pure) turns the record, the handler's
success or failure and the consumer settings into one action per message. Cloudflare's rules:

- first call wins: ``ack`` then ``retry`` (or the reverse) keeps the first, with workerd's warning;
  per-message calls win over a later ``ackAll``/``retryAll``; after ``ackAll``, ``retry``/``retryAll`` are
  ignored, and after ``retryAll``, ``ack``/``ackAll`` are;
- a handler that returns acks every unmarked message; one that raises retries every message not acked
  (production behaviour; Miniflare retries even the acked ones). ``ackAll()`` counts as acking them all;
- a retry waits the message's ``delaySeconds``, else ``retryAll``'s, else the consumer's ``retry_delay``;
- a message retried on its ``max_retries + 1``-th delivery goes to the dead-letter queue, or is dropped.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from portflare.bindings.options import options_from
from portflare.bindings.queues import validate as v
from portflare.bindings.queues.base import Delivery
from portflare.jsobject import JsList

log = logging.getLogger("portflare.queues")


@dataclass
class Outcome:
    """The calls a handler made on one batch."""

    ack_all: bool = False
    retry_all: bool = False
    retry_all_delay: int | None = None
    acks: set[str] = field(default_factory=set)
    retries: dict[str, int | None] = field(default_factory=dict)  # message id → its delaySeconds, if given


def _retry_delay(options: Any, kwargs: dict[str, Any]) -> int | None:
    delay = options_from(options, kwargs).get("delaySeconds")
    return None if delay is None else v.delay_seconds(delay, "retry")


class Message:
    """One message of a batch: ``id``, ``timestamp`` (a UTC datetime), ``body``, ``attempts``."""

    __slots__ = ("_outcome", "attempts", "body", "id", "timestamp")

    def __init__(self, delivery: Delivery, body: Any, outcome: Outcome) -> None:
        self.id = delivery.id
        self.timestamp = datetime.fromtimestamp(delivery.timestamp_ms / 1000, UTC)
        self.body = body
        self.attempts = delivery.attempts
        self._outcome = outcome

    def ack(self) -> None:
        o = self._outcome
        if o.ack_all or self.id in o.acks:
            return
        if o.retry_all:
            log.warning("Received a call to ack() on message %s after retryAll() was already called. Calling ack() "
                        "on a message after calling retryAll() has no effect.", self.id)
        elif self.id in o.retries:
            log.warning("Received a call to ack() on message %s after retry() was already called. Calling ack() on "
                        "a message after calling retry() has no effect.", self.id)
        else:
            o.acks.add(self.id)

    def retry(self, options: Any = None, **kwargs: Any) -> None:
        delay = _retry_delay(options, kwargs)
        o = self._outcome
        if o.retry_all or self.id in o.retries:
            return
        if o.ack_all:
            log.warning("Received a call to retry() on message %s after ackAll() was already called. Calling "
                        "retry() on a message after calling ackAll() has no effect.", self.id)
        elif self.id in o.acks:
            log.warning("Received a call to retry() on message %s after ack() was already called. Calling retry() "
                        "on a message after calling ack() has no effect.", self.id)
        else:
            o.retries[self.id] = delay

    def __repr__(self) -> str:
        return f"Message(id={self.id!r}, attempts={self.attempts}, body={self.body!r})"


class MessageBatch:
    """``batch.queue``, ``batch.messages``, ``batch.ackAll()``, ``batch.retryAll(delaySeconds=...)``."""

    def __init__(self, queue: str, messages: Sequence[Message], outcome: Outcome) -> None:
        self.queue = queue
        self.messages = JsList(messages)
        self._outcome = outcome

    def ackAll(self) -> None:
        if self._outcome.retry_all:
            log.warning("Received a call to ackAll() after retryAll() was already called. Calling ackAll() after "
                        "calling retryAll() has no effect.")
            return
        self._outcome.ack_all = True

    def retryAll(self, options: Any = None, **kwargs: Any) -> None:
        delay = _retry_delay(options, kwargs)
        if self._outcome.ack_all:
            log.warning("Received a call to retryAll() after ackAll() was already called. Calling retryAll() after "
                        "calling ackAll() has no effect.")
            return
        if not self._outcome.retry_all:
            self._outcome.retry_all, self._outcome.retry_all_delay = True, delay

    ack_all = ackAll
    retry_all = retryAll

    def __repr__(self) -> str:
        return f"MessageBatch(queue={self.queue!r}, messages={len(self.messages)})"


class Action(enum.Enum):
    ACK = "ack"
    RETRY = "retry"
    DEAD_LETTER = "dead-letter"
    DROP = "drop"


@dataclass(frozen=True)
class Decision:
    action: Action
    delay: int = 0  # seconds, for RETRY


def decide(outcome: Outcome, message_id: str, attempts: int, *, failed: bool, max_retries: int,
           retry_delay: int, dead_letter: bool) -> Decision:
    """What happens to one message after its batch's handler returned (``failed=False``) or raised."""
    if message_id in outcome.acks:
        return Decision(Action.ACK)
    if message_id in outcome.retries:
        delay = outcome.retries[message_id]
        if delay is None:
            delay = outcome.retry_all_delay
    elif outcome.retry_all:
        delay = outcome.retry_all_delay
    elif outcome.ack_all or not failed:
        return Decision(Action.ACK)
    else:
        delay = None
    return after_failure(attempts, max_retries, dead_letter, retry_delay if delay is None else delay)


def after_failure(attempts: int, max_retries: int, dead_letter: bool, delay: int = 0) -> Decision:
    """A message that failed its ``attempts``-th delivery: retry, or give up after ``max_retries`` retries."""
    if attempts <= max_retries:
        return Decision(Action.RETRY, delay)
    return Decision(Action.DEAD_LETTER if dead_letter else Action.DROP)

"""Pure queue logic, as tables: settle decisions, call precedence, batching, codecs, backend URL choice."""

from __future__ import annotations

import logging
import math
from datetime import UTC, datetime
from typing import Any

import pytest

from portflare.bindings.queues import codec, default_content_type, queue_binding_name, queue_url
from portflare.bindings.queues.base import Delivery
from portflare.bindings.queues.batch import Action, Decision, Message, MessageBatch, Outcome, after_failure, decide
from portflare.config import Config, QueueConsumer, QueueProducer
from portflare.errors import BackendError, JsException
from portflare.runtime.consumers import backoff, batch_ready, concurrency_limit, exhausted

ACK, RETRY, DLQ, DROP = Action.ACK, Action.RETRY, Action.DEAD_LETTER, Action.DROP


def outcome(**kw: Any) -> Outcome:
    return Outcome(**kw)


@pytest.mark.parametrize(("record", "failed", "attempts", "expected"), [
    # a handler that returns acks everything not marked; one that raises retries everything not acked
    (outcome(), False, 1, Decision(ACK)),
    (outcome(), True, 1, Decision(RETRY, 7)),
    (outcome(acks={"m"}), True, 1, Decision(ACK)),  # production: explicit acks survive a throw
    (outcome(ack_all=True), True, 1, Decision(ACK)),
    # explicit retries and their delays: message's, else retryAll's, else the consumer's retry_delay
    (outcome(retries={"m": 30}), False, 1, Decision(RETRY, 30)),
    (outcome(retries={"m": None}), False, 1, Decision(RETRY, 7)),
    (outcome(retries={"m": None}, retry_all=True, retry_all_delay=12), False, 1, Decision(RETRY, 12)),
    (outcome(retry_all=True, retry_all_delay=12), False, 1, Decision(RETRY, 12)),
    (outcome(retry_all=True), False, 1, Decision(RETRY, 7)),
    (outcome(retries={"m": 0}), False, 1, Decision(RETRY, 0)),  # an explicit 0 beats retry_delay
    # per-message calls win over the batch-wide ones
    (outcome(retries={"m": 5}, ack_all=True), False, 1, Decision(RETRY, 5)),
    (outcome(acks={"m"}, retry_all=True), False, 1, Decision(ACK)),
    # out of retries (max_retries=3: the 4th delivery is the last)
    (outcome(), True, 3, Decision(RETRY, 7)),
    (outcome(), True, 4, Decision(DLQ)),
    (outcome(retries={"m": 1}), False, 4, Decision(DLQ)),
    (outcome(), False, 4, Decision(ACK)),
])
def test_decide(record: Outcome, failed: bool, attempts: int, expected: Decision) -> None:
    assert decide(record, "m", attempts, failed=failed, max_retries=3, retry_delay=7, dead_letter=True) == expected


@pytest.mark.parametrize(("attempts", "max_retries", "dead_letter", "expected"), [
    (1, 0, True, DLQ),
    (1, 0, False, DROP),
    (1, 1, False, RETRY),
    (2, 1, False, DROP),
    (100, 100, True, RETRY),
    (101, 100, True, DLQ),
])
def test_after_failure(attempts: int, max_retries: int, dead_letter: bool, expected: Action) -> None:
    assert after_failure(attempts, max_retries, dead_letter).action is expected


def _batch(*ids: str) -> tuple[MessageBatch, Outcome]:
    record = Outcome()
    messages = [Message(Delivery("r" + i, i, 0, "json", b"null", 1), None, record) for i in ids]
    return MessageBatch("q", messages, record), record


@pytest.mark.parametrize(("calls", "acks", "retries", "ack_all", "retry_all", "warning"), [
    (["a.ack", "a.retry"], {"a"}, {}, False, False, "after ack() was already called"),
    (["a.retry", "a.ack"], set(), {"a": None}, False, False, "after retry() was already called"),
    (["ackAll", "a.retry"], set(), {}, True, False, "after ackAll() was already called"),
    (["retryAll", "a.ack"], set(), {}, False, True, "after retryAll() was already called"),
    (["ackAll", "retryAll"], set(), {}, True, False, "Calling retryAll() after calling ackAll() has no effect"),
    (["retryAll", "ackAll"], set(), {}, False, True, "Calling ackAll() after calling retryAll() has no effect"),
    (["a.ack", "ackAll"], {"a"}, {}, True, False, None),
    (["a.retry", "retryAll", "a.retry"], set(), {"a": None}, False, True, None),
    (["ackAll", "a.ack"], set(), {}, True, False, None),
])
def test_call_precedence_and_warnings(calls: list[str], acks: set[str], retries: dict[str, Any], ack_all: bool,
                                      retry_all: bool, warning: str | None, caplog: pytest.LogCaptureFixture) -> None:
    batch, record = _batch("a", "b")
    with caplog.at_level(logging.WARNING, logger="portflare.queues"):
        for call in calls:
            if call == "ackAll":
                batch.ackAll()
            elif call == "retryAll":
                batch.retryAll()
            else:
                getattr(batch.messages[0], call.split(".")[1])()
    assert (record.acks, record.retries, record.ack_all, record.retry_all) == (acks, retries, ack_all, retry_all)
    messages = [r.getMessage() for r in caplog.records]
    assert (any(warning in m for m in messages) if warning else messages == [])


def test_retry_delay_options_and_validation() -> None:
    batch, record = _batch("a", "b")
    batch.messages[0].retry(delaySeconds=5)
    batch.messages[1].retry({"delaySeconds": 9})
    assert record.retries == {"a": 5, "b": 9}
    with pytest.raises(JsException, match="message delay 50000 is invalid"):
        batch.retryAll(delaySeconds=50_000)


def test_message_shape() -> None:
    batch, _ = _batch("a")
    m = batch.messages[0]
    assert (m.id, m.attempts, m.timestamp) == ("a", 1, datetime(1970, 1, 1, tzinfo=UTC))
    assert batch.queue == "q" and batch.messages.to_py() is batch.messages


@pytest.mark.parametrize(("count", "max_size", "deadline", "now", "ready"), [
    (0, 10, None, 0.0, False),  # empty batches are never delivered
    (0, 10, 5.0, 99.0, False),
    (10, 10, None, 0.0, True),  # full
    (3, 10, 5.0, 4.9, False),  # waiting for more
    (3, 10, 5.0, 5.0, True),  # timed out
    (1, 1, 5.0, 0.0, True),
])
def test_batch_ready(count: int, max_size: int, deadline: float | None, now: float, ready: bool) -> None:
    assert batch_ready(count, max_size, deadline, now) is ready


@pytest.mark.parametrize(("attempts", "max_retries", "expected"), [(4, 3, False), (5, 3, True), (1, 0, False),
                                                                     (2, 0, True)])
def test_exhausted_after_crashes(attempts: int, max_retries: int, expected: bool) -> None:
    assert exhausted(attempts, max_retries) is expected


@pytest.mark.parametrize(("setting", "expected"), [(None, 250), (1, 1), (10, 10), (1000, 250)])
def test_concurrency_limit(setting: int | None, expected: int) -> None:
    assert concurrency_limit(QueueConsumer("q", max_concurrency=setting)) == expected


@pytest.mark.parametrize(("failures", "seconds"), [(1, 0.5), (2, 1.0), (4, 4.0), (20, 30.0)])
def test_backoff(failures: int, seconds: float) -> None:
    assert backoff(failures) == seconds


# -- codecs ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("value", [
    None, True, 0, -1, 2**70, 1.5, "s", [], {}, [1, [2, [3]]], {"a": {"b": None}},
    b"\x00\xff", datetime(2026, 5, 1, 12, 30, tzinfo=UTC), {1, 2}, {(1, 2), (3, 4)}, {1: "int key"},
    {"__portflare_v8__": "set", "v": [1]},  # a dict that looks like a tag stays a dict
    (1, 2), float("inf"), float("-inf"),
])
def test_v8_round_trip(value: Any) -> None:
    back = codec.decode(codec.encode(value, "v8"), "v8")
    if isinstance(value, bytes):
        assert bytes(back) == value
    elif isinstance(value, tuple):
        assert back == list(value)  # structured clone has no tuples: an array comes back
    else:
        assert back == value


def test_v8_nan_and_uncloneable() -> None:
    assert math.isnan(codec.decode(codec.encode(float("nan"), "v8"), "v8"))
    with pytest.raises(JsException, match="DataCloneError: .* could not be cloned."):
        codec.encode(object(), "v8")


@pytest.mark.parametrize(("value", "encoded"), [
    ({"a": 1}, b'{"a":1}'),
    ("é", '"é"'.encode()),
    (datetime(2026, 1, 2, 3, 4, 5, 600_000, tzinfo=UTC), b'"2026-01-02T03:04:05.600Z"'),  # as JSON.stringify(date)
    ((1, 2), b"[1,2]"),
])
def test_json_encoding(value: Any, encoded: bytes) -> None:
    assert codec.encode(value, "json") == encoded


@pytest.mark.parametrize("value", [float("nan"), b"bytes", {1, 2}])
def test_json_rejects_what_json_cannot_hold(value: Any) -> None:
    with pytest.raises(TypeError):
        codec.encode(value, "json")


def test_json_bodies_have_attribute_access() -> None:
    body = codec.decode(b'{"user": {"name": "ada"}, "tags": ["x"]}', "json")
    assert body.user.name == "ada" and body["tags"].to_py() == ["x"]


# -- naming and backend choice --------------------------------------------------------------------------


@pytest.mark.parametrize(("queue", "name"), [("quiz-events", "QUEUE_QUIZ_EVENTS"), ("jobs", "QUEUE_JOBS"),
                                             ("a.b c", "QUEUE_A_B_C"), ("Mixed9", "QUEUE_MIXED9")])
def test_queue_binding_name(queue: str, name: str) -> None:
    assert queue_binding_name(queue) == name


PRODUCERS = (QueueProducer("EVENTS", "quiz-events"), QueueProducer("EVENTS2", "quiz-events"),
             QueueProducer("OTHER", "other"))


@pytest.mark.parametrize(("environ", "expected"), [
    ({}, None),
    ({"PORTFLARE_QUEUE_QUIZ_EVENTS": "redis://a"}, "redis://a"),
    ({"PORTFLARE_EVENTS": "redis://b"}, "redis://b"),  # a producer's binding variable reaches the consumer too
    ({"PORTFLARE_EVENTS": "redis://a", "PORTFLARE_QUEUE_QUIZ_EVENTS": "redis://a"}, "redis://a"),
    ({"PORTFLARE_OTHER": "redis://c"}, None),  # another queue's producer
    ({"PORTFLARE_EVENTS": "redis://b", "PORTFLARE_QUEUE_QUIZ_EVENTS": "redis://a"}, BackendError),
    ({"PORTFLARE_EVENTS": "redis://b", "PORTFLARE_EVENTS2": "redis://c"}, BackendError),
])
def test_queue_url(environ: dict[str, str], expected: str | type[Exception] | None) -> None:
    if isinstance(expected, type):
        with pytest.raises(expected, match="must share one backend"):
            queue_url("quiz-events", PRODUCERS, environ)
    else:
        assert queue_url("quiz-events", PRODUCERS, environ) == expected


@pytest.mark.parametrize(("date", "flags", "expected"), [
    ("2024-03-18", (), "json"), ("2024-03-17", (), "v8"), (None, (), "json"),
    ("2023-01-01", ("queues_json_messages",), "json"), ("2025-01-01", ("no_queues_json_messages",), "v8"),
])
def test_default_content_type(date: str | None, flags: tuple[str, ...], expected: str, tmp_path: Any) -> None:
    config = Config(path=tmp_path / "wrangler.toml", root=tmp_path, name="w", main=tmp_path / "w.py",
                    compatibility_date=date, compatibility_flags=flags)
    assert default_content_type(config) == expected

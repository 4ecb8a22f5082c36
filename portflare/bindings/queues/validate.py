"""Cloudflare Queues' limits and error wording, checked once for every backend.

Producer errors reach the Worker as workerd shapes them: argument errors are ``TypeError``s raised before
anything is sent; limits the queue service enforces come back as ``Error: Queue send failed: <statusText>``
(``Queue sendBatch failed: ...``), with the statusText Miniflare's broker uses. Where Miniflare and production
differ we follow production (docs/queues-and-cron.md): the largest delay is 43200 s (12 h), and a batch may
hold 256 KB of bodies (Miniflare checks 288 KB but words the error with 256000).
"""

from __future__ import annotations

import math
from typing import Any

from portflare.errors import ConfigError, JsException, JsTypeError

MAX_MESSAGE_BYTES = 128_000  # 128 KB, 1 KB = 1000 B
MAX_BATCH_MESSAGES = 100
MAX_BATCH_BYTES = 256_000
MAX_DELAY_SECONDS = 43_200  # 12 h, for delaySeconds, retry delays and delivery_delay
CONTENT_TYPES = ("text", "bytes", "json", "v8")


def failed(op: str, status_text: str) -> JsException:
    """The error the queue service's rejection becomes: ``Error: Queue send failed: <statusText>``."""
    return JsException(f"Queue {op} failed: {status_text}")


def content_type(value: Any) -> str:
    """Cloudflare's content type names, matched case-insensitively."""
    if isinstance(value, str) and value.lower() in CONTENT_TYPES:
        return value.lower()
    raise JsTypeError(f"Unsupported queue message content type: {value}")


def delay_seconds(value: Any, op: str) -> int:
    """A ``delaySeconds`` a producer (or ``retry()``) passed: whole seconds, 0..43200."""
    if (isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value)
            or value != int(value) or not 0 <= value <= MAX_DELAY_SECONDS):
        raise failed(op, f"message delay {value} is invalid: must be an integer from 0 to {MAX_DELAY_SECONDS} "
                         "seconds")
    return int(value)


def configured_delay(value: Any, where: str) -> int:
    """A delay from the config (a producer's ``delivery_delay``, a consumer's ``retry_delay``), checked again
    where it is used so the runtime never delays by more than Cloudflare allows, whoever built the config."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_DELAY_SECONDS:
        raise ConfigError(f"{where} = {value!r} is out of range: must be an integer from 0 to {MAX_DELAY_SECONDS} "
                          "seconds")
    return value


def message_size(size: int) -> None:
    if size > MAX_MESSAGE_BYTES:
        raise failed("send", f"message length of {size} bytes exceeds limit of {MAX_MESSAGE_BYTES}")


def batch_sizes(sizes: list[int]) -> None:
    """Checked in the order the broker checks them: count, then the largest message, then the total."""
    if not sizes:
        raise JsTypeError("sendBatch() requires at least one message")
    if len(sizes) > MAX_BATCH_MESSAGES:
        raise failed("sendBatch", f"batch message count of {len(sizes)} exceeds limit of {MAX_BATCH_MESSAGES}")
    largest = max(sizes)
    if largest > MAX_MESSAGE_BYTES:
        raise failed("sendBatch", f"message in batch has length {largest} bytes which exceeds single message size "
                                  f"limit of {MAX_MESSAGE_BYTES}")
    total = sum(sizes)
    if total > MAX_BATCH_BYTES:
        raise failed("sendBatch", f"batch size of {total} bytes exceeds limit of {MAX_BATCH_BYTES}")

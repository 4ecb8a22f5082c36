"""``env.<QUEUE>``: the producer a Worker calls (``send``, ``sendBatch``), with Cloudflare's options and errors.

Options are accepted the three ways Python Workers code passes them: keywords
(``send(body, contentType="text")``), a trailing dict (``send(body, {"delaySeconds": 5})``), or a ``to_js``
value. A message's delay is its own ``delaySeconds``, else the batch's, else the producer's ``delivery_delay``
(an explicit 0 overrides the producer default, as on Cloudflare).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from portflare.bindings.options import options_from
from portflare.bindings.queues import codec
from portflare.bindings.queues import validate as v
from portflare.bindings.queues.base import OutgoingMessage, QueueBackend
from portflare.errors import JsTypeError
from portflare.jsobject import py_value


def _field(message: Any, name: str) -> Any:
    if isinstance(message, Mapping):
        return message.get(name)
    return getattr(message, name, None)


def new_message_id() -> str:
    return uuid.uuid4().hex


class Queue:
    """A queue producer binding (Cloudflare's ``WorkerQueue``)."""

    def __init__(self, backend: QueueBackend, name: str, *, delivery_delay: int = 0,
                 default_content_type: str = "json", clock: Callable[[], float] = time.time) -> None:
        self._backend = backend
        self._name = name
        self._delivery_delay = delivery_delay
        self._default_content_type = default_content_type
        self._clock = clock

    @property
    def queue_name(self) -> str:
        return self._name

    def _encode(self, body: Any, content_type: Any) -> tuple[str, bytes]:
        kind = self._default_content_type if content_type is None else v.content_type(content_type)
        return kind, codec.encode(body, kind)

    def _delay(self, value: Any, fallback: int, op: str) -> int:
        return fallback if value is None else v.delay_seconds(value, op)

    async def send(self, body: Any, options: Any = None, **kwargs: Any) -> None:
        """Resolves once the message is stored durably."""
        opts = options_from(options, kwargs)
        kind, data = self._encode(body, opts.get("contentType"))
        v.message_size(len(data))
        delay = self._delay(opts.get("delaySeconds"), self._delivery_delay, "send")
        now = self._clock()
        await self._backend.send([OutgoingMessage(new_message_id(), int(now * 1000), kind, data, delay)], now)

    async def sendBatch(self, messages: Iterable[Any], options: Any = None, **kwargs: Any) -> None:
        """Up to 100 messages and 256 KB of bodies, stored all together or not at all."""
        opts = options_from(options, kwargs)
        batch_delay = self._delay(opts.get("delaySeconds"), self._delivery_delay, "sendBatch")
        items = list(py_value(messages) or [])
        encoded = []
        for message in items:
            message = py_value(message)
            if isinstance(message, Mapping) and "body" not in message:
                raise JsTypeError("Message body cannot be undefined")
            kind, data = self._encode(_field(message, "body"), _field(message, "contentType"))
            delay = self._delay(_field(message, "delaySeconds"), batch_delay, "sendBatch")
            encoded.append((kind, data, delay))
        v.batch_sizes([len(data) for _, data, _ in encoded])
        now = self._clock()
        stamp = int(now * 1000)
        await self._backend.send(
            [OutgoingMessage(new_message_id(), stamp, kind, data, delay) for kind, data, delay in encoded], now)

    send_batch = sendBatch

    async def _aclose(self) -> None:
        await self._backend.close()

    def __repr__(self) -> str:
        return f"Queue({self._name!r})"

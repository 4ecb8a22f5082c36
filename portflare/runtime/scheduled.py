"""``ScheduledController`` (the ``controller`` of one cron tick) and the dev routes that fire one by hand.

``portflare dev`` answers the routes local Cloudflare tooling offers for this:

- ``/__scheduled`` — ``wrangler dev --test-scheduled`` (JavaScript Workers; its middleware replies
  ``Ran scheduled event``);
- ``/cdn-cgi/handler/scheduled`` — Miniflare's, the one Python Workers use under ``wrangler dev``; newer
  Miniflare moved it to ``/cdn-cgi/local/scheduled``, Miniflare 2 had ``/cdn-cgi/mf/scheduled``. It replies with
  the outcome (``ok``/``exception``, status 200/500).

All take Miniflare's parameters: ``cron`` (``controller.cron``; default ``""``, as workerd's), ``time``
(``controller.scheduledTime`` in ms since the epoch; default now) and ``format=json`` (reply
``{"outcome": ..., "noRetry": ...}``).
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from urllib.parse import parse_qs

WRANGLER_TRIGGER_PATH = "/__scheduled"
TRIGGER_PATHS = (WRANGLER_TRIGGER_PATH, "/cdn-cgi/handler/scheduled", "/cdn-cgi/local/scheduled",
                 "/cdn-cgi/mf/scheduled")


class ScheduledController:
    """``.cron`` (the expression that fired), ``.scheduledTime`` (ms since the epoch), ``.noRetry()``."""

    type = "scheduled"

    def __init__(self, cron: str, scheduled_time: float | None = None) -> None:
        self.cron = cron
        # Cloudflare passes a whole number of milliseconds.
        self.scheduledTime = float(int(time.time() * 1000) if scheduled_time is None else int(scheduled_time))
        self.retry = True

    @property
    def scheduled_time(self) -> float:
        return self.scheduledTime

    def noRetry(self) -> None:
        self.retry = False

    no_retry = noRetry

    def __repr__(self) -> str:
        return f"ScheduledController(cron={self.cron!r}, scheduledTime={self.scheduledTime!r})"


@dataclass(frozen=True)
class TriggerRequest:
    cron: str
    scheduled_time: float | None  # ms since the epoch; None: now
    as_json: bool


def trigger_request(query_string: str) -> TriggerRequest:
    """The parameters of a trigger route's query string; ``ValueError`` (a 400) for a ``time`` that is not ms."""
    query = parse_qs(query_string, keep_blank_values=True)
    raw_time = query.get("time", [""])[0].strip()
    scheduled_time: float | None = None
    if raw_time:
        if not re.fullmatch(r"[+-]?\d+", raw_time):
            raise ValueError(f"time must be a whole number of milliseconds since the epoch, got {raw_time!r}")
        scheduled_time = float(int(raw_time))
    return TriggerRequest(cron=query.get("cron", [""])[0], scheduled_time=scheduled_time,
                          as_json=query.get("format", [""])[0] == "json")

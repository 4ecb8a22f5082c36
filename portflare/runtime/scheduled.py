"""``ScheduledController``: the ``controller`` a ``scheduled`` handler receives for one cron tick."""

from __future__ import annotations

import time


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

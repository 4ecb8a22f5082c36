"""``workers.workflows``: the error a Workflow step raises to stop retrying."""

from __future__ import annotations


class NonRetryableError(Exception):
    """Raised in a Workflow step to fail the instance at once instead of retrying the step."""

    def __init__(self, message: str = "", name: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.name = name or "NonRetryableError"

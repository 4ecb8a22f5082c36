"""``workers.workflows``: see ``portflare.api.workflows``."""

from portflare.api.workflows import NonRetryableError

__all__ = ["NonRetryableError"]

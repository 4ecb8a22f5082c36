"""``workers.asgi``: see ``portflare.api.asgi``."""

from portflare.api import asgi as _impl
from portflare.api.asgi import fetch

__all__ = ["fetch"]  # and `env`, the FastAPI dependency, built on first access


def __getattr__(name):
    return getattr(_impl, name)

"""The top-level ``asgi`` module: an alias of ``workers.asgi``, as in Cloudflare's SDK."""

from portflare.api import asgi as _impl
from portflare.api.asgi import fetch

__all__ = ["fetch"]  # and `env`, the FastAPI dependency, built on first access


def __getattr__(name):
    return getattr(_impl, name)

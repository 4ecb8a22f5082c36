"""``workers.wsgi``: see ``portflare.api.wsgi``."""

from portflare.api.wsgi import fetch

__all__ = ["fetch"]

"""``pyodide.http``: ``pyfetch`` over portflare's ``fetch``."""

from portflare.api.fetch import fetch as _fetch
from portflare.api.response import Response as FetchResponse

__all__ = ["FetchResponse", "pyfetch"]


async def pyfetch(url, **kwargs):
    return await _fetch(url, **kwargs)

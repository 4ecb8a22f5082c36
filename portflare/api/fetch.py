"""Outbound ``fetch()`` over one shared ``httpx.AsyncClient`` per event loop, resolving to our ``Response``."""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import AsyncIterator
from typing import Any, TypeAlias

import httpx

from portflare.api.headers import Headers
from portflare.api.request import Request
from portflare.api.response import Response
from portflare.errors import JsTypeError

FetchKwargs: TypeAlias = dict[str, Any]
_REQUEST_OPTIONS = ("method", "headers", "body", "redirect")
FetchResponse = Response

# A client's connection pool belongs to the loop that opened it, so each loop (tests run many) gets its own.
_clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, httpx.AsyncClient] = weakref.WeakKeyDictionary()


def _client() -> httpx.AsyncClient:
    loop = asyncio.get_running_loop()
    client = _clients.get(loop)
    if client is None or client.is_closed:
        client = httpx.AsyncClient(follow_redirects=False, timeout=httpx.Timeout(None, connect=30))
        _clients[loop] = client
    return client


async def aclose_client() -> None:
    """Close this loop's shared client (the host calls it at shutdown)."""
    client = _clients.pop(asyncio.get_running_loop(), None)
    if client is not None:
        await client.aclose()


async def fetch(resource: str | Request | Any, **options: Any) -> Response:
    """``await fetch(url_or_request, method=, headers=, body=, redirect=, cf=)``.

    Options are keywords only: a JS-style options dict passed positionally is a TypeError, as on Cloudflare.
    """
    options.pop("cf", None)  # Cloudflare-specific caching hints have no meaning for a direct request
    # The SDK hands every keyword to JS fetch(), which ignores init members it does not know (and ones that
    # mean nothing without a browser: mode, credentials, cache, integrity, keepalive, signal, ...).
    known = {k: v for k, v in options.items() if k in _REQUEST_OPTIONS}
    request = Request(resource if isinstance(resource, Request) else str(resource), **known)
    redirect = request.redirect
    if redirect not in ("follow", "manual", "error"):
        raise JsTypeError(f"Invalid redirect value '{redirect}'.")
    content = None if request._source is None else request.aiter_bytes()
    client = _client()
    outgoing = client.build_request(str(request.method), request.url, headers=request.headers.raw(), content=content)
    try:
        upstream = await client.send(outgoing, stream=True, follow_redirects=redirect == "follow")
    except httpx.HTTPError as exc:
        raise JsTypeError(f"Network connection lost. ({type(exc).__name__}: {exc})") from exc
    if redirect == "error" and upstream.is_redirect:
        await upstream.aclose()
        raise JsTypeError("Fetch failed: redirect mode is 'error' and the response is a redirect.")
    return Response._from_stream(
        _stream(upstream), status=upstream.status_code, status_text=upstream.reason_phrase,
        headers=Headers(upstream.headers.multi_items()), url=str(upstream.url),
        redirected=bool(upstream.history),
    )


async def _stream(upstream: httpx.Response) -> AsyncIterator[bytes]:
    # httpx has already undone Content-Encoding; what we yield is the decoded body, as fetch() gives it.
    try:
        async for chunk in upstream.aiter_bytes():
            yield chunk
    finally:
        await upstream.aclose()

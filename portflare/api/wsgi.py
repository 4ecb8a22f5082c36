"""``workers.wsgi``: run a WSGI app (Flask, Django) for one Worker request, in a thread.

The Worker's env is in ``environ["workers.env"]``, as with Cloudflare's SDK.
"""

from __future__ import annotations

import asyncio
import io
import sys
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import unquote, urlsplit

from portflare.api.request import Request
from portflare.api.response import Response

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def _environ(request: Request, body: bytes, env: Any) -> dict[str, Any]:
    url = urlsplit(request.url)
    scheme = url.scheme or "http"
    environ: dict[str, Any] = {
        "REQUEST_METHOD": str(request.method),
        "SCRIPT_NAME": "",
        "PATH_INFO": unquote(url.path or "/").encode("utf-8").decode("latin-1"),
        "QUERY_STRING": url.query,
        "SERVER_NAME": url.hostname or "localhost",
        "SERVER_PORT": str(url.port or (443 if scheme == "https" else 80)),
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": request.headers.get("cf-connecting-ip") or "127.0.0.1",
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": scheme,
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
        "workers.env": env,
    }
    for name, value in request.headers.items():
        key = name.upper().replace("-", "_")
        if key == "CONTENT_TYPE":
            environ["CONTENT_TYPE"] = value
        elif key != "CONTENT_LENGTH":
            environ[f"HTTP_{key}"] = value
    return environ


def _run(app: WSGIApp, environ: dict[str, Any]) -> tuple[str, list[tuple[str, str]], bytes]:
    started: list[Any] = []

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Callable[[bytes], None]:
        if exc_info is not None and started:
            raise exc_info[1].with_traceback(exc_info[2])
        started[:] = [status, headers]
        return written.append

    written: list[bytes] = []
    result = app(environ, start_response)
    try:
        written.extend(result)
    finally:
        close = getattr(result, "close", None)
        if close is not None:
            close()
    if not started:
        raise RuntimeError("WSGI app returned without calling start_response")
    return started[0], started[1], b"".join(written)


async def fetch(app: WSGIApp, request: Any, env: Any, ctx: Any = None) -> Response:
    """Run ``app`` for the Worker's request in a worker thread and return its response."""
    req = getattr(request, "js_object", request)
    if not isinstance(req, Request):
        raise TypeError(f"wsgi.fetch() needs the Worker's request, got {type(request).__name__}")
    body = await req.bytes() if req.body is not None else b""
    status, headers, data = await asyncio.to_thread(_run, app, _environ(req, body, env))
    code, _, reason = status.partition(" ")
    payload = data if data and int(code) not in (101, 204, 205, 304) else None
    return Response(payload, status=int(code), status_text=reason, headers=headers)

"""``workers.asgi``: run an ASGI app (FastAPI, Starlette) for one Worker request, as Cloudflare's SDK does.

As on Cloudflare, the app's lifespan starts before and shuts down after **every** request, the Worker's env
is in ``scope["env"]``, and bodies stream both ways.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import unquote, urlsplit

from portflare.api.headers import Headers
from portflare.api.request import Request
from portflare.api.response import Response

log = logging.getLogger("portflare.worker")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
ASGIApp = Callable[[Scope, Callable[[], Awaitable[Message]], Callable[[Message], Awaitable[None]]], Awaitable[None]]


class _Lifespan:
    """Drive the app's lifespan protocol; an app that does not speak it is tolerated (as Starlette does)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.state: dict[str, Any] = {}
        self._inbox: asyncio.Queue[Message] = asyncio.Queue()
        self._outbox: asyncio.Queue[Message] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self._supported = True

    async def _run(self) -> None:
        scope = {"type": "lifespan", "asgi": {"version": "3.0", "spec_version": "2.0"}, "state": self.state}
        try:
            await self.app(scope, self._inbox.get, self._outbox.put)
        except Exception:
            self._supported = False
            log.debug("ASGI app does not support lifespan", exc_info=True)
        finally:
            await self._outbox.put({"type": "lifespan.done"})

    async def _exchange(self, kind: str) -> None:
        await self._inbox.put({"type": f"lifespan.{kind}"})
        reply = await self._outbox.get()
        if reply["type"] == f"lifespan.{kind}.failed":
            raise RuntimeError(f"ASGI lifespan {kind} failed: {reply.get('message', '')}")
        if reply["type"] == "lifespan.done":
            self._supported = False

    async def startup(self) -> None:
        self._task = asyncio.create_task(self._run())
        await self._exchange("startup")

    async def shutdown(self) -> None:
        if self._task is None:
            return
        if self._supported:
            await self._exchange("shutdown")
        await self._task


def _scope(request: Request, env: Any, ctx: Any, state: dict[str, Any]) -> Scope:
    url = urlsplit(request.url)
    raw_path = url.path or "/"
    port = url.port or (443 if url.scheme == "https" else 80)
    return {
        "type": "http",
        "asgi": {"spec_version": "2.0", "version": "3.0"},
        "http_version": "1.1",
        "method": str(request.method),
        "scheme": url.scheme or "http",
        "path": unquote(raw_path),
        "raw_path": raw_path.encode("latin-1", errors="replace"),
        "query_string": url.query.encode("latin-1", errors="replace"),
        "root_path": "",
        "headers": [(k.encode("latin-1"), v.encode("latin-1")) for k, v in request.headers.raw()],
        "server": (url.hostname or "localhost", port),
        "client": (request.headers.get("cf-connecting-ip") or "127.0.0.1", 0),
        "env": env,
        "ctx": ctx,
        "state": dict(state),
        "extensions": {},
    }


def _as_request(req: Any) -> Request:
    js = getattr(req, "js_object", req)
    if isinstance(js, Request):
        return js
    raise TypeError(f"asgi.fetch() needs the Worker's request, got {type(req).__name__}")


async def fetch(app: ASGIApp, req: Any, env: Any, ctx: Any = None, *, options: Any = None) -> Response:
    """Run ``app`` for ``req`` and return its response; the body streams while the app still runs."""
    request = _as_request(req)
    lifespan = _Lifespan(app)
    await lifespan.startup()
    body = request.aiter_bytes() if not request.body_used else None
    started: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
    chunks: asyncio.Queue[bytes | None] = asyncio.Queue()
    disconnected = asyncio.Event()
    completed = asyncio.Event()

    body_done = False

    async def receive() -> Message:
        nonlocal body_done
        if body is not None and not body_done:
            try:
                return {"type": "http.request", "body": await anext(body), "more_body": True}
            except StopAsyncIteration:
                pass
        if not body_done:
            body_done = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await disconnected.wait()  # after the body, receive() blocks until the response is finished
        return {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        if message["type"] == "http.response.start":
            started.set_result(message)
        elif message["type"] == "http.response.body":
            if message.get("body"):
                await chunks.put(bytes(message["body"]))
            if not message.get("more_body", False):
                completed.set()
                await chunks.put(None)

    async def run_app() -> None:
        try:
            await app(_scope(request, env, ctx, lifespan.state), receive, send)
        finally:
            await chunks.put(None)

    task: asyncio.Future[Any] = asyncio.create_task(run_app())
    await asyncio.wait([task, started], return_when=asyncio.FIRST_COMPLETED)
    if not started.done():
        with contextlib.suppress(BaseException):
            await lifespan.shutdown()
        task.result()  # the app raised before starting a response: let the Worker's error handling see it
        raise RuntimeError("ASGI app returned without sending a response")
    start = started.result()

    async def stream() -> AsyncIterator[bytes]:
        try:
            while (chunk := await chunks.get()) is not None:
                yield chunk
            disconnected.set()
            try:
                await task
            except Exception:
                if not completed.is_set():
                    raise  # the body is cut short: let the host abort the connection
                # Starlette re-raises after sending its 500 "so the server can log it": we are the server.
                log.exception("Exception in ASGI application (after its response was sent)")
        finally:
            disconnected.set()
            if not task.done():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            await lifespan.shutdown()

    headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in start.get("headers", [])]
    status = int(start["status"])
    source = None if status in (101, 204, 205, 304) else stream()
    if source is None:
        disconnected.set()
        await task
        await lifespan.shutdown()
    return Response._from_stream(source, status=status, status_text="", headers=Headers(headers), url="",
                                 redirected=False)


def _env_dependency() -> Any:
    from fastapi import Depends
    from fastapi import Request as FastAPIRequest

    def get_env(request: FastAPIRequest) -> Any:
        return request.scope["env"]

    # FastAPI reads the annotation to inject the request; a postponed (string) one would not resolve here.
    get_env.__annotations__["request"] = FastAPIRequest

    return Depends(get_env)


def __getattr__(name: str) -> Any:
    # `asgi.env` is a FastAPI dependency; built lazily so this module does not need FastAPI installed.
    if name == "env":
        value = _env_dependency()
        globals()["env"] = value
        return value
    raise AttributeError(name)

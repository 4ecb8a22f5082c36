"""``create_app``: the ASGI 3 application that serves one Worker.

Lifespan opens the env, loads the Worker, runs startup hooks and (when the Worker has queue/scheduled
handlers) the background consumers; shutdown waits a bounded time for ``wait_until`` work, then closes the
env. Each HTTP request becomes a ``Request``, goes to static assets and/or the Worker's fetch, and the
``Response`` goes back in one message when its body is in memory, else streams chunk by chunk.

This is the per-request hot path (``bench/asgi_micro_bench.py`` measures it): what a Worker may never read
(headers, ``cf``, the body) is built or received only when it does.
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import logging
import traceback
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, MutableMapping
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

from portflare.api.current import event_scope, set_process_env
from portflare.api.fetch import aclose_client
from portflare.api.headers import Headers
from portflare.api.request import Request, normalize_url
from portflare.api.response import Response
from portflare.config import Config
from portflare.jsobject import JsDict
from portflare.runtime.context import BackgroundTasks, ExecutionContext
from portflare.runtime.env import open_env
from portflare.runtime.events import EventContext
from portflare.runtime.handlers import WorkerHandlers
from portflare.runtime.loader import load_worker
from portflare.runtime.scheduled import TRIGGER_PATHS, WRANGLER_TRIGGER_PATH, ScheduledController, trigger_request

log = logging.getLogger("portflare.worker")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
StartupHook = Callable[[Any], Awaitable[Any]]

# Cloudflare lets waitUntil() work run for 30 s after the response; we give the same grace at shutdown.
WAIT_UNTIL_GRACE = 30.0


def create_app(config: Config, *, state_dir: Path, dev: bool, assets: Any = None,
               startup_hooks: Iterable[StartupHook] = (),
               report_startup_failure: Callable[[str], bool] | None = None) -> WorkerApp:
    return WorkerApp(config, state_dir=state_dir, dev=dev, assets=assets, startup_hooks=startup_hooks,
                     report_startup_failure=report_startup_failure)


class WorkerApp:
    def __init__(self, config: Config, *, state_dir: Path, dev: bool, assets: Any = None,
                 startup_hooks: Iterable[StartupHook] = (),
                 report_startup_failure: Callable[[str], bool] | None = None) -> None:
        """``report_startup_failure(message)`` says whether this process should print a failed startup's message
        (False when another process of the same server already did)."""
        self.config, self.state_dir, self.dev, self.assets = config, state_dir, dev, assets
        self.startup_hooks = list(startup_hooks)
        self.report_startup_failure = report_startup_failure
        self.tasks = BackgroundTasks()
        self.env: Any = None
        self.handlers: WorkerHandlers | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            await self._http(scope, receive, send)
        elif scope["type"] == "lifespan":
            await self._lifespan(receive, send)
        elif scope["type"] == "websocket":
            await receive()
            await send({"type": "websocket.close", "code": 1011, "reason": "WebSockets are not supported yet"})

    # -- lifespan ---------------------------------------------------------------------------------------

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        await receive()  # lifespan.startup
        async with AsyncExitStack() as stack:
            try:
                await self.startup(stack)
            except Exception as exc:
                # Said once, by the server that hosts us (uvicorn logs the message): not also in our own log.
                message = _startup_failure_message(exc)
                if self.report_startup_failure is not None and not self.report_startup_failure(message):
                    message = ""
                await send({"type": "lifespan.startup.failed", "message": message})
                return
            await send({"type": "lifespan.startup.complete"})
            await receive()  # lifespan.shutdown
        await send({"type": "lifespan.shutdown.complete"})

    async def startup(self, stack: AsyncExitStack) -> None:
        """Open the env, load the Worker, run hooks and background consumers; ``stack`` undoes it all."""
        extra = {}
        if self.assets is not None and self.config.assets is not None and self.config.assets.binding:
            extra[self.config.assets.binding] = self.assets  # AssetServer.fetch(request) is the ASSETS binding
        self.env = await stack.enter_async_context(open_env(self.config, self.state_dir, extra=extra))
        stack.push_async_callback(aclose_client)
        # Registered after the env so it runs before the env closes: waitUntil work may still use bindings.
        stack.push_async_callback(self.tasks.drain, WAIT_UNTIL_GRACE)
        # Before the import, so `from workers import env` works (and `env.X` at module level).
        set_process_env(self.env, ExecutionContext(self.tasks))
        stack.callback(set_process_env, None, None)
        self.handlers = load_worker(self.config)
        stack.callback(setattr, self, "handlers", None)
        for hook in self.startup_hooks:
            await hook(self.env)
        if self.handlers.has_queue or self.handlers.has_scheduled:
            background = _background_runner()
            if background is not None:
                await stack.enter_async_context(background(
                    self.config, self.env, self.state_dir,
                    self.run_queue if self.handlers.has_queue else None,
                    self.run_scheduled if self.handlers.has_scheduled else None,
                ))

    # -- events from outside HTTP (cron, queues) ----------------------------------------------------------

    async def run_scheduled(self, controller: Any) -> None:
        """Run the Worker's scheduled handler for one tick, and its waitUntil work (raises if either failed)."""
        assert self.handlers is not None, "the Worker is not loaded"
        ctx = EventContext(self.tasks)
        await ctx.complete(self.handlers.scheduled(controller, self.env, ctx))

    async def run_queue(self, batch: Any) -> None:
        """Run the Worker's queue handler for one batch, and its waitUntil work (raises if either failed): the
        consumer settles the batch only when this returns, as Cloudflare does."""
        assert self.handlers is not None, "the Worker is not loaded"
        ctx = EventContext(self.tasks)
        await ctx.complete(self.handlers.queue(batch, self.env, ctx))

    # -- HTTP -----------------------------------------------------------------------------------------------

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.handlers is None:
            await send_response(send, Response("The Worker is not loaded (did lifespan startup run?)", status=503))
            return
        request = request_from_scope(scope, receive)
        ctx = ExecutionContext(self.tasks)
        with event_scope(self.env, ctx):  # also while the body streams: generators may use workers.env
            if self.dev and scope["path"] in TRIGGER_PATHS:
                response = await self._test_scheduled(scope)
            else:
                response = await self._respond(request, ctx)
            await send_response(send, response, head=scope["method"] == "HEAD")

    async def _respond(self, request: Request, ctx: ExecutionContext) -> Response:
        assert self.handlers is not None
        assets = self.assets
        if assets is not None and not assets.should_run_worker_first(request.url):
            served: Response | None = await assets.serve(request)
            if served is not None:
                return served
        if not self.handlers.has_fetch:
            if assets is not None:
                result: Response = await assets.fetch(request)
                return result
            return Response("Handler does not export a fetch() function.", status=500)
        try:
            return await self.handlers.fetch(request, self.env, ctx)
        except Exception as exc:
            log.exception("Uncaught exception in the Worker for %s %s", request.method, request.url)
            if ctx.passed_through and assets is not None:
                fallback: Response = await assets.fetch(request)
                return fallback
            return self._error_response(exc)

    async def _test_scheduled(self, scope: Scope) -> Response:
        """Fire the scheduled handler by hand: the routes and parameters of ``portflare.runtime.scheduled``."""
        try:
            trigger = trigger_request(scope.get("query_string", b"").decode("latin-1"))
        except ValueError as exc:
            return Response(str(exc), status=400)
        controller = ScheduledController(trigger.cron, trigger.scheduled_time)
        error: Exception | None = None
        try:
            await self.run_scheduled(controller)
        except Exception as exc:
            log.exception("Uncaught exception in the Worker's scheduled handler (cron %r)", controller.cron)
            error = exc
        outcome, status = ("ok", 200) if error is None else ("exception", 500)
        if trigger.as_json:
            return Response.from_json({"outcome": outcome, "noRetry": not controller.retry}, status=status)
        if scope["path"] != WRANGLER_TRIGGER_PATH:
            return Response(outcome, status=status)
        return Response("Ran scheduled event") if error is None else self._error_response(error)

    def _error_response(self, exc: BaseException) -> Response:
        if self.dev:
            text = "".join(traceback.format_exception(exc))
            return Response(f"Worker threw exception\n\n{text}", status=500)
        return Response("Worker threw exception", status=500)


def _startup_failure_message(exc: BaseException) -> str:
    """Our own errors (config, loading, backends) already say what is wrong; anything else gets its traceback."""
    from portflare.errors import PortflareError

    if isinstance(exc, PortflareError):
        return f"Worker startup failed: {exc}"
    return "Worker startup failed:\n" + "".join(traceback.format_exception(exc)).rstrip()


def _background_runner() -> Any:
    """``portflare.runtime.background.run_background`` when that module exists (it is optional)."""
    try:
        background = importlib.import_module("portflare.runtime.background")
    except ModuleNotFoundError as exc:
        if exc.name != "portflare.runtime.background":
            raise  # the module exists but is broken: say so rather than silently skip queues and crons
        return None
    return getattr(background, "run_background", None)


def request_from_scope(scope: Scope, receive: Receive) -> Request:
    """The ``Request`` for an ASGI ``http`` scope. Only the URL and method are worked out now: headers and
    ``cf`` are built if the Worker reads them, and the body is read from ``receive`` as the Worker consumes it."""
    server = scope.get("server") or ("localhost", None)
    host: str | None = None
    for name, value in scope.get("headers", ()):
        if name == b"host":
            host = value.decode("latin-1")
            break
    if host is None:
        host = server[0] if server[1] in (None, 80, 443) else f"{server[0]}:{server[1]}"
    scheme = scope.get("scheme", "http")
    raw_path = scope.get("raw_path")
    path = raw_path.decode("latin-1") if raw_path else scope.get("path", "/")
    query = scope.get("query_string", b"").decode("latin-1")
    origin = _origin(scheme, host)
    if origin is not None and path.startswith("/"):
        url = origin + path  # what normalize_url gives, with the host part cached
    else:
        url = normalize_url(f"{scheme}://{host}{path}")
    if query:
        url = f"{url}?{query}"
    method = scope.get("method", "GET")
    body = None if method in ("GET", "HEAD") else _receive_body(receive)
    return Request._incoming(url, method, body, functools.partial(_headers_and_cf, scope))


@functools.lru_cache(maxsize=256)
def _origin(scheme: str, host: str) -> str | None:
    """``scheme://host`` as ``normalize_url`` writes it (clients send the same few Host values), or None for
    a Host with a character that would end the authority part early (normalize the whole URL then)."""
    if "/" in host or "?" in host or "#" in host:
        return None
    return normalize_url(f"{scheme}://{host}/")[:-1]


def _headers_and_cf(scope: Scope) -> tuple[Headers, JsDict]:
    """A request's headers (plus the ones Cloudflare's edge adds) and its ``cf`` object."""
    headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope.get("headers", ())]
    names = {k for k, _ in headers}
    scheme = scope.get("scheme", "http")
    client = (scope.get("client") or ("127.0.0.1", 0))[0]
    # Kept when a proxy in front already set them.
    if "cf-connecting-ip" not in names:
        headers.append(("cf-connecting-ip", client))
    if "x-forwarded-proto" not in names:
        headers.append(("x-forwarded-proto", scheme))
    country = next((v for k, v in headers if k == "cf-ipcountry"), "XX")
    cf = JsDict(colo="LOCAL", country=country, clientIp=client, asn=0, asOrganization="portflare",
                httpProtocol=f"HTTP/{scope.get('http_version', '1.1')}",
                tlsVersion="" if scheme == "http" else "TLSv1.3", clientTcpRtt=0, requestPriority="")
    return Headers(headers), cf


async def _receive_body(receive: Receive) -> AsyncIterator[bytes]:
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise OSError("the client disconnected before sending the whole request body")
        chunk = message.get("body", b"")
        if chunk:
            yield bytes(chunk)
        if not message.get("more_body", False):
            return


async def send_response(send: Send, response: Response, *, head: bool = False) -> None:
    """Send ``response`` over ASGI: a body held in memory in one message, a streamed one chunk by chunk."""
    headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in response.headers.raw()]
    length = response.known_length()
    if length is not None and response.status not in (204, 304) and not response.headers.has("content-length"):
        headers.append((b"content-length", str(length).encode()))
    await send({"type": "http.response.start", "status": response.status, "headers": headers})
    if head:
        chunks = response.aiter_bytes()
        aclose = getattr(chunks, "aclose", None)
        if aclose is not None:
            await aclose()
        await send({"type": "http.response.body", "body": b"", "more_body": False})
        return
    body = response.take_buffered()
    if body is not None:
        await send({"type": "http.response.body", "body": body, "more_body": False})
        return
    chunks = response.aiter_bytes()
    try:
        async for chunk in chunks:
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
    except Exception:
        # Headers are out, so the status cannot change: log, then abort the connection (re-raise) so the
        # client sees a truncated response rather than one that looks complete.
        log.exception("The Worker's response body failed while streaming")
        raise
    finally:
        aclose = getattr(chunks, "aclose", None)
        if aclose is not None:
            with contextlib.suppress(Exception):
                await aclose()
    await send({"type": "http.response.body", "body": b"", "more_body": False})

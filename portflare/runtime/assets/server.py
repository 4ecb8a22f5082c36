"""``AssetServer``: a Worker's ``assets`` directory served as Cloudflare's asset worker serves it.

The runtime host asks ``should_run_worker_first(path)`` first (``run_worker_first``), then ``serve(request)``:
an asset response, or None to let the Worker handle the request. ``fetch(request)`` is ``env.ASSETS.fetch``.
The order mirrors workers-shared's router worker: ``_redirects`` and existing assets answer before the Worker;
``not_found_handling`` only answers a request the Worker would otherwise get when it is a browser navigation
(``Sec-Fetch-Mode: navigate``, compatibility flag ``assets_navigation_prefers_asset_serving``, on from
2025-04-01), and a Worker calling ``env.ASSETS.fetch`` always gets it.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from portflare.api.headers import Headers
from portflare.api.response import Response
from portflare.config import Assets, Config
from portflare.errors import ConfigError
from portflare.runtime.assets.index import AssetFile, AssetIndex
from portflare.runtime.assets.paths import Url, decode_path, encode_path, normalize_pathname, parse_url
from portflare.runtime.assets.resolve import Resolver
from portflare.runtime.assets.rules import (
    HeaderRules,
    Redirects,
    StaticRouting,
    parse_headers,
    parse_redirects,
    parse_static_routing,
)

log = logging.getLogger("portflare.assets")

CACHE_CONTROL = "public, max-age=0, must-revalidate"  # asset-worker/src/constants.ts CACHE_CONTROL_BROWSER
NAVIGATION_FLAG, NAVIGATION_FLAG_OFF, NAVIGATION_FLAG_DATE = (
    "assets_navigation_prefers_asset_serving", "assets_navigation_has_no_effect", "2025-04-01")
_INLINE_LIMIT = 64 * 1024  # files up to this size are read at once; larger ones stream
_STREAM_CHUNK = 256 * 1024
_STATUS_TEXT = {301: "Moved Permanently", 302: "Found", 303: "See Other", 304: "Not Modified",
                307: "Temporary Redirect", 308: "Permanent Redirect", 404: "Not Found", 405: "Method Not Allowed"}


@dataclass(frozen=True)
class _Redirect:
    status: int
    location: str


@dataclass(frozen=True)
class _Asset:
    etag: str
    status: int  # 200, or 404 for a 404 page


@dataclass(frozen=True)
class _Empty:
    status: int
    no_intent: bool = False  # nothing matched: the Worker may answer instead


_Outcome = _Redirect | _Asset | _Empty


@dataclass(frozen=True)
class _State:
    index: AssetIndex
    redirects: Redirects
    headers: HeaderRules


class AssetServer:
    def __init__(self, assets: Assets, *, has_worker: bool = True, navigation_prefers_assets: bool = True,
                 refresh_interval: float | None = None) -> None:
        """``refresh_interval`` (seconds, for dev): rescan the directory on a request at most this often."""
        self.config = assets
        self.has_worker = has_worker
        self.navigation_prefers_assets = navigation_prefers_assets
        self.refresh_interval = refresh_interval
        rwf = assets.run_worker_first
        self._routing: bool | StaticRouting = rwf if isinstance(rwf, bool) else parse_static_routing(rwf)
        self._state: _State | None = None
        self._scanned_at = 0.0
        self.refresh()

    @classmethod
    def from_config(cls, config: Config, **options: Any) -> AssetServer:
        """An asset server with the compatibility flag that decides navigation requests taken from ``config``."""
        if config.assets is None:
            raise ConfigError(f"{config.path}: no [assets] configured")
        flags = config.compatibility_flags
        prefers = NAVIGATION_FLAG in flags or (
            NAVIGATION_FLAG_OFF not in flags and (config.compatibility_date or "") >= NAVIGATION_FLAG_DATE)
        options.setdefault("navigation_prefers_assets", prefers)
        return cls(config.assets, **options)

    # -- the interface the runtime host uses ---------------------------------------------------------------

    def refresh(self) -> None:
        """Rescan the directory, ``_redirects`` and ``_headers`` (unchanged files are not re-hashed)."""
        self._scanned_at = time.monotonic()
        index = AssetIndex(self.config.directory, reuse=self._state.index if self._state else None)
        index.scan()
        redirects = (parse_redirects(index.redirects_text, self.config.html_handling)
                     if index.redirects_text is not None else Redirects())
        headers = parse_headers(index.headers_text) if index.headers_text is not None else HeaderRules()
        for name, problems in (("_redirects", redirects.invalid), ("_headers", headers.invalid)):
            for problem in problems:
                log.warning("%s: %s", name, problem)
        self._state = _State(index, redirects, headers)

    def should_run_worker_first(self, path: str) -> bool:
        """Whether the Worker runs before any asset for this URL path (``run_worker_first``)."""
        if isinstance(self._routing, bool):
            return self._routing
        pathname = parse_url(path).pathname if "://" in path else normalize_pathname(path.split("?", 1)[0])
        return self._routing.worker_first(pathname)

    async def serve(self, request: Any) -> Response | None:
        """The asset response for an incoming request, or None when the Worker should handle it."""
        await self._maybe_refresh()
        url, method, headers = _request_parts(request)
        full = self.config.not_found_handling
        navigate = headers.get("Sec-Fetch-Mode") == "navigate"
        not_found = full if not self.has_worker or (navigate and self.navigation_prefers_assets) else "none"
        outcome = self._outcome(url, method, not_found)
        if isinstance(outcome, _Empty) and outcome.no_intent and self.has_worker:
            return None
        if not_found != full:
            outcome = self._outcome(url, method, full)
        return await self._respond(outcome, url, method, headers)

    async def fetch(self, request: Any) -> Response:
        """``env.ASSETS.fetch(request_or_url)``: always a Response (404 when nothing matches)."""
        await self._maybe_refresh()
        url, method, headers = _request_parts(request)
        return await self._respond(self._outcome(url, method, self.config.not_found_handling), url, method, headers)

    # -- deciding --------------------------------------------------------------------------------------------

    @property
    def _current(self) -> _State:
        assert self._state is not None
        return self._state

    async def _maybe_refresh(self) -> None:
        if self.refresh_interval is not None and time.monotonic() - self._scanned_at >= self.refresh_interval:
            self._scanned_at = time.monotonic()  # one rescan at a time, even with requests arriving meanwhile
            await asyncio.to_thread(self.refresh)

    def _outcome(self, url: Url, method: str, not_found_handling: str) -> _Outcome:
        """What the asset worker's ``getResponseOrAssetIntent`` decides, before any file is read."""
        state = self._current
        pathname, proxied = url.pathname, False
        redirect = state.redirects.match(url.host, url.hostname, url.pathname)
        if redirect is not None:
            status, to = redirect
            destination = parse_url(to, base=url.href)
            if status == 200:  # a rewrite: serve another path's asset under this URL
                pathname, proxied = destination.pathname, True
            else:
                search = destination.search or url.search
                if destination.origin == url.origin:
                    return _Redirect(status, f"{destination.pathname}{search}{destination.hash}")
                return _Redirect(status, f"{destination.origin}{destination.pathname}{search}{destination.hash}")

        decoded = decode_path(pathname)
        intent = Resolver(state.index.etag, self.config.html_handling, not_found_handling).intent(decoded)
        if intent is None:
            return _Empty(404, no_intent=not proxied)
        if method not in ("GET", "HEAD"):
            return _Empty(405)
        # The canonical URL is the decoded path re-encoded; redirect to it along with any html_handling redirect.
        encoded = encode_path(intent.redirect if intent.redirect is not None else decoded)
        if intent.redirect is not None or (encoded != pathname and intent.etag):
            return _Redirect(307, encoded + url.search)
        assert intent.etag is not None
        return _Asset(intent.etag, intent.status)

    # -- responding ------------------------------------------------------------------------------------------

    async def _respond(self, outcome: _Outcome, url: Url, method: str, request_headers: Any) -> Response:
        if isinstance(outcome, _Redirect):
            response = Response(None, status=outcome.status, status_text=_STATUS_TEXT[outcome.status],
                                headers={"Location": outcome.location})
        elif isinstance(outcome, _Empty):
            response = Response(None, status=outcome.status, status_text=_STATUS_TEXT[outcome.status])
        else:
            response = await self._asset_response(outcome, method, request_headers)
        self._attach_custom_headers(response, url)
        return response

    async def _asset_response(self, outcome: _Asset, method: str, request_headers: Any) -> Response:
        asset = self._current.index.by_etag[outcome.etag]
        headers = Headers()
        strong = f'"{outcome.etag}"'
        headers.set("ETag", strong)
        if asset.content_type is not None:
            headers.append("Content-Type", asset.content_type)
        if request_headers.get("Authorization") is None and request_headers.get("Range") is None:
            headers.append("Cache-Control", CACHE_CONTROL)
        # Compared verbatim, not parsed as a list: what the asset worker does.
        if (request_headers.get("If-None-Match") or "") in (strong, f"W/{strong}"):
            return Response(None, status=304, status_text=_STATUS_TEXT[304], headers=headers)
        body: bytes | AsyncIterator[bytes] | None = None
        if method == "HEAD" or asset.size > _INLINE_LIMIT:
            # A HEAD response carries GET's headers, length included (Cloudflare's asset bodies have a known
            # length); a streamed body is sent with it too, rather than chunked. An inline body's length is the
            # bytes actually read.
            headers.set("Content-Length", str(asset.size))
        if method != "HEAD":
            try:
                body = self._read_small(asset) if asset.size <= _INLINE_LIMIT else self._stream(asset)
            except FileNotFoundError:
                log.warning("asset %s vanished since the directory was scanned", asset.path)
                self._scanned_at = 0.0
                return Response(None, status=404, status_text=_STATUS_TEXT[404])
        return Response(body, status=outcome.status, status_text=_STATUS_TEXT.get(outcome.status, ""),
                        headers=headers)

    def _read_small(self, asset: AssetFile) -> bytes:
        # A small read costs less than a thread hop would.
        fd = self._current.index.open(asset)
        try:
            chunks = []
            while chunk := os.read(fd, _INLINE_LIMIT):
                chunks.append(chunk)
            return b"".join(chunks)
        finally:
            os.close(fd)

    async def _stream(self, asset: AssetFile) -> AsyncIterator[bytes]:
        # Opened on first read so a response that is never sent holds no descriptor.
        index = self._current.index
        fd = await asyncio.to_thread(index.open, asset)
        remaining = asset.size  # what Content-Length promised: a file that grew since the scan is cut there
        try:
            while remaining > 0 and (chunk := await asyncio.to_thread(os.read, fd, min(_STREAM_CHUNK, remaining))):
                remaining -= len(chunk)
                yield chunk
        finally:
            os.close(fd)

    def _attach_custom_headers(self, response: Response, url: Url) -> None:
        """``_headers`` rules, applied to every asset-worker response (``attachCustomHeaders``)."""
        already_set: set[str] = set()
        for to_set, to_unset in self._current.headers.matching(url.hostname, url.pathname):
            for name in to_unset:
                response.headers.delete(name)
            for name, value in to_set.items():
                if name.lower() in already_set:  # several rules setting one header combine
                    response.headers.append(name, value)
                else:
                    response.headers.set(name, value)
                    already_set.add(name.lower())


def _request_parts(request: Any) -> tuple[Url, str, Any]:
    """(URL, method, headers) of a Request, or of a URL string / URL object (a GET with no headers)."""
    if isinstance(request, str) or not hasattr(request, "method"):
        # Lenient where JS would throw: a bare path is taken relative to http://localhost.
        return parse_url(str(getattr(request, "href", request)), base="http://localhost"), "GET", Headers()
    return parse_url(str(request.url)), str(request.method).upper(), request.headers

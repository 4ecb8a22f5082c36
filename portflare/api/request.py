"""``Request``: an incoming (or outgoing, for fetch) HTTP request, shaped like the SDK's ``workers.Request``."""

from __future__ import annotations

from collections.abc import Callable
from http import HTTPMethod
from typing import Any

from portflare.api.body import Body, Source
from portflare.api.headers import Headers
from portflare.errors import JsTypeError
from portflare.jsobject import JsDict, js_value

_NO_BODY_METHODS = ("GET", "HEAD")
# A dict lookup: calling the enum (``HTTPMethod("GET")``) costs more than the rest of building a request.
_METHODS: dict[str, HTTPMethod] = {m.value: m for m in HTTPMethod}


def http_method(method: str) -> HTTPMethod | str:
    """An ``HTTPMethod`` (a StrEnum, so ``== "POST"`` works); a non-standard method stays an upper-case str."""
    found = _METHODS.get(method) if isinstance(method, str) else None
    if found is not None:
        return found
    upper = str(method).upper()
    return _METHODS.get(upper, upper)


_DEFAULT_PORTS = {"http": "80", "https": "443", "ws": "80", "wss": "443"}


def normalize_url(url: str) -> str:
    """What ``new Request(url).url`` reads back for http(s) URLs (WHATWG URL): the scheme and host lower-cased,
    the default port dropped, and an empty path written ``/`` (``http://example.com`` -> ``http://example.com/``).
    Anything else is returned as given."""
    scheme, sep, rest = url.partition("://")
    if not sep or scheme.lower() not in _DEFAULT_PORTS:
        return url
    scheme = scheme.lower()
    end = len(rest)
    for mark in "/?#":
        found = rest.find(mark)
        if found != -1:
            end = min(end, found)
    authority, tail = rest[:end], rest[end:]
    userinfo, at, hostport = authority.rpartition("@")
    host, colon, port = hostport.rpartition(":") if not hostport.endswith("]") else (hostport, "", "")
    if not colon:
        host, port = hostport, ""
    if port == _DEFAULT_PORTS[scheme]:
        colon, port = "", ""
    if not tail.startswith("/"):
        tail = "/" + tail
    return f"{scheme}://{userinfo}{at}{host.lower()}{colon}{port}{tail}"


# What the host hands ``Request._incoming``: builds (headers, cf) on first access to either.
HeadersAndCf = Callable[[], tuple[Headers, JsDict]]


class Request(Body):
    _headers: Headers | None
    _cf: JsDict | None
    _lazy: HeadersAndCf | None = None

    def __init__(self, input: str | Request | Any, *, headers: Any = None, body: Any = None,
                 method: str | None = None, redirect: str | None = None, cf: Any = None) -> None:
        if isinstance(input, Request):
            base: Request | None = input
            url = input.url
        else:
            base = None
            url = normalize_url(str(getattr(input, "href", input)))  # a str or a URL object
        self._url = url
        self._method = http_method(method or (base.method if base else "GET"))
        self._headers = Headers(headers if headers is not None else (base.headers if base else None))
        self._redirect = redirect or (base.redirect if base else "follow")
        cf_value = cf if cf is not None else (base.cf if base else None)
        self._cf = js_value(dict(cf_value)) if cf_value is not None else None
        if body is None and base is not None:
            self._source, self._used = base._take_for_copy(), False
        else:
            if body is not None and self._method in _NO_BODY_METHODS:
                raise JsTypeError("Request with a GET or HEAD method cannot have a body.")
            self._set_body(body)

    @classmethod
    def _incoming(cls, url: str, method: str, body: Source, headers_and_cf: HeadersAndCf) -> Request:
        """A request the server received: ``url`` already normalised, no body for GET/HEAD, and headers and
        cf built only when the Worker first reads either (a handler that never looks at them skips the cost)."""
        request = cls.__new__(cls)
        request._url, request._method, request._redirect = url, http_method(method), "follow"
        request._headers, request._cf, request._lazy = None, None, headers_and_cf
        request._source, request._used = body, False
        return request

    def _build_lazy(self) -> None:
        assert self._lazy is not None
        self._headers, self._cf = self._lazy()
        self._lazy = None

    @property  # Body declares a plain attribute; a property with a setter satisfies it
    def headers(self) -> Headers:
        if self._lazy is not None:
            self._build_lazy()
        assert self._headers is not None
        return self._headers

    @headers.setter
    def headers(self, value: Headers) -> None:
        if self._lazy is not None:
            self._build_lazy()  # keeps the lazily built cf
        self._headers = value

    def _take_for_copy(self) -> Any:
        # `new Request(other)` moves the body: the original becomes used.
        if self._source is None:
            return None
        source, self._source, self._used = self._source, None, True
        return source

    @property
    def url(self) -> str:
        return self._url

    @property
    def method(self) -> HTTPMethod | str:
        return self._method

    @property
    def redirect(self) -> str:
        return self._redirect

    @property
    def cf(self) -> JsDict | None:
        if self._lazy is not None:
            self._build_lazy()
        return self._cf

    @property
    def js_object(self) -> Request:
        return self

    @property
    def keepalive(self) -> bool:
        return False

    @property
    def signal(self) -> None:
        return None

    def clone(self) -> Request:
        copy = Request.__new__(Request)
        copy._url, copy._method, copy._redirect = self._url, self._method, self._redirect
        copy._headers = Headers(self.headers)
        copy._cf = js_value(dict(self.cf)) if self.cf is not None else None
        copy._source, copy._used = self._clone_source(), False
        return copy

    def __repr__(self) -> str:
        return f"<Request {self._method} {self._url}>"

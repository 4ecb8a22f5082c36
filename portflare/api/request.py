"""``Request``: an incoming (or outgoing, for fetch) HTTP request, shaped like the SDK's ``workers.Request``."""

from __future__ import annotations

from http import HTTPMethod
from typing import Any

from portflare.api.body import Body
from portflare.api.headers import Headers
from portflare.errors import JsTypeError
from portflare.jsobject import JsDict, js_value

_NO_BODY_METHODS = ("GET", "HEAD")


def http_method(method: str) -> HTTPMethod | str:
    """An ``HTTPMethod`` (a StrEnum, so ``== "POST"`` works); a non-standard method stays an upper-case str."""
    upper = str(method).upper()
    try:
        return HTTPMethod(upper)
    except ValueError:
        return upper


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


class Request(Body):
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
        self.headers = Headers(headers if headers is not None else (base.headers if base else None))
        self._redirect = redirect or (base.redirect if base else "follow")
        cf_value = cf if cf is not None else (base.cf if base else None)
        self._cf = js_value(dict(cf_value)) if cf_value is not None else None
        if body is None and base is not None:
            self._source, self._used = base._take_for_copy(), False
        else:
            if body is not None and self._method in _NO_BODY_METHODS:
                raise JsTypeError("Request with a GET or HEAD method cannot have a body.")
            self._set_body(body)

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
        copy.headers = Headers(self.headers)
        copy._cf = js_value(dict(self._cf)) if self._cf is not None else None
        copy._source, copy._used = self._clone_source(), False
        return copy

    def __repr__(self) -> str:
        return f"<Request {self._method} {self._url}>"

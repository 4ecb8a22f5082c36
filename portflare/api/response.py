"""``Response``: what a Worker returns, and what ``fetch()`` resolves to.

The host streams the body with ``response.aiter_bytes()`` (an async iterator of ``bytes`` chunks).
"""

from __future__ import annotations

import json as jsonlib
from http import HTTPStatus
from typing import Any

from portflare.api.body import Body, Source
from portflare.api.headers import Headers
from portflare.errors import JsRangeError, JsTypeError

NULL_BODY_STATUSES = (101, 204, 205, 304)
REDIRECT_STATUSES = (301, 302, 303, 307, 308)


class _ClassOrInstance:
    """A method that is ``on_class`` when looked up on the class and ``on_instance`` on an instance."""

    def __init__(self, on_class: Any, on_instance: Any) -> None:
        self._on_class, self._on_instance = on_class, on_instance

    def __get__(self, instance: Any, owner: type) -> Any:
        if instance is None:
            return self._on_class.__get__(None, owner)
        return self._on_instance.__get__(instance, owner)


class Response(Body):
    def __init__(self, body: Any = None, status: int | HTTPStatus | None = None, status_text: str = "",
                 headers: Any = None, web_socket: Any = None, *, statusText: str | None = None,
                 webSocket: Any = None) -> None:
        status = 200 if status is None else int(status)
        web_socket = web_socket if web_socket is not None else webSocket
        if not (200 <= status <= 599 or (status == 101 and web_socket is not None)):
            raise JsRangeError(f"Responses may only be constructed with status codes in the range 200 to 599, "
                               f"inclusive (got {status}).")
        if body is not None and status in NULL_BODY_STATUSES:
            raise JsTypeError("Response with null body status (101, 204, 205, or 304) cannot have a body.")
        self._status = status
        self._status_text = statusText if statusText is not None else status_text
        self.headers = Headers(headers)
        self._web_socket = web_socket
        self._url = ""
        self._redirected = False
        self._set_body(body)

    @classmethod
    def from_json(cls, data: Any, status: int | HTTPStatus = 200, status_text: str = "",
                  headers: Any = None) -> Response:
        """A JSON response; ``Response.json(data)`` on the class is the same (as in JS)."""
        # Content-Type decided before construction, so the str body's text/plain default is never added.
        init = Headers(headers)
        if not init.has("content-type"):
            init.append("content-type", "application/json")
        return cls(jsonlib.dumps(data), status=status, status_text=status_text, headers=init)

    # `Response.json(data)` builds a response while `await response.json()` reads one, as in JS.
    json = _ClassOrInstance(from_json, Body.json)

    @classmethod
    def redirect(cls, url: str, status: int | HTTPStatus = 302) -> Response:
        if int(status) not in REDIRECT_STATUSES:
            raise JsRangeError(f"Invalid redirect status code {int(status)}.")
        return cls(None, status=status, headers={"location": str(url)})

    @classmethod
    def error(cls) -> Response:
        response = cls(None, status=200)
        response._status = 0
        return response

    @classmethod
    def _from_stream(cls, source: Source, *, status: int, status_text: str, headers: Headers, url: str,
                     redirected: bool) -> Response:
        """A response around an upstream body (fetch()); skips the constructor's status checks."""
        response = cls.__new__(cls)
        response._status, response._status_text, response.headers = status, status_text, headers
        response._web_socket, response._url, response._redirected = None, url, redirected
        response._source, response._used = source, False
        return response

    @property
    def status(self) -> int:
        return self._status

    @property
    def status_text(self) -> str:
        return self._status_text

    statusText = status_text

    @property
    def ok(self) -> bool:
        return 200 <= self._status <= 299

    @property
    def url(self) -> str:
        return self._url

    @property
    def redirected(self) -> bool:
        return self._redirected

    @property
    def type(self) -> str:
        return "error" if self._status == 0 else "default"

    @property
    def web_socket(self) -> Any:
        return self._web_socket

    webSocket = web_socket

    @property
    def js_object(self) -> Response:
        return self

    def raise_for_status(self) -> None:
        if self._status >= 400:
            kind = "Client" if self._status < 500 else "Server"
            raise OSError(f"{self._status} {kind} Error: {self._status_text} for url: {self._url}")

    def replace_body(self, body: Any) -> Response:
        return Response(body, status=self._status, status_text=self._status_text, headers=self.headers)

    def clone(self) -> Response:
        return Response._from_stream(self._clone_source(), status=self._status, status_text=self._status_text,
                                     headers=Headers(self.headers), url=self._url, redirected=self._redirected)

    def __repr__(self) -> str:
        return f"<Response [{self._status}]>"

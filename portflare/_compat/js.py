"""``js``: the JavaScript globals Worker code reaches through Pyodide, as much as runs on CPython.

Covers what Workers commonly use: ``Response.new``, ``Request.new``, ``Headers.new``, ``URL``, ``Object.fromEntries``,
``console``, ``Date.now``, ``JSON``, ``fetch``, ``Uint8Array``, ``ArrayBuffer``, ``TextEncoder``/``TextDecoder``,
``atob``/``btoa``, ``crypto.randomUUID``/``getRandomValues``, ``Math``, ``setTimeout``/``clearTimeout``,
``Promise``, ``Error``. ``WebSocketPair`` and ``crypto.subtle`` exist so imports succeed, and say clearly that
they are unsupported when used.
"""

import json as _json
import logging as _logging
import time as _time
from urllib.parse import parse_qsl as _parse_qsl
from urllib.parse import urlencode as _urlencode
from urllib.parse import urljoin as _urljoin
from urllib.parse import urlsplit as _urlsplit

from portflare import api as _api
from portflare.api.encoding import TextDecoder, TextEncoder, atob, btoa  # noqa: F401
from portflare.api.fetch import fetch as _fetch
from portflare.api.jsmath import Math  # noqa: F401
from portflare.api.timers import Promise, clearTimeout, setTimeout  # noqa: F401
from portflare.api.typedarrays import Uint8Array  # noqa: F401
from portflare.api.typedarrays import is_view as _is_view
from portflare.api.typedarrays import new_array_buffer as _new_array_buffer
from portflare.api.webcrypto import crypto  # noqa: F401
from portflare.errors import JsException as _JsException
from portflare.jsobject import JsDict as _JsDict
from portflare.jsobject import JsList as _JsList
from portflare.jsobject import py_value as _py_value

_log = _logging.getLogger("portflare.console")  # printed as plain lines by `dev`/`serve`


def _init(init, kwargs):
    """A JS init object passed positionally (``Response.new(body, {"status": 404})``) or as keywords."""
    merged = dict(_py_value(init) or {})
    merged.update(kwargs)
    return merged


class _JsClass:
    """A JS constructor as Pyodide exposes it: ``X.new(...)`` builds, ``isinstance(v, X)`` checks."""

    def __init__(self, cls, build):
        self._cls = cls
        self.new = build

    def __instancecheck__(self, instance):
        return isinstance(instance, self._cls)

    def __call__(self, *args, **kwargs):
        return self.new(*args, **kwargs)

    def __getattr__(self, name):
        return getattr(self._cls, name)

    def __repr__(self):
        return f"<js {self._cls.__name__}>"


def _new_response(body=None, init=None, **kwargs):
    opts = _init(init, kwargs)
    return _api.Response(body, status=opts.get("status"), status_text=opts.get("statusText", ""),
                         headers=opts.get("headers"), web_socket=opts.get("webSocket"))


def _response_json(data, init=None, **kwargs):
    opts = _init(init, kwargs)
    return _api.Response.from_json(_py_value(data), status=opts.get("status", 200),
                                   status_text=opts.get("statusText", ""), headers=opts.get("headers"))


def _new_request(input, init=None, **kwargs):
    opts = _init(init, kwargs)
    return _api.Request(input, method=opts.get("method"), headers=opts.get("headers"), body=opts.get("body"),
                        redirect=opts.get("redirect"), cf=opts.get("cf"))


# An ArrayBuffer is a memoryview in Python (what Pyodide's .to_py() gives and what bindings return).
ArrayBuffer = _JsClass(memoryview, _new_array_buffer)
ArrayBuffer.isView = _is_view
Error = _JsClass(_JsException, lambda message="": _JsException(str(message)))
Response = _JsClass(_api.Response, _new_response)
Response.json = _response_json
Response.redirect = _api.Response.redirect
Request = _JsClass(_api.Request, _new_request)
Headers = _JsClass(_api.Headers, lambda init=None: _api.Headers(_py_value(init)))
FormData = _JsClass(_api.FormData, lambda init=None: _api.FormData(init))
Blob = _JsClass(_api.Blob, lambda parts=None, options=None: _api.Blob(parts, (_py_value(options) or {}).get("type")))
File = _JsClass(_api.File, lambda parts, name, options=None: _api.File(parts, name,
                                                                          (_py_value(options) or {}).get("type")))


async def fetch(resource, init=None, **kwargs):
    """JS ``fetch(resource, init)``: the raw global accepts an init object, unlike ``workers.fetch``."""
    return await _fetch(resource, **_init(init, kwargs))


class URLSearchParams:
    def __init__(self, init=""):
        if isinstance(init, str):
            self._pairs = _parse_qsl(init.lstrip("?"), keep_blank_values=True)
        else:
            self._pairs = list(init.items() if hasattr(init, "items") else init)

    @classmethod
    def new(cls, init=""):
        return cls(init)

    def get(self, name):
        return next((v for k, v in self._pairs if k == name), None)

    def getAll(self, name):
        return [v for k, v in self._pairs if k == name]

    def has(self, name):
        return any(k == name for k, _ in self._pairs)

    def append(self, name, value):
        self._pairs.append((name, str(value)))

    def set(self, name, value):
        self._pairs = [(k, v) for k, v in self._pairs if k != name] + [(name, str(value))]

    def delete(self, name):
        self._pairs = [(k, v) for k, v in self._pairs if k != name]

    def entries(self):
        return iter(self._pairs)

    __iter__ = entries

    def toString(self):
        return _urlencode(self._pairs)

    __str__ = toString


class URL:
    def __init__(self, url, base=None):
        full = _urljoin(str(base), str(url)) if base is not None else str(url)
        parts = _urlsplit(full)
        if not parts.scheme:
            raise _api_type_error(f"Invalid URL string: {url}")
        self.protocol = parts.scheme + ":"
        self.username, self.password = parts.username or "", parts.password or ""
        self.hostname = parts.hostname or ""
        self.port = str(parts.port) if parts.port else ""
        self.host = self.hostname + (f":{self.port}" if self.port else "")
        self.origin = f"{parts.scheme}://{self.host}"
        self.pathname = parts.path or "/"
        self.search = f"?{parts.query}" if parts.query else ""
        self.hash = f"#{parts.fragment}" if parts.fragment else ""
        self.searchParams = URLSearchParams(parts.query)
        self.href = f"{self.origin}{self.pathname}{self.search}{self.hash}"

    @classmethod
    def new(cls, url, base=None):
        return cls(url, base)

    def toString(self):
        return self.href

    __str__ = toString

    def __repr__(self):
        return f"URL({self.href!r})"


def _api_type_error(message):
    from portflare.errors import JsTypeError

    return JsTypeError(message)


class Object:
    @staticmethod
    def fromEntries(entries):
        return _JsDict((k, v) for k, v in (entries.items() if hasattr(entries, "items") else entries))

    @staticmethod
    def keys(obj):
        return _JsList(_py_value(obj).keys())

    @staticmethod
    def values(obj):
        return _JsList(_py_value(obj).values())

    @staticmethod
    def entries(obj):
        return _JsList([k, v] for k, v in _py_value(obj).items())

    @staticmethod
    def new():
        return _JsDict()


class Array:
    @staticmethod
    def isArray(value):
        return isinstance(value, list)

    @staticmethod
    def new(*items):
        return _JsList(items)

    @staticmethod
    def of(*items):
        return _JsList(items)


def _fmt(args):
    return " ".join(a if isinstance(a, str) else _json.dumps(a, default=str) for a in args)


class console:
    @staticmethod
    def log(*args):
        _log.info(_fmt(args))

    info = log
    debug = log

    @staticmethod
    def warn(*args):
        _log.warning(_fmt(args))

    @staticmethod
    def error(*args):
        _log.error(_fmt(args))


class Date:
    @staticmethod
    def now():
        return int(_time.time() * 1000)


class JSON:
    @staticmethod
    def stringify(value, replacer=None, space=None):
        return _json.dumps(_py_value(value), indent=space, separators=None if space else (",", ":"), default=str)

    @staticmethod
    def parse(text):
        from portflare.jsobject import js_value

        return js_value(_json.loads(text))


class WebSocketPair:
    """Imports succeed; using it does not: portflare does not implement WebSockets yet."""

    @staticmethod
    def new(*args, **kwargs):
        raise NotImplementedError("WebSocketPair is not supported by portflare yet (WebSockets are not implemented)")

    def __init__(self, *args, **kwargs):
        WebSocketPair.new()

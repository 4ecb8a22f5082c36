"""Every error portflare raises, in one place.

Errors a Worker can observe mirror what Pyodide raises on Cloudflare: a JS error surfaces in Python as
``pyodide.ffi.JsException`` whose ``str()`` is ``"<Name>: <message>"`` (``"TypeError: Key name cannot be
empty."``). We keep that shape so ``except JsException`` and string matches written for Cloudflare work here,
and additionally make each one a subclass of the matching Python built-in so idiomatic Python code
(``except TypeError``) also works.

    Exception
    ├── JsException                 what Workers code catches (also exported as pyodide.ffi.JsException)
    │   ├── JsTypeError (TypeError)    bad argument types, e.g. "Key name cannot be empty."
    │   ├── JsRangeError (ValueError)  out-of-range arguments, e.g. invalid R2 ranges
    │   └── JsSyntaxError (ValueError) JSON that does not parse
    └── PortflareError              portflare's own failures, printed by the CLI as one line
        ├── ConfigError                an invalid wrangler.toml / wrangler.jsonc
        ├── WorkerLoadError            the Worker's main module cannot be imported or has no handler
        └── BackendError               a backend URL that cannot be used
"""

from __future__ import annotations


class JsException(Exception):
    """A JavaScript-style error as Cloudflare's runtime raises it into Python."""

    js_name = "Error"

    def __init__(self, message: str, *, name: str | None = None) -> None:
        self.name = name or self.js_name
        self.message = message
        super().__init__(f"{self.name}: {message}")

    def __reduce__(self) -> tuple[object, ...]:  # keep picklable across process pools
        return (_rebuild, (type(self), self.message, self.name))


def _rebuild(cls: type[JsException], message: str, name: str) -> JsException:
    return cls(message, name=name)


class JsTypeError(JsException, TypeError):
    js_name = "TypeError"


class JsRangeError(JsException, ValueError):
    js_name = "RangeError"


class JsSyntaxError(JsException, ValueError):
    js_name = "SyntaxError"


class PortflareError(Exception):
    """A failure of portflare itself (configuration, loading, backends), not of the Worker's call."""


class ConfigError(PortflareError):
    pass


class WorkerLoadError(PortflareError):
    pass


class BackendError(PortflareError):
    pass

"""A ``pyodide`` package for Worker code running on CPython under portflare: just enough of ``pyodide.ffi``."""

__version__ = "0.28.0"

"""Choosing a binding's storage by URL.

Every binding's storage is chosen by the environment variable ``PORTFLARE_<BINDING>`` holding a URL; unset
means the embedded default (SQLite or files under the project's state directory). Each binding kind keeps a
small table from URL scheme to an import string (as uvicorn's ``HTTP_PROTOCOLS`` does), so adding a backend
is one module plus one table entry, and heavy drivers are imported only when their scheme is used.

A backend class implements ``@classmethod async open(target: BackendTarget) -> Self`` and
``async close() -> None``; the rest of its interface is the ``Protocol`` in its kind's ``base.py``.
"""

from __future__ import annotations

import importlib
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from portflare.errors import BackendError

EMBEDDED = "embedded"
REDIS_SCHEMES = ("redis", "rediss", "valkey", "valkeys")  # a Redis or Valkey server, plain or TLS


@dataclass(frozen=True)
class BackendTarget:
    """Everything a backend needs to open one binding's storage."""

    kind: str  # "kv", "d1", "r2", "queue", ...
    binding: str  # the binding name the Worker sees, e.g. "CACHE"
    resource: str  # namespace id / database_name / bucket_name: keeps resources apart on a shared server
    state_dir: Path  # where embedded backends keep their files
    url: str | None = None  # PORTFLARE_<BINDING>, or None for the embedded default

    @property
    def scheme(self) -> str:
        if not self.url:
            return EMBEDDED
        return urlsplit(self.url).scheme.lower()

    def embedded_path(self, suffix: str) -> Path:
        """A file for this resource under ``state_dir/<kind>/``, named safely after the resource."""
        directory = self.state_dir / self.kind
        directory.mkdir(parents=True, exist_ok=True)
        return directory / f"{safe_name(self.resource)}{suffix}"


def safe_name(resource: str) -> str:
    """A file-system-safe, stable name for a resource id (never a path separator or '..')."""
    cleaned = re.sub(r"[^A-Za-z0-9_.-]", "_", resource).strip(".") or "_"
    return cleaned


def env_var_for(binding: str) -> str:
    return f"PORTFLARE_{binding}"


def backend_url(binding: str, environ: Mapping[str, str] | None = None) -> str | None:
    """The URL chosen for a binding, or None for the embedded default."""
    value = (environ if environ is not None else os.environ).get(env_var_for(binding), "").strip()
    return value or None


def load_backend_class(kind: str, table: Mapping[str, str], target: BackendTarget) -> Any:
    """Import the backend class the target's URL scheme names in ``table``."""
    scheme = target.scheme
    import_string = table.get(scheme)
    if import_string is None:
        known = ", ".join(f"{s}://" for s in sorted(table) if s != EMBEDDED)
        raise BackendError(
            f"{env_var_for(target.binding)}={redact(target.url)}: no {kind} backend for scheme "
            f"'{scheme}://' (supported: {known or 'none'}; unset for the embedded default)"
        )
    module_name, _, attr = import_string.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise BackendError(
            f"{env_var_for(target.binding)}: the {scheme}:// backend needs a driver that is not installed "
            f"({exc.name}); install it with: pip install 'portflare[{_extra_for(scheme)}]'"
        ) from exc
    return getattr(module, attr)


def _extra_for(scheme: str) -> str:
    return {"rediss": "redis", "valkey": "redis", "valkeys": "redis", "postgresql": "postgres"}.get(
        scheme, scheme
    )


def redact(url: str | None) -> str:
    """A URL with its password replaced, for error messages and logs."""
    if not url:
        return ""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return parts._replace(netloc=netloc).geturl()


def sqlite_path(target: BackendTarget, suffix: str = ".sqlite") -> Path:
    """The SQLite file for a target: ``sqlite:///abs/file.db`` / ``sqlite://relative.db``, or the embedded one."""
    if target.scheme in (EMBEDDED, ""):
        return target.embedded_path(suffix)
    parts = urlsplit(target.url or "")
    raw = (parts.netloc + parts.path) if parts.netloc else parts.path
    if not raw:
        raise BackendError(f"{env_var_for(target.binding)}: a sqlite URL needs a path, e.g. sqlite:///var/lib/kv.db")
    path = Path(raw).expanduser()
    path.parent.mkdir(parents=True, exist_ok=True)
    return path

"""portflare: run Cloudflare Python Workers, and their bindings, on your own machines."""

from __future__ import annotations

__version__ = "0.1.0"

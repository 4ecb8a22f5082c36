"""Content types as Cloudflare sets them on upload.

Wrangler stores ``getContentType(file)`` with each asset (workers-shared ``utils/helpers.ts``): the ``mime``
package's type for the extension, with ``; charset=utf-8`` appended to ``text/*`` types. An extension it does
not know is uploaded as ``application/null``, which the API turns into *no* ``Content-Type`` header at all, so
``content_type()`` returns None there (the browser sniffs, as it does on Cloudflare).
"""

from __future__ import annotations

import mimetypes
from pathlib import PurePosixPath

# The `mime` package's standard table for the extensions a site actually ships (it differs from Python's
# `mimetypes` in places: .ico, .mjs, .wasm, .woff2, .md, .ts, ...). Python's built-in table covers the rest.
_TYPES = {
    "html": "text/html", "htm": "text/html", "shtml": "text/html", "xhtml": "application/xhtml+xml",
    "css": "text/css", "js": "text/javascript", "mjs": "text/javascript", "cjs": "application/node",
    "json": "application/json", "map": "application/json", "jsonld": "application/ld+json",
    "webmanifest": "application/manifest+json", "wasm": "application/wasm", "xml": "application/xml",
    "txt": "text/plain", "text": "text/plain", "md": "text/markdown", "markdown": "text/markdown",
    "csv": "text/csv", "ics": "text/calendar", "vtt": "text/vtt", "yaml": "text/yaml", "yml": "text/yaml",
    "toml": "application/toml", "rss": "application/rss+xml", "atom": "application/atom+xml",
    "svg": "image/svg+xml", "svgz": "image/svg+xml", "ico": "image/vnd.microsoft.icon", "png": "image/png",
    "apng": "image/apng", "jpg": "image/jpeg", "jpeg": "image/jpeg", "gif": "image/gif", "webp": "image/webp",
    "avif": "image/avif", "bmp": "image/bmp", "tif": "image/tiff", "tiff": "image/tiff", "heic": "image/heic",
    "jxl": "image/jxl", "woff": "font/woff", "woff2": "font/woff2", "ttf": "font/ttf", "otf": "font/otf",
    "eot": "application/vnd.ms-fontobject", "mp4": "video/mp4", "m4v": "video/mp4", "webm": "video/webm",
    "ogv": "video/ogg", "mov": "video/quicktime", "ts": "video/mp2t", "mp3": "audio/mpeg", "m4a": "audio/mp4",
    "wav": "audio/wav", "ogg": "audio/ogg", "oga": "audio/ogg", "opus": "audio/ogg", "flac": "audio/x-flac",
    "aac": "audio/x-aac", "pdf": "application/pdf", "zip": "application/zip", "gz": "application/gzip",
    "tar": "application/x-tar", "br": "application/octet-stream", "bin": "application/octet-stream",
    "exe": "application/octet-stream", "epub": "application/epub+zip", "rtf": "application/rtf",
}

_builtin = mimetypes.MimeTypes()  # Python's own table only: never the machine's /etc/mime.types


def content_type(path: str) -> str | None:
    """The Content-Type Cloudflare serves ``path`` with, or None for an unknown extension."""
    suffix = PurePosixPath(path).suffix.lower()
    if not suffix:
        return None
    found = _TYPES.get(suffix[1:]) or _builtin.types_map[True].get(suffix)
    if found and found.startswith("text/") and "charset" not in found:
        found = f"{found}; charset=utf-8"
    return found

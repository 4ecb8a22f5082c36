"""URL paths as the asset worker sees them: WHATWG-style pathname, per-segment decoding, canonical re-encoding.

Cloudflare decodes each segment of the pathname to look an asset up, then re-encodes it (like JS
``encodeURIComponent``) and 307s to that canonical form when it differs from what was asked. Nothing here
touches the file system: a decoded path is only ever a key into the index of files found by walking the
assets directory, which is why ``..``, ``%2e%2e``, backslashes or NUL can never reach outside it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import quote, unquote_to_bytes, urlsplit

_SINGLE_DOT = {".", "%2e"}
_DOUBLE_DOT = {"..", ".%2e", "%2e.", "%2e%2e"}
# What a WHATWG URL parser leaves unencoded in a path (anything else printable ASCII but ", #, <, >, ?, `, {, }).
_PATH_SAFE = "!$%&'()*+,-./:;=@[]\\^_|~"
_BAD_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")
_SLASHES = re.compile(r"/+")


@dataclass(frozen=True)
class Url:
    """The parts of a request URL the asset worker uses."""

    origin: str  # scheme://host[:port]
    host: str  # with the port, like JS `url.host`
    hostname: str
    pathname: str  # percent-encoded, dot segments resolved
    search: str  # "" or "?..."
    hash: str = ""  # "" or "#..."

    @property
    def href(self) -> str:
        return f"{self.origin}{self.pathname}{self.search}{self.hash}"


def parse_url(url: str, base: str | None = None) -> Url:
    """Parse like the WHATWG URL parser does for http(s): ``\\`` is ``/``, dot segments (also ``%2e``) resolve."""
    if base is not None and not urlsplit(url).scheme:
        url = _join(base, url)
    parts = urlsplit(url)
    scheme = (parts.scheme or "http").lower()
    netloc = parts.netloc.rsplit("@", 1)[-1].lower()
    if parts.port is not None and parts.port == {"http": 80, "https": 443}.get(scheme):
        netloc = netloc.rsplit(":", 1)[0]
    hostname = (parts.hostname or "").lower()
    return Url(origin=f"{scheme}://{netloc}", host=netloc, hostname=hostname,
               pathname=normalize_pathname(parts.path), search=f"?{parts.query}" if parts.query else "",
               hash=f"#{parts.fragment}" if parts.fragment else "")


def _join(base: str, ref: str) -> str:
    b = parse_url(base)
    if ref.startswith("//"):
        return f"{b.origin.split(':', 1)[0]}:{ref}"
    if ref.startswith(("/", "\\")):
        return f"{b.origin}{ref}"
    if ref.startswith("?"):
        return f"{b.origin}{b.pathname}{ref}"
    if ref.startswith("#") or not ref:
        return b.href
    return f"{b.origin}{b.pathname.rsplit('/', 1)[0]}/{ref}"


def normalize_pathname(path: str) -> str:
    path = quote(path.replace("\\", "/"), safe=_PATH_SAFE)
    segments = path.split("/")[1:] if path.startswith("/") else path.split("/")
    out: list[str] = []
    for i, segment in enumerate(segments):
        last = i == len(segments) - 1
        lowered = segment.lower()
        if lowered in _DOUBLE_DOT:
            if out:
                out.pop()
            if last:
                out.append("")
        elif lowered in _SINGLE_DOT:
            if last:
                out.append("")
        else:
            out.append(segment)
    return "/" + "/".join(out)


def _decode_component(segment: str) -> str:
    # JS decodeURIComponent throws on a malformed escape or invalid UTF-8; Cloudflare then keeps the segment as is.
    if _BAD_PERCENT.search(segment):
        return segment
    try:
        return unquote_to_bytes(segment).decode("utf-8")
    except UnicodeDecodeError:
        return segment


def decode_path(pathname: str) -> str:
    """Each segment percent-decoded, then runs of ``/`` collapsed (as the asset worker's ``decodePath``)."""
    return _SLASHES.sub("/", "/".join(_decode_component(s) for s in pathname.split("/")))


def encode_path(pathname: str) -> str:
    """Each segment encoded as JS ``encodeURIComponent`` does: the canonical URL of an asset."""
    return "/".join(quote(s, safe="!~*'()") for s in pathname.split("/"))

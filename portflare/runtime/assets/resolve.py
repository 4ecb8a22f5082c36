"""Which asset a decoded path means under ``html_handling`` and ``not_found_handling``: pure logic.

A line-by-line port of the asset worker's ``getIntent`` (workers-sdk ``asset-worker/src/handler.ts``), so
the order of the checks, and the quirks that follow from it, are Cloudflare's. ``exists(path)`` returns the
ETag of the file at that exact path, or None. A redirect is only proposed when the destination would serve
the very same file (``safe_redirect``), which is what keeps these rules from looping.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

Exists = Callable[[str], "str | None"]


@dataclass(frozen=True)
class Intent:
    """Serve the asset with ``etag`` (status 200, or 404 for a 404 page), or redirect (307) to ``redirect``."""

    etag: str | None = None
    status: int = 200
    redirect: str | None = None


def _serve(etag: str, status: int = 200) -> Intent:
    return Intent(etag=etag, status=status)


class Resolver:
    def __init__(self, exists: Exists, html_handling: str, not_found_handling: str) -> None:
        self.exists = exists
        self.html_handling = html_handling
        self.not_found_handling = not_found_handling

    def intent(self, path: str, skip_redirects: bool = False) -> Intent | None:
        if self.html_handling == "auto-trailing-slash":
            return self._auto_trailing_slash(path, skip_redirects)
        if self.html_handling == "force-trailing-slash":
            return self._force_trailing_slash(path, skip_redirects)
        if self.html_handling == "drop-trailing-slash":
            return self._drop_trailing_slash(path, skip_redirects)
        exact = self.exists(path)
        return _serve(exact) if exact else self._not_found(path)

    def _redirect(self, file: str, destination: str, skip: bool) -> Intent | None:
        """Redirect to ``destination`` only if nothing sits there and it would resolve to ``file`` itself."""
        if skip or self.exists(destination):
            return None
        intent = self.intent(destination, skip_redirects=True)
        if intent is not None and intent.etag is not None and intent.etag == self.exists(file):
            return Intent(redirect=destination)
        return None

    def _auto_trailing_slash(self, p: str, skip: bool) -> Intent | None:
        exact = self.exists(p)
        redirect: Intent | None = None
        if p.endswith("/index"):
            if exact:
                return _serve(exact)
            redirect = (self._redirect(f"{p}.html", p[:-len("index")], skip)
                        or self._redirect(f"{p[:-len('/index')]}.html", p[:-len("/index")], skip))
        elif p.endswith("/index.html"):
            redirect = (self._redirect(p, p[:-len("index.html")], skip)
                        or self._redirect(f"{p[:-len('/index.html')]}.html", p[:-len("/index.html")], skip))
        elif p.endswith("/"):
            etag = self.exists(f"{p}index.html")
            if etag:
                return _serve(etag)
            redirect = self._redirect(f"{p[:-1]}.html", p[:-1], skip)
        elif p.endswith(".html"):
            stem = p[:-len(".html")]
            redirect = self._redirect(p, stem, skip) or self._redirect(f"{stem}/index.html", f"{stem}/", skip)
        if redirect:
            return redirect
        if exact:
            return _serve(exact)
        etag = self.exists(f"{p}.html")
        if etag:
            return _serve(etag)
        return self._redirect(f"{p}/index.html", f"{p}/", skip) or self._not_found(p)

    def _force_trailing_slash(self, p: str, skip: bool) -> Intent | None:
        exact = self.exists(p)
        redirect: Intent | None = None
        if p.endswith("/index"):
            if exact:
                return _serve(exact)
            redirect = (self._redirect(f"{p}.html", p[:-len("index")], skip)
                        or self._redirect(f"{p[:-len('/index')]}.html", p[:-len("index")], skip))
        elif p.endswith("/index.html"):
            redirect = (self._redirect(p, p[:-len("index.html")], skip)
                        or self._redirect(f"{p[:-len('/index.html')]}.html", p[:-len("index.html")], skip))
        elif p.endswith("/"):
            etag = self.exists(f"{p}index.html") or self.exists(f"{p[:-1]}.html")
            if etag:
                return _serve(etag)
        elif p.endswith(".html"):
            stem = p[:-len(".html")]
            redirect = self._redirect(p, f"{stem}/", skip)
            if redirect:
                return redirect
            if exact:  # both /foo.html and /foo/index.html exist: /foo.html is served at /foo.html only
                return _serve(exact)
            redirect = self._redirect(f"{stem}/index.html", f"{stem}/", skip)
        if redirect:
            return redirect
        if exact:
            return _serve(exact)
        return (self._redirect(f"{p}.html", f"{p}/", skip) or self._redirect(f"{p}/index.html", f"{p}/", skip)
                or self._not_found(p))

    def _drop_trailing_slash(self, p: str, skip: bool) -> Intent | None:
        exact = self.exists(p)
        redirect: Intent | None = None
        if p.endswith("/index"):
            if exact:
                return _serve(exact)
            if p == "/index":
                redirect = self._redirect("/index.html", "/", skip)
            else:
                parent = p[:-len("/index")]
                redirect = self._redirect(f"{parent}.html", parent, skip) or self._redirect(f"{p}.html", parent, skip)
        elif p.endswith("/index.html"):
            if p == "/index.html":  # never drop the only slash of "/"
                redirect = self._redirect("/index.html", "/", skip)
            else:
                parent = p[:-len("/index.html")]
                redirect = self._redirect(p, parent, skip)
                if redirect:
                    return redirect
                if exact:  # both /foo.html and /foo/index.html exist: the latter is served at its own path only
                    return _serve(exact)
                redirect = self._redirect(f"{parent}.html", parent, skip)
        elif p.endswith("/"):
            if p == "/":
                etag = self.exists("/index.html")
                if etag:
                    return _serve(etag)
            else:
                parent = p[:-1]
                redirect = (self._redirect(f"{parent}.html", parent, skip)
                            or self._redirect(f"{parent}/index.html", parent, skip))
        elif p.endswith(".html"):
            stem = p[:-len(".html")]
            redirect = self._redirect(p, stem, skip) or self._redirect(f"{stem}/index.html", stem, skip)
        if redirect:
            return redirect
        etag = exact or self.exists(f"{p}.html") or self.exists(f"{p}/index.html")
        if etag:
            return _serve(etag)
        return self._not_found(p)

    def _not_found(self, p: str) -> Intent | None:
        if self.not_found_handling == "single-page-application":
            etag = self.exists("/index.html")
            return _serve(etag) if etag else None
        if self.not_found_handling == "404-page":
            cwd = p
            while cwd:  # "/a/b" tries /a/404.html, then /404.html
                cwd = cwd[:cwd.rfind("/")] if "/" in cwd else cwd[:-1]
                etag = self.exists(f"{cwd}/404.html")
                if etag:
                    return _serve(etag, 404)
        return None

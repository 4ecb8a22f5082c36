"""_redirects / _headers parsing and matching, run_worker_first patterns, content types, URL paths."""

from __future__ import annotations

import pytest

from portflare.errors import ConfigError
from portflare.runtime.assets.content_types import content_type
from portflare.runtime.assets.paths import decode_path, encode_path, parse_url
from portflare.runtime.assets.rules import parse_headers, parse_redirects, parse_static_routing


@pytest.mark.parametrize(("rules", "path", "expected"), [
    ("/a /b", "/a", (302, "/b")),  # 302 is the default
    ("/a /b 301", "/a", (301, "/b")),
    ("/a /b 308", "/b", None),
    ("/a https://example.org/x?q=1#f 307", "/a", (307, "https://example.org/x?q=1#f")),
    ("/blog/* /news/:splat 301", "/blog/2024/post", (301, "/news/2024/post")),
    ("/users/:id/posts/:post /u/:id?p=:post 303", "/users/7/posts/9", (303, "/u/7?p=9")),
    ("/users/:id /u/:id", "/users/7/extra", None),  # a placeholder stops at "/"
    ("/a /b 200", "/a", (200, "/b")),  # a rewrite
    ("/a /b # a comment", "/a", (302, "/b")),
    ("# only a comment\n\n/a /b", "/a", (302, "/b")),
    ("/x/* /y/:splat\n/x/exact /z", "/x/exact", (302, "/y/exact")),  # after a splat, rules match in order
    ("/x/exact /z\n/x/* /y/:splat", "/x/exact", (302, "/z")),
    ("https://example.com/a /b", "/a", (302, "/b")),  # rules may name the host
    ("https://other.com/a /b", "/a", None),
    ("https://:sub.example.com/* /s/:sub/:splat", "/p", (302, "/s/www/p")),
])
def test_redirect_rules(rules: str, path: str, expected: tuple[int, str] | None) -> None:
    host = "www.example.com" if ":sub" in rules else "example.com"
    assert parse_redirects(rules).match(host, host, path) == expected


@pytest.mark.parametrize(("line", "problem"), [
    ("/a", "Expected exactly 2 or 3"),
    ("/a /b 404", "Valid status codes are 200, 301, 302 (default), 303, 307, or 308. Got 404."),
    ("/* /index.html", "Infinite loop"),
    ("/ /index", "Infinite loop"),
    ("/a https://example.org/ 200", "Proxy (200) redirects can only point to relative paths"),
    ("https://example.com:8080/a /b", "Specifying ports is not supported"),
    ("a /b", "URLs should either be relative"),
])
def test_invalid_redirect_lines_are_skipped(line: str, problem: str) -> None:
    redirects = parse_redirects(line)
    assert redirects.match("example.com", "example.com", "/a") is None
    assert len(redirects.invalid) == 1 and problem in redirects.invalid[0]


def test_duplicate_redirect_keeps_the_first() -> None:
    redirects = parse_redirects("/a /first\n/a /second")
    assert redirects.match("h", "h", "/a") == (302, "/first")
    assert "duplicate" in redirects.invalid[0]


def test_root_to_index_is_allowed_without_html_handling() -> None:
    assert parse_redirects("/ /index", html_handling="none").match("h", "h", "/") == (302, "/index")


def test_headers_parsing_and_matching() -> None:
    rules = parse_headers(
        "# comment\n/*\n  X-Frame-Options: DENY\n  Link: </a.css>; rel=preload\n  Link: </b.js>; rel=preload\n"
        "/static/:name\n  X-Name: :name\n  ! X-Frame-Options\n"
        "https://example.com/host-only\n  X-Host: yes\n"
    )
    assert rules.invalid == []
    matched = list(rules.matching("example.com", "/static/app.js"))
    assert matched == [
        ({"x-frame-options": "DENY", "link": "</a.css>; rel=preload, </b.js>; rel=preload"}, ()),
        ({"x-name": "app.js"}, ("X-Frame-Options",)),
    ]
    assert [m[0] for m in rules.matching("example.com", "/host-only")][1] == {"x-host": "yes"}
    assert len(list(rules.matching("other.com", "/host-only"))) == 1


@pytest.mark.parametrize(("text", "problem"), [
    ("X-A: b", "Path should come before header"),
    ("/a\n  nonsense", "Expected a colon-separated header pair"),
    ("/a\n  Bad Name: v", "Header name cannot include spaces"),
    ("/a\n  X-A:", "No header value specified"),
    ("/a\n/b\n  X-B: c", "No headers specified"),
])
def test_invalid_header_lines(text: str, problem: str) -> None:
    assert any(problem in p for p in parse_headers(text).invalid)


@pytest.mark.parametrize(("rules", "path", "worker_first"), [
    (["/api/*"], "/api/users", True),
    (["/api/*"], "/api", False),
    (["/api/*"], "/apiary", False),
    (["/api/*", "!/api/docs/*"], "/api/docs/intro", False),
    (["/api/*", "!/api/docs/*"], "/api/users", True),
    (["/*", "!/assets/*"], "/assets/app.js", False),
    (["/*", "!/assets/*"], "/anything", True),
    (["/exact"], "/exact", True),
    (["/exact"], "/exact/", False),
    (["/a.b"], "/aXb", False),  # only * is special
])
def test_run_worker_first_patterns(rules: list[str], path: str, worker_first: bool) -> None:
    assert parse_static_routing(rules).worker_first(path) is worker_first


@pytest.mark.parametrize(("rules", "problem"), [
    ([], "at least 1 rule"),
    (["!/assets/*"], "Only negative"),
    (["api/*"], "rules must start with '/' or '!/'"),
    (["!api"], "negative rules must start with '!/'"),
    (["/a", "/a"], "duplicate"),
    (["/api/*", "/api/users"], "makes it redundant"),
    (["/" + "a" * 100], "less than 100 characters"),
])
def test_invalid_run_worker_first(rules: list[str], problem: str) -> None:
    with pytest.raises(ConfigError, match=problem):
        parse_static_routing(rules)


@pytest.mark.parametrize(("name", "expected"), [
    ("index.html", "text/html; charset=utf-8"), ("style.css", "text/css; charset=utf-8"),
    ("app.js", "text/javascript; charset=utf-8"), ("mod.mjs", "text/javascript; charset=utf-8"),
    ("data.json", "application/json"), ("logo.svg", "image/svg+xml"), ("favicon.ico", "image/vnd.microsoft.icon"),
    ("a.png", "image/png"), ("A.PNG", "image/png"), ("font.woff2", "font/woff2"), ("m.wasm", "application/wasm"),
    ("notes.txt", "text/plain; charset=utf-8"), ("site.webmanifest", "application/manifest+json"),
    ("README", None), ("blob.unknownext", None), (".html", None),
])
def test_content_types(name: str, expected: str | None) -> None:
    assert content_type(name) == expected


@pytest.mark.parametrize(("url", "pathname"), [
    ("http://h/a/../b", "/b"), ("http://h/a/%2e%2e/b", "/b"), ("http://h/a/.%2E/b", "/b"), ("http://h/../../x", "/x"),
    ("http://h/a\\..\\b", "/b"), ("http://h/a/./b/.", "/a/b/"), ("http://h/a b", "/a%20b"), ("http://h/é", "/%C3%A9"),
    ("http://h", "/"),
])
def test_url_pathname_like_whatwg(url: str, pathname: str) -> None:
    assert parse_url(url).pathname == pathname


@pytest.mark.parametrize(("pathname", "decoded", "canonical"), [
    ("/a%20b", "/a b", "/a%20b"), ("/%5Bx%5D", "/[x]", "/%5Bx%5D"), ("/[x]", "/[x]", "/%5Bx%5D"),
    ("/bin%2F", "/bin/", "/bin/"), ("/bin%252F", "/bin%2F", "/bin%252F"), ("//a///b", "/a/b", "/a/b"),
    ("/%E0%A4%A", "/%E0%A4%A", "/%25E0%25A4%25A"),  # a malformed escape stays as it is
    ("/%FF", "/%FF", "/%25FF"),  # not UTF-8
])
def test_decode_and_canonical_encoding(pathname: str, decoded: str, canonical: str) -> None:
    assert decode_path(pathname) == decoded
    assert encode_path(decoded) == canonical

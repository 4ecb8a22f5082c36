"""AssetServer over real directories: caching headers, methods, not-found handling, Worker ordering, safety."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pytest

from portflare.api.request import Request
from portflare.config import Assets
from portflare.runtime.assets import AssetServer
from portflare.runtime.assets import index as index_module
from tests.assets.conftest import MakeServer, get, write_files

SITE = {"/index.html": "home", "/app.js": "js", "/docs/guide.html": "guide", "/docs/404.html": "docs 404",
        "/404.html": "root 404", "/secret.txt": "s"}


async def test_asset_headers_and_body(make_server: MakeServer) -> None:
    response = await get(make_server(SITE), "/app.js")
    assert response.status == 200
    assert response.headers.get("content-type") == "text/javascript; charset=utf-8"
    assert response.headers.get("cache-control") == "public, max-age=0, must-revalidate"
    etag = response.headers.get("etag")
    assert etag.startswith('"') and etag.endswith('"') and len(etag) == 34
    assert await response.text() == "js"


async def test_etag_is_stable_per_content(make_server: MakeServer, tmp_path: Path) -> None:
    server = make_server({"/a.txt": "same", "/b.txt": "same", "/c.txt": "other"})
    etags = [(await get(server, p)).headers.get("etag") for p in ("/a.txt", "/b.txt", "/c.txt")]
    assert etags[0] == etags[1] != etags[2]
    assert (await get(AssetServer(Assets(directory=tmp_path / "public")), "/a.txt")).headers.get("etag") == etags[0]


@pytest.mark.parametrize("form", ["{}", "W/{}"])
async def test_if_none_match_gives_304(make_server: MakeServer, form: str) -> None:
    server = make_server(SITE)
    etag = (await get(server, "/app.js")).headers.get("etag")
    response = await get(server, "/app.js", If_None_Match=form.format(etag))
    assert response.status == 304
    assert response.headers.get("etag") == etag
    assert response.body is None


async def test_if_none_match_mismatch_or_list_is_200(make_server: MakeServer) -> None:
    server = make_server(SITE)
    etag = (await get(server, "/app.js")).headers.get("etag")
    assert (await get(server, "/app.js", If_None_Match='"nope"')).status == 200
    # Compared verbatim, as the asset worker does: a list is not parsed.
    assert (await get(server, "/app.js", If_None_Match=f'"x", {etag}')).status == 200


async def test_no_cache_control_with_authorization_or_range(make_server: MakeServer) -> None:
    server = make_server(SITE)
    assert (await get(server, "/app.js", Authorization="Bearer x")).headers.get("cache-control") is None
    assert (await get(server, "/app.js", Range="bytes=0-1")).headers.get("cache-control") is None


async def test_head_has_headers_only(make_server: MakeServer) -> None:
    server = make_server(SITE)
    response = await get(server, "/app.js", method="HEAD")
    assert response.status == 200 and response.body is None
    assert response.headers.get("content-type") == "text/javascript; charset=utf-8"
    assert response.headers.get("content-length") == str(len(await (await get(server, "/app.js")).bytes()))


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH"])
async def test_other_methods_are_405_on_assets(make_server: MakeServer, method: str) -> None:
    server = make_server(SITE)
    assert (await get(server, "/app.js", method=method)).status == 405
    assert (await get(server, "/missing", method=method)).status == 404  # as on Cloudflare: no asset, no 405


async def test_fetch_accepts_url_strings(make_server: MakeServer) -> None:
    server = make_server(SITE)
    assert (await server.fetch("http://example.com/app.js")).status == 200
    assert (await server.fetch("/app.js")).status == 200
    missing = await server.fetch("https://example.com/nope")
    assert missing.status == 404 and missing.body is None


async def test_404_page_walks_up(make_server: MakeServer) -> None:
    server = make_server(SITE, not_found_handling="404-page")
    nested = await get(server, "/docs/a/b/missing")
    assert (nested.status, await nested.text()) == (404, "docs 404")
    top = await get(server, "/nope")
    assert (top.status, await top.text()) == (404, "root 404")
    assert top.headers.get("content-type") == "text/html; charset=utf-8"


async def test_404_page_missing_is_plain_404(make_server: MakeServer) -> None:
    response = await get(make_server({"/a.txt": "a"}, not_found_handling="404-page"), "/nope")
    assert response.status == 404 and response.body is None


async def test_single_page_application(make_server: MakeServer) -> None:
    server = make_server(SITE, not_found_handling="single-page-application")
    response = await get(server, "/some/client/route")
    assert (response.status, await response.text()) == (200, "home")
    assert (await get(server, "/app.js")).status == 200


async def test_serve_leaves_unmatched_requests_to_the_worker(make_server: MakeServer) -> None:
    server = make_server(SITE)
    assert await server.serve(Request("http://example.com/api/users")) is None
    response = await server.serve(Request("http://example.com/app.js"))
    assert response is not None and response.status == 200


async def test_serve_spa_with_worker_only_for_navigations(make_server: MakeServer) -> None:
    server = make_server(SITE, not_found_handling="single-page-application")
    assert await server.serve(Request("http://example.com/api/users")) is None
    nav = await server.serve(Request("http://example.com/route", headers={"Sec-Fetch-Mode": "navigate"}))
    assert nav is not None and await nav.text() == "home"


async def test_serve_navigation_flag_off(make_server: MakeServer) -> None:
    server = make_server(SITE, not_found_handling="single-page-application",
                         server_options={"navigation_prefers_assets": False})
    assert await server.serve(Request("http://example.com/route", headers={"Sec-Fetch-Mode": "navigate"})) is None


async def test_serve_without_worker_applies_not_found_handling(make_server: MakeServer) -> None:
    server = make_server(SITE, not_found_handling="404-page", server_options={"has_worker": False})
    response = await server.serve(Request("http://example.com/api"))
    assert response is not None and response.status == 404 and await response.text() == "root 404"
    plain = make_server({}, server_options={"has_worker": False})
    missing = await plain.serve(Request("http://example.com/x"))
    assert missing is not None and missing.status == 404


def test_should_run_worker_first(make_server: MakeServer) -> None:
    assert make_server(SITE).should_run_worker_first("/app.js") is False
    assert make_server(SITE, run_worker_first=True).should_run_worker_first("/app.js") is True
    routed = make_server(SITE, run_worker_first=("/api/*", "!/api/static/*"))
    assert routed.should_run_worker_first("/api/users?x=1") is True
    assert routed.should_run_worker_first("/api/static/a.js") is False
    assert routed.should_run_worker_first("http://example.com/api/x") is True
    assert routed.should_run_worker_first("/app.js") is False


async def test_redirects_file(make_server: MakeServer) -> None:
    server = make_server({**SITE, "/_redirects": "/old /app.js 301\n/go https://example.org/x\n"
                                                 "/r/* /docs/:splat 200\n/gone /nothing 200\n"})
    moved = await get(server, "/old?keep=1")
    assert (moved.status, moved.headers.get("location")) == (301, "/app.js?keep=1")
    external = await get(server, "/go?q=1")
    assert (external.status, external.headers.get("location")) == (302, "https://example.org/x?q=1")
    # A rewrite to /docs/guide.html then meets html_handling, which canonicalises it (as on Cloudflare).
    rewritten = await get(server, "/r/guide")
    assert (rewritten.status, await rewritten.text()) == (200, "guide")
    assert (await get(server, "/_redirects")).status == 404
    # A redirect answers before the Worker; a rewrite to nothing is a 404, not the Worker's.
    assert (await server.serve(Request("http://example.com/old"))).status == 301  # type: ignore[union-attr]
    gone = await server.serve(Request("http://example.com/gone"))
    assert gone is not None and gone.status == 404


async def test_headers_file(make_server: MakeServer) -> None:
    server = make_server({**SITE, "/_headers": "/*\n  X-Frame-Options: DENY\n  Cache-Control: no-store\n"
                                               "/docs/*\n  ! X-Frame-Options\n  X-Docs: :splat\n"})
    top = await get(server, "/app.js")
    assert top.headers.get("x-frame-options") == "DENY"
    assert top.headers.get("cache-control") == "no-store"
    docs = await get(server, "/docs/guide")
    assert docs.headers.get("x-frame-options") is None
    assert docs.headers.get("x-docs") == "guide"
    missing = await get(server, "/nope")
    assert missing.status == 404 and missing.headers.get("x-frame-options") == "DENY"
    assert (await get(server, "/_headers")).status == 404


async def test_assetsignore(make_server: MakeServer) -> None:
    server = make_server({**SITE, "/.assetsignore": "*.map\nprivate/\n!keep.map\n", "/app.js.map": "m",
                          "/keep.map": "k", "/private/data.json": "{}", "/.env": "x"})
    assert (await get(server, "/app.js.map")).status == 404
    assert (await get(server, "/private/data.json")).status == 404
    assert (await get(server, "/.assetsignore")).status == 404
    assert (await get(server, "/keep.map")).status == 200
    assert (await get(server, "/.env")).status == 200  # dotfiles are assets unless ignored, as in wrangler


@pytest.mark.parametrize("path", [
    "/../outside.txt", "/%2e%2e/outside.txt", "/%2E%2E/%2e%2e/outside.txt", "/..%2foutside.txt",
    "/..%2Foutside.txt", "/..\\outside.txt", "/..%5coutside.txt", "/secret.txt%00", "/%00", "//outside.txt",
    "/link-out.txt", "/dir-link/outside.txt", "/sub/../../outside.txt",
])
async def test_no_path_escapes_the_directory(make_server: MakeServer, tmp_path: Path, path: str) -> None:
    (tmp_path / "outside.txt").write_text("OUTSIDE")
    server_root = tmp_path / "public"
    server_root.mkdir()
    (server_root / "link-out.txt").symlink_to(tmp_path / "outside.txt")
    (server_root / "dir-link").symlink_to(tmp_path)
    server = make_server({"/sub/x.txt": "x"}, not_found_handling="none")
    response = await get(server, path)
    while response.status == 307:
        response = await get(server, response.headers.get("location"))
    assert response.status == 404


async def test_symlink_inside_the_directory_is_served(make_server: MakeServer, tmp_path: Path) -> None:
    root = tmp_path / "public"
    write_files(root, {"/real.txt": "real"})
    (root / "alias.txt").symlink_to(root / "real.txt")
    assert await (await get(make_server(), "/alias.txt")).text() == "real"


async def test_file_swapped_for_outside_link_after_scan(make_server: MakeServer, tmp_path: Path) -> None:
    server = make_server({"/big.bin": b"x" * 200_000, "/small.txt": "small"})
    (tmp_path / "outside.txt").write_text("OUTSIDE")
    for name in ("big.bin", "small.txt"):
        (tmp_path / "public" / name).unlink()
        (tmp_path / "public" / name).symlink_to(tmp_path / "outside.txt")
    assert (await get(server, "/small.txt")).status == 404
    big = await get(server, "/big.bin")
    with pytest.raises(FileNotFoundError):
        await big.bytes()


async def test_large_files_stream_in_chunks(make_server: MakeServer) -> None:
    data = os.urandom(1024 * 1024 + 7)
    response = await get(make_server({"/big.bin": data}), "/big.bin")
    assert response.headers.get("content-length") == str(len(data))  # a known length, not chunked
    chunks = [chunk async for chunk in response.aiter_bytes()]
    assert len(chunks) > 1 and b"".join(chunks) == data


async def test_a_file_that_grew_after_the_scan_streams_what_was_promised(make_server: MakeServer,
                                                                          tmp_path: Path) -> None:
    data = b"a" * (1024 * 1024)
    server = make_server({"/big.bin": data})
    with (tmp_path / "public" / "big.bin").open("ab") as file:
        file.write(b"more")
    response = await get(server, "/big.bin")
    assert response.headers.get("content-length") == str(len(data))
    assert b"".join([chunk async for chunk in response.aiter_bytes()]) == data


async def test_files_over_25_mib_are_skipped(make_server: MakeServer, monkeypatch: pytest.MonkeyPatch,
                                             caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setattr(index_module, "MAX_ASSET_SIZE", 10)
    with caplog.at_level(logging.WARNING, logger="portflare.assets"):
        server = make_server({"/big.txt": "x" * 11, "/ok.txt": "x" * 10})
    assert (await get(server, "/big.txt")).status == 404
    assert (await get(server, "/ok.txt")).status == 200
    assert "25 MiB" in caplog.text


async def test_refresh_picks_up_changes(make_server: MakeServer, tmp_path: Path) -> None:
    server = make_server({"/a.txt": "one"})
    before = (await get(server, "/a.txt")).headers.get("etag")
    write_files(tmp_path / "public", {"/a.txt": "two!", "/b.txt": "new"})
    assert (await get(server, "/b.txt")).status == 404
    server.refresh()
    after = await get(server, "/a.txt")
    assert after.headers.get("etag") != before and await after.text() == "two!"
    assert (await get(server, "/b.txt")).status == 200


async def test_refresh_interval_rescans_on_request(make_server: MakeServer, tmp_path: Path) -> None:
    server = make_server({"/a.txt": "one"}, server_options={"refresh_interval": 0})
    write_files(tmp_path / "public", {"/b.txt": "new"})
    assert (await get(server, "/b.txt")).status == 200


def test_missing_directory_serves_nothing(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="portflare.assets"):
        AssetServer(Assets(directory=tmp_path / "absent"))
    assert "does not exist" in caplog.text

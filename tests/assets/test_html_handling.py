"""html_handling in all four modes, through the server on real files.

The cases are Cloudflare's own table (workers-sdk asset-worker/tests/test-cases/html-handling-test-cases.ts):
request a path, follow the 307s, and check which file is served at which final path (or that it is a 404).
"""

from __future__ import annotations

import pytest

from tests.assets.conftest import MakeServer, get

INDEX = ("/index.html",)
BOTH = ("/both.html", "/both/index.html")
FILE = ("/file.html",)
FOLDER = ("/folder/index.html",)
BIN = ("/bin%2F", "/bin/index.html")  # a file literally named "bin%2F"
FILE_BIN = ("/file-bin", "/file-bin.html")

# (files, requested path, file served or None for 404, final path after redirects)
AUTO = [
    (INDEX, "/", "/index.html", "/"), (INDEX, "/index", "/index.html", "/"),
    (INDEX, "/index.html", "/index.html", "/"),
    (BOTH, "/both", "/both.html", "/both"), (BOTH, "/both.html", "/both.html", "/both"),
    (BOTH, "/both/", "/both/index.html", "/both/"), (BOTH, "/both/index.html", "/both/index.html", "/both/"),
    (BOTH, "/both/index", "/both/index.html", "/both/"),
    (FILE, "/file", "/file.html", "/file"), (FILE, "/file.html", "/file.html", "/file"),
    (FILE, "/file/", "/file.html", "/file"), (FILE, "/file/index", "/file.html", "/file"),
    (FILE, "/file/index.html", "/file.html", "/file"),
    (FOLDER, "/folder", "/folder/index.html", "/folder/"), (FOLDER, "/folder.html", "/folder/index.html", "/folder/"),
    (FOLDER, "/folder/", "/folder/index.html", "/folder/"),
    (FOLDER, "/folder/index", "/folder/index.html", "/folder/"),
    (FOLDER, "/folder/index.html", "/folder/index.html", "/folder/"),
    (BIN, "/bin", "/bin/index.html", "/bin/"), (BIN, "/bin.html", "/bin/index.html", "/bin/"),
    (BIN, "/bin%2F", "/bin/index.html", "/bin/"), (BIN, "/bin%252F", "/bin%2F", "/bin%252F"),
    (BIN, "/bin/", "/bin/index.html", "/bin/"), (BIN, "/bin/index", "/bin/index.html", "/bin/"),
    (BIN, "/bin/index.html", "/bin/index.html", "/bin/"),
    (FILE_BIN, "/file-bin", "/file-bin", "/file-bin"), (FILE_BIN, "/file-bin.html", "/file-bin.html", "/file-bin.html"),
    (FILE_BIN, "/file-bin/", None, None), (FILE_BIN, "/file-bin/index", None, None),
    (FILE_BIN, "/file-bin/index.html", None, None),
]
DROP = [
    (INDEX, "/", "/index.html", "/"), (INDEX, "/index", "/index.html", "/"),
    (INDEX, "/index.html", "/index.html", "/"),
    (BOTH, "/both", "/both.html", "/both"), (BOTH, "/both.html", "/both.html", "/both"),
    (BOTH, "/both/", "/both.html", "/both"), (BOTH, "/both/index", "/both.html", "/both"),
    (BOTH, "/both/index.html", "/both/index.html", "/both/index.html"),
    (FILE, "/file", "/file.html", "/file"), (FILE, "/file.html", "/file.html", "/file"),
    (FILE, "/file/", "/file.html", "/file"), (FILE, "/file/index", "/file.html", "/file"),
    (FILE, "/file/index.html", "/file.html", "/file"),
    (FOLDER, "/folder", "/folder/index.html", "/folder"), (FOLDER, "/folder.html", "/folder/index.html", "/folder"),
    (FOLDER, "/folder/", "/folder/index.html", "/folder"), (FOLDER, "/folder/index", "/folder/index.html", "/folder"),
    (FOLDER, "/folder/index.html", "/folder/index.html", "/folder"),
    (BIN, "/bin", "/bin/index.html", "/bin"), (BIN, "/bin.html", "/bin/index.html", "/bin"),
    (BIN, "/bin%2F", "/bin/index.html", "/bin"), (BIN, "/bin%252F", "/bin%2F", "/bin%252F"),
    (BIN, "/bin/", "/bin/index.html", "/bin"), (BIN, "/bin/index", "/bin/index.html", "/bin"),
    (BIN, "/bin/index.html", "/bin/index.html", "/bin"),
    (FILE_BIN, "/file-bin", "/file-bin", "/file-bin"), (FILE_BIN, "/file-bin.html", "/file-bin.html", "/file-bin.html"),
    (FILE_BIN, "/file-bin/", None, None), (FILE_BIN, "/file-bin/index", None, None),
    (FILE_BIN, "/file-bin/index.html", None, None),
]
FORCE = [
    (INDEX, "/", "/index.html", "/"), (INDEX, "/index", "/index.html", "/"),
    (INDEX, "/index.html", "/index.html", "/"),
    (BOTH, "/both", "/both/index.html", "/both/"), (BOTH, "/both.html", "/both.html", "/both.html"),
    (BOTH, "/both/", "/both/index.html", "/both/"), (BOTH, "/both/index", "/both/index.html", "/both/"),
    (BOTH, "/both/index.html", "/both/index.html", "/both/"),
    (FILE, "/file", "/file.html", "/file/"), (FILE, "/file.html", "/file.html", "/file/"),
    (FILE, "/file/", "/file.html", "/file/"), (FILE, "/file/index", "/file.html", "/file/"),
    (FILE, "/file/index.html", "/file.html", "/file/"),
    (FOLDER, "/folder", "/folder/index.html", "/folder/"), (FOLDER, "/folder.html", "/folder/index.html", "/folder/"),
    (FOLDER, "/folder/", "/folder/index.html", "/folder/"),
    (FOLDER, "/folder/index", "/folder/index.html", "/folder/"),
    (FOLDER, "/folder/index.html", "/folder/index.html", "/folder/"),
    (BIN, "/bin", "/bin/index.html", "/bin/"), (BIN, "/bin.html", "/bin/index.html", "/bin/"),
    (BIN, "/bin%2F", "/bin/index.html", "/bin/"), (BIN, "/bin%252F", "/bin%2F", "/bin%252F"),
    (BIN, "/bin/", "/bin/index.html", "/bin/"), (BIN, "/bin/index", "/bin/index.html", "/bin/"),
    (BIN, "/bin/index.html", "/bin/index.html", "/bin/"),
    (FILE_BIN, "/file-bin", "/file-bin", "/file-bin"), (FILE_BIN, "/file-bin.html", "/file-bin.html", "/file-bin/"),
    (FILE_BIN, "/file-bin/", "/file-bin.html", "/file-bin/"),
    (FILE_BIN, "/file-bin/index", "/file-bin.html", "/file-bin/"),
    (FILE_BIN, "/file-bin/index.html", "/file-bin.html", "/file-bin/"),
]
NONE = [
    (INDEX, "/", None, None), (INDEX, "/index", None, None), (INDEX, "/index.html", "/index.html", "/index.html"),
    (BOTH, "/both", None, None), (BOTH, "/both.html", "/both.html", "/both.html"), (BOTH, "/both/", None, None),
    (BOTH, "/both/index.html", "/both/index.html", "/both/index.html"),
    (FILE, "/file/index.html", None, None), (FOLDER, "/folder.html", None, None),
    (BIN, "/bin", None, None), (BIN, "/bin.html", None, None), (BIN, "/bin%2F", None, None),
    (BIN, "/bin%252F", "/bin%2F", "/bin%252F"), (BIN, "/bin/", None, None), (BIN, "/bin/index", None, None),
    (FILE_BIN, "/file-bin", "/file-bin", "/file-bin"), (FILE_BIN, "/file-bin.html", "/file-bin.html", "/file-bin.html"),
    (FILE_BIN, "/file-bin/", None, None), (FILE_BIN, "/file-bin/index", None, None),
    (FILE_BIN, "/file-bin/index.html", None, None),
]
CASES = [(mode, *case) for mode, cases in (("auto-trailing-slash", AUTO), ("drop-trailing-slash", DROP),
                                            ("force-trailing-slash", FORCE), ("none", NONE)) for case in cases]


@pytest.mark.parametrize(("mode", "files", "request_path", "served", "final_path"), CASES,
                         ids=[f"{c[0]}:{c[2]}:{'+'.join(c[1])}" for c in CASES])
async def test_html_handling(make_server: MakeServer, mode: str, files: tuple[str, ...], request_path: str,
                             served: str | None, final_path: str | None) -> None:
    server = make_server(files, html_handling=mode)
    path, hops = request_path, 0
    response = await get(server, path)
    while response.status == 307:
        assert hops < 3, "redirect loop"
        path, hops = response.headers.get("location"), hops + 1
        response = await get(server, path)
    if served is None:
        assert response.status == 404
        return
    assert response.status == 200
    assert await response.text() == f"content of {served}"
    assert path == final_path

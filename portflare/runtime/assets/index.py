"""The files under the assets directory, as wrangler would upload them, and opening them safely.

Only files found by walking the directory are ever served, keyed by their ``/``-rooted POSIX path, so a
request path is never joined onto the file system. Symlinks are followed only while they stay inside the
directory, and each open re-checks that (a file may be swapped for a link after the walk).
"""

from __future__ import annotations

import hashlib
import logging
import os
import stat
from dataclasses import dataclass
from pathlib import Path

import pathspec

from portflare.runtime.assets.content_types import content_type

log = logging.getLogger("portflare.assets")

MAX_ASSET_SIZE = 25 * 1024 * 1024
MAX_ASSET_COUNT = 100_000
ASSETS_IGNORE_FILE = ".assetsignore"
REDIRECTS_FILE = "_redirects"
HEADERS_FILE = "_headers"
_HASH_CHUNK = 1024 * 1024


@dataclass(frozen=True)
class AssetFile:
    path: Path  # absolute
    etag: str  # content hash: equal content (and extension) means equal ETag, as on Cloudflare
    size: int
    content_type: str | None


@dataclass(frozen=True)
class _Stamp:
    size: int
    mtime_ns: int
    inode: int


def _hash(path: Path) -> str:
    # Wrangler hashes content + extension (blake3, 32 hex chars); any stable content hash serves the same role.
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(_HASH_CHUNK):
            digest.update(chunk)
    digest.update(path.suffix.encode("utf-8", "surrogateescape"))
    return digest.hexdigest()[:32]


def _inside(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


class AssetIndex:
    """A snapshot of the directory once ``scan()``ned; a new index built with ``reuse=`` the old one re-hashes
    only the files whose size, mtime or inode changed."""

    def __init__(self, root: Path, reuse: AssetIndex | None = None) -> None:
        self.root = root
        self.files: dict[str, AssetFile] = {}
        self.by_etag: dict[str, AssetFile] = {}
        self.redirects_text: str | None = None
        self.headers_text: str | None = None
        self._hashes: dict[str, tuple[_Stamp, str]] = reuse._hashes if reuse is not None else {}

    def etag(self, path: str) -> str | None:
        found = self.files.get(path)
        return found.etag if found else None

    def scan(self) -> None:
        root = os.path.realpath(self.root)
        files: dict[str, AssetFile] = {}
        hashes: dict[str, tuple[_Stamp, str]] = {}
        if not os.path.isdir(root):
            log.warning("assets directory %s does not exist: serving no assets", self.root)
        else:
            ignore = self._ignore_spec(root)
            for key, full, st in self._walk(root):
                if ignore.match_file(key[1:]):
                    continue
                if st.st_size > MAX_ASSET_SIZE:
                    log.warning("asset %s is %d bytes, over Cloudflare's 25 MiB limit per file: not served",
                                key, st.st_size)
                    continue
                stamp = _Stamp(st.st_size, st.st_mtime_ns, st.st_ino)
                cached = self._hashes.get(key)
                etag = cached[1] if cached and cached[0] == stamp else _hash(Path(full))
                hashes[key] = (stamp, etag)
                files[key] = AssetFile(Path(full), etag, st.st_size, content_type(key))
            if len(files) > MAX_ASSET_COUNT:
                log.warning("%d assets in %s: Cloudflare accepts at most %d per version", len(files), self.root,
                            MAX_ASSET_COUNT)
        self.files, self._hashes = files, hashes
        self.by_etag = {asset.etag: asset for asset in files.values()}
        self.redirects_text = self._read_meta(root, REDIRECTS_FILE)
        self.headers_text = self._read_meta(root, HEADERS_FILE)

    @staticmethod
    def _ignore_spec(root: str) -> pathspec.GitIgnoreSpec:
        # The metafiles are never assets, whatever .assetsignore says (workers-shared createAssetsIgnoreFunction).
        patterns = [f"/{ASSETS_IGNORE_FILE}", f"/{REDIRECTS_FILE}", f"/{HEADERS_FILE}"]
        ignore_file = os.path.join(root, ASSETS_IGNORE_FILE)
        if os.path.isfile(ignore_file):
            with open(ignore_file, encoding="utf-8") as f:
                patterns += f.read().split("\n")
        return pathspec.GitIgnoreSpec.from_lines(patterns)

    @staticmethod
    def _read_meta(root: str, name: str) -> str | None:
        try:
            with open(os.path.join(root, name), encoding="utf-8") as f:
                return f.read()
        except FileNotFoundError:
            return None

    @staticmethod
    def _walk(root: str) -> list[tuple[str, str, os.stat_result]]:
        found: list[tuple[str, str, os.stat_result]] = []
        visited: set[str] = set()
        for dirpath, dirnames, filenames in os.walk(root, followlinks=True):
            real_dir = os.path.realpath(dirpath)
            if not _inside(real_dir, root) or real_dir in visited:  # a link out of the directory, or a cycle
                dirnames[:] = []
                continue
            visited.add(real_dir)
            rel_dir = os.path.relpath(dirpath, root)
            for name in filenames:
                full = os.path.join(dirpath, name)
                real = os.path.realpath(full)
                if not _inside(real, root):
                    log.warning("asset %s links outside the assets directory: not served", full)
                    continue
                try:
                    st = os.stat(real)
                except OSError:  # a dangling link
                    continue
                if not stat.S_ISREG(st.st_mode):
                    continue
                rel = name if rel_dir == "." else f"{rel_dir}/{name}"
                found.append(("/" + rel.replace(os.sep, "/"), full, st))
        return found

    def open(self, asset: AssetFile) -> int:
        """A read-only descriptor for ``asset``, refusing anything that now resolves outside the directory."""
        root = os.path.realpath(self.root)
        real = os.path.realpath(asset.path)
        if not _inside(real, root):
            raise FileNotFoundError(f"{asset.path} now resolves outside the assets directory")
        fd = os.open(real, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0))
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            os.close(fd)
            raise FileNotFoundError(f"{asset.path} is no longer a regular file")
        return fd

"""Copy R2 objects between a plain directory, an R2 store (embedded files or the project's binding) and any S3
endpoint, keeping their metadata.

=====================================  =================================================================
``dir:///path`` or ``/path``           a plain directory: each file is an object, its key the relative path
                                       with ``/``; content type guessed from the name (``mimetypes``)
``r2:BUCKET_OR_BINDING``               the project's bucket, wherever the Worker reads it (``--config``)
``file:///path``                       portflare's embedded R2 store rooted at that directory
``s3://KEY:SECRET@host:port/bucket``   any S3 endpoint (AWS, MinIO, Cloudflare R2's S3 API, ...);
                                       ``?region=..&secure=false`` as for ``PORTFLARE_<BINDING>``
=====================================  =================================================================

Objects are copied by ``concurrency`` tasks at once; each streams its source body, chunk by chunk, into the
target's put (an S3 target turns bodies over 8 MiB into multipart uploads), so no object is ever held whole.

**Skip rule** (what makes a re-run resume cheaply): an object is skipped when the target holds the same key with
the same size and

* both ETags are single-part MD5s (32 hex digits) and equal; or else
* both sides *know* the content's MD5 and it is equal: a stored ``md5`` checksum (every object portflare writes
  has one), a single-part ETag, or, for a directory, the file hashed on the spot. A multipart ETag (``<hex>-N``)
  is an MD5 of part MD5s and cannot be compared with a whole-object MD5, so an object known only by one is
  copied again.

Kept: HTTP metadata (content type, language, disposition, encoding, cache control, cache expiry), custom
metadata, storage class, version id, upload time, and one stored checksum (SHA-* if the source has one, else
MD5), which the target put verifies, so a corrupted stream is never committed. A directory target keeps only the
bytes (and the upload time as the file's mtime).
"""

from __future__ import annotations

import asyncio
import hashlib
import mimetypes
import os
import time
import uuid
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, BinaryIO, Literal, Protocol
from urllib.parse import unquote, urlsplit

from portflare.bindings.r2 import validate as v
from portflare.bindings.r2.base import NewObject, ObjectMeta, R2Backend
from portflare.bindings.r2.streams import Hashing
from portflare.migrate.endpoint import MigrateError
from portflare.migrate.progress import NullReporter, Reporter

DEFAULT_CONCURRENCY = 8
PAGE = 1000
CHUNK = 1024 * 1024

# -- stores -----------------------------------------------------------------------------------------------

class Store(Protocol):
    label: str

    def pages(self, prefix: str) -> AsyncIterator[list[ObjectMeta]]:
        """Every object under ``prefix``, a page at a time."""
        ...

    async def content_md5(self, meta: ObjectMeta) -> str | None:
        """The object's whole-content MD5 if it is known (or cheap to learn), else None."""
        ...

    async def read(self, key: str) -> tuple[ObjectMeta, AsyncIterable[bytes]] | None:
        """The object's current metadata and body stream; None if it is gone."""
        ...

    async def write(self, meta: ObjectMeta, body: AsyncIterable[bytes]) -> ObjectMeta:
        """Store ``body`` under ``meta.key`` with ``meta``'s metadata; nothing is committed if ``body`` raises."""
        ...

    async def delete(self, keys: Sequence[str]) -> None: ...

    async def close(self) -> None: ...


def _expected(meta: ObjectMeta) -> tuple[str, str] | None:
    """The one checksum the target put verifies and keeps: the strongest the source recorded."""
    for name in ("sha512", "sha384", "sha256", "sha1", "md5"):
        if meta.checksums.get(name):
            return name, meta.checksums[name]
    return None


class BackendStore:
    """An R2 backend (embedded files or S3), used below the binding: metadata records cross unchanged."""

    def __init__(self, backend: R2Backend, label: str) -> None:
        self.backend = backend
        self.label = label

    async def pages(self, prefix: str) -> AsyncIterator[list[ObjectMeta]]:
        start_after: str | None = None
        while True:
            page = await self.backend.list_page(prefix, start_after, PAGE, None, False)
            if page.objects:
                yield page.objects
            if not page.truncated or page.last is None:
                return
            start_after = page.last

    async def content_md5(self, meta: ObjectMeta) -> str | None:
        return meta.checksums.get("md5") or v.plain_md5(meta.etag)

    async def read(self, key: str) -> tuple[ObjectMeta, AsyncIterable[bytes]] | None:
        found = await self.backend.get(key, lambda meta: (0, meta.size))
        if found is None or found.body is None:
            return None
        return found.meta, found.body

    async def write(self, meta: ObjectMeta, body: AsyncIterable[bytes]) -> ObjectMeta:
        new = NewObject(key=meta.key, version=meta.version or uuid.uuid4().hex, uploaded_ms=meta.uploaded_ms,
                        http_metadata=dict(meta.http_metadata), custom_metadata=dict(meta.custom_metadata),
                        storage_class=meta.storage_class or "Standard")
        stored = await self.backend.put(new, Hashing("put", body, _expected(meta)), None)
        if stored is None:  # only a conditional put declines; ours has no condition
            raise MigrateError(f"{meta.key}: the target declined the write")
        return stored

    async def delete(self, keys: Sequence[str]) -> None:
        await self.backend.delete(keys)

    async def close(self) -> None:
        await self.backend.close()


def _open(path: Path, mode: Literal["rb", "wb"]) -> BinaryIO:
    """Blocking on purpose, as in the embedded R2 backend: a local open costs less than a thread hop."""
    return open(path, mode)


def _file_md5(path: Path) -> str:
    digest = hashlib.md5()
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


async def _file_chunks(f: BinaryIO) -> AsyncIterator[bytes]:
    with f:
        while chunk := f.read(CHUNK):
            yield chunk


class DirStore:
    """A plain directory tree. Keys are relative paths joined with ``/``; a key that would leave the directory
    (``..``, an absolute path, an empty segment, NUL) is refused. Objects carry only a guessed content type."""

    def __init__(self, root: Path, label: str) -> None:
        self.root = root
        self.label = label

    def _meta(self, key: str, path: Path) -> ObjectMeta:
        st = path.stat()
        content_type, _ = mimetypes.guess_type(key, strict=False)
        return ObjectMeta(key=key, version="", size=st.st_size, etag="", uploaded_ms=int(st.st_mtime * 1000),
                          http_metadata={"contentType": content_type} if content_type else {},
                          token=str(path))

    def _path(self, key: str) -> Path:
        parts = key.split("/")
        if (not key or "\0" in key or "\\" in key or key.startswith("/")
                or any(p in ("", ".", "..") for p in parts[:-1]) or parts[-1] in (".", "..")):
            raise MigrateError(f"{key!r}: this key cannot be a file name under {self.root}")
        return self.root.joinpath(*[p for p in parts if p])

    def _walk(self, prefix: str) -> list[ObjectMeta]:
        if not self.root.is_dir():
            return []
        # Walk only the directory the prefix names (``photos/2024/`` → photos/2024; ``photos/ab`` → photos).
        base = prefix.rsplit("/", 1)[0].split("/") if "/" in prefix else []
        start = self.root.joinpath(*base) if base and not {"", ".", ".."} & set(base) else self.root
        found: list[ObjectMeta] = []
        for directory, dirs, files in os.walk(start):
            dirs.sort()
            rel = Path(directory).relative_to(self.root).as_posix()
            for name in sorted(files):
                key = name if rel == "." else f"{rel}/{name}"
                if not key.startswith(prefix):
                    continue
                path = Path(directory, name)
                try:
                    if path.is_file():  # not sockets, fifos, broken links
                        found.append(self._meta(key, path))
                except OSError:
                    continue  # vanished while walking
        return found

    async def pages(self, prefix: str) -> AsyncIterator[list[ObjectMeta]]:
        found = await asyncio.to_thread(self._walk, prefix)
        for start in range(0, len(found), PAGE):
            yield found[start:start + PAGE]

    async def content_md5(self, meta: ObjectMeta) -> str | None:
        try:
            return await asyncio.to_thread(_file_md5, Path(meta.token))
        except OSError:
            return None

    async def read(self, key: str) -> tuple[ObjectMeta, AsyncIterable[bytes]] | None:
        path = self._path(key)
        try:
            f = _open(path, "rb")
        except FileNotFoundError:
            return None
        return self._meta(key, path), _file_chunks(f)

    async def write(self, meta: ObjectMeta, body: AsyncIterable[bytes]) -> ObjectMeta:
        path = self._path(meta.key)
        if meta.key.endswith("/"):  # an S3 "folder" marker
            path.mkdir(parents=True, exist_ok=True)
            async for _ in body:
                pass
            return meta
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.parent / f".{path.name}.{uuid.uuid4().hex[:12]}.portflare-tmp"
        hashing = Hashing("put", body, _expected(meta))
        try:
            with _open(tmp, "wb") as f:
                async for chunk in hashing:
                    f.write(chunk)
            os.replace(tmp, path)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        if meta.uploaded_ms:
            os.utime(path, (meta.uploaded_ms / 1000, meta.uploaded_ms / 1000))
        return ObjectMeta(key=meta.key, version="", size=hashing.size, etag=hashing.md5_hex,
                          uploaded_ms=meta.uploaded_ms, checksums=hashing.checksums, token=str(path))

    async def delete(self, keys: Sequence[str]) -> None:
        for key in keys:
            path = self._path(key)
            if key.endswith("/"):
                continue
            path.unlink(missing_ok=True)
            parent = path.parent
            while parent != self.root and parent.is_relative_to(self.root):
                try:
                    parent.rmdir()  # only while empty
                except OSError:
                    break
                parent = parent.parent

    async def close(self) -> None:
        pass


def _local(path: str) -> Path:
    return Path(path).expanduser()


async def open_store(url: str, project: Any = None, *, source: bool) -> Store:
    """The store a ``--from``/``--to`` URL names (``project`` is ``(config, state_dir)`` for ``r2:``)."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower() if "://" in url else ""
    side = "--from" if source else "--to"
    if url.startswith("r2:") and "://" not in url:
        if project is None:
            raise MigrateError(f"{url} needs a project (run inside it, or pass --config)")
        from portflare.backends import load_backend_class
        from portflare.bindings.r2 import BACKENDS
        from portflare.cli.common import target

        config, state = project
        bucket = config.r2(url[3:])
        r2_target = target("r2", bucket.binding, bucket.bucket_name, state)
        backend = await load_backend_class("r2", BACKENDS, r2_target).open(r2_target)
        return BackendStore(backend, url)
    if scheme == "file":
        from portflare.bindings.r2.fs import FsR2Backend

        root = _local(unquote(parts.netloc + parts.path))
        if source and not (root / "index.sqlite").is_file():
            raise MigrateError(f"{side} {url}: no embedded R2 store there (no index.sqlite); "
                               f"for a plain directory of files use dir://{root}")
        return BackendStore(FsR2Backend.at(root), url)
    if scheme == "s3":
        from portflare.backends import redact
        from portflare.bindings.r2.s3 import S3R2Backend

        bucket_name = unquote(parts.path.strip("/"))
        if not bucket_name or "/" in bucket_name:
            raise MigrateError(f"{side} {redact(url)}: name one bucket, e.g. s3://KEY:SECRET@host:9000/media")
        backend = S3R2Backend.from_url(url, binding=side)
        if not source:
            await backend.ensure_bucket()
        return BackendStore(backend, redact(url))
    if scheme == "dir" or not scheme:
        root = _local(unquote(parts.netloc + parts.path) if scheme else url)
        if source and not root.is_dir():
            raise MigrateError(f"{side} {url}: not a directory")
        if not source:
            root.mkdir(parents=True, exist_ok=True)
        return DirStore(root, url)
    raise MigrateError(f"{side} {url}: unknown object store (use dir:///path or a path, r2:BUCKET, file:///path "
                       "or s3://KEY:SECRET@host/bucket)")


# -- the copy ---------------------------------------------------------------------------------------------

@dataclass
class R2CopyReport:
    objects: int = 0  # in the source, under the prefix
    copied: int = 0
    skipped: int = 0
    deleted: int = 0
    gone: int = 0  # listed in the source, deleted before it could be read
    bytes: int = 0  # copied (or, with dry_run, to copy)
    seconds: float = 0.0
    dry_run: bool = False
    failures: list[dict[str, str]] = field(default_factory=list)
    copied_keys: list[str] = field(default_factory=list)
    deleted_keys: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failures

    def as_dict(self) -> dict[str, Any]:
        return {"objects": self.objects, "copied": self.copied, "skipped": self.skipped, "deleted": self.deleted,
                "gone": self.gone, "bytes": self.bytes, "seconds": round(self.seconds, 3),
                "dry_run": self.dry_run, "failures": self.failures,
                "copied_keys": self.copied_keys[:100], "deleted_keys": self.deleted_keys[:100]}


async def same_content(source: Store, src: ObjectMeta, target: Store, dst: ObjectMeta) -> bool:
    """The skip rule (module docstring)."""
    if src.size != dst.size:
        return False
    src_etag, dst_etag = v.plain_md5(src.etag), v.plain_md5(dst.etag)
    if src_etag is not None and dst_etag is not None:
        return src_etag == dst_etag
    dst_md5 = await target.content_md5(dst)
    if dst_md5 is None:
        return False
    return await source.content_md5(src) == dst_md5


KEYS_KEPT = 1000  # keys a report lists (the counts are exact)


def _note(keys: list[str], key: str) -> None:
    if len(keys) < KEYS_KEPT:
        keys.append(key)


async def _counted(body: AsyncIterable[bytes], advance: Callable[[int], None]) -> AsyncIterator[bytes]:
    async for chunk in body:
        advance(len(chunk))
        yield chunk


def _describe(exc: BaseException) -> str:
    text = f"{type(exc).__name__}: {exc}"
    cause = exc.__cause__
    if cause is not None:
        text += f" (caused by {type(cause).__name__}: {cause})"
    return text


async def copy_objects(source: Store, target: Store, *, prefix: str = "",
                       concurrency: int = DEFAULT_CONCURRENCY, delete: bool = False, dry_run: bool = False,
                       reporter: Reporter | None = None) -> R2CopyReport:
    """Copy every object under ``prefix`` that the target lacks or holds with other content; with ``delete``,
    remove the target's objects under ``prefix`` that the source does not have. Failures are collected per
    object (the copy goes on); nothing is written with ``dry_run``."""
    reporter = reporter or NullReporter()
    report = R2CopyReport(dry_run=dry_run)
    started = time.perf_counter()
    existing: dict[str, ObjectMeta] = {}
    async for page in target.pages(prefix):
        existing.update((meta.key, meta) for meta in page)
    listed: list[ObjectMeta] = []
    async for page in source.pages(prefix):
        listed.extend(page)
    report.objects = len(listed)
    reporter.start("objects", len(listed))
    reporter.start("bytes", sum(meta.size for meta in listed))

    async def one(src: ObjectMeta) -> None:
        streamed = 0

        def advance(n: int) -> None:
            nonlocal streamed
            streamed += n
            reporter.advance("bytes", n)

        try:
            dst = existing.get(src.key)
            if dst is not None and await same_content(source, src, target, dst):
                report.skipped += 1
                advance(src.size)
                return
            if dry_run:
                report.copied += 1
                report.bytes += src.size
                _note(report.copied_keys, src.key)
                advance(src.size)
                return
            found = await source.read(src.key)
            if found is None:
                report.gone += 1
                return
            meta, body = found
            stored = await target.write(meta, _counted(body, advance))
            report.copied += 1
            report.bytes += stored.size
            _note(report.copied_keys, src.key)
        except Exception as exc:
            report.failures.append({"key": src.key, "error": _describe(exc)})
        finally:
            if streamed < src.size:
                reporter.advance("bytes", src.size - streamed)  # keep the bar's total honest
            reporter.advance("objects", 1)

    await _bounded(map(one, listed), concurrency)
    reporter.finish("objects")
    reporter.finish("bytes")

    if delete:
        listed_keys = {meta.key for meta in listed}
        extra = sorted(key for key in existing if key not in listed_keys)
        for start in range(0, len(extra), v.MAX_DELETE_KEYS):
            batch = extra[start:start + v.MAX_DELETE_KEYS]
            try:
                if not dry_run:
                    await target.delete(batch)
            except Exception as exc:
                report.failures.extend({"key": key, "error": f"delete: {_describe(exc)}"} for key in batch)
                continue
            report.deleted += len(batch)
            for key in batch:
                _note(report.deleted_keys, key)
    report.seconds = time.perf_counter() - started
    return report


async def _bounded(jobs: Any, limit: int) -> None:
    """Run the ``jobs`` coroutines as tasks, at most ``limit`` at once (a semaphore, taken before each task is
    created, so a million objects never become a million pending tasks)."""
    semaphore = asyncio.Semaphore(max(1, limit))
    tasks: set[asyncio.Task[None]] = set()

    async def guarded(job: Awaitable[None]) -> None:
        try:
            await job
        finally:
            semaphore.release()

    for job in jobs:
        await semaphore.acquire()
        task = asyncio.ensure_future(guarded(job))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
    if tasks:
        await asyncio.gather(*tasks)


# -- the progress bar -------------------------------------------------------------------------------------

class TransferBar:
    """One rich progress line for a copy: objects done/total, bytes done/total, bytes/s and ETA (on stderr).
    A ``Reporter``: ``copy_objects`` reports the ``objects`` and ``bytes`` counters."""

    def __init__(self, description: str = "objects", console: Any = None) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            DownloadColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
            TransferSpeedColumn,
        )

        self._progress = Progress(
            TextColumn("[bold]{task.description}"), BarColumn(),
            TextColumn("{task.fields[done]:,}/{task.fields[of]:,} objects"), DownloadColumn(),
            TransferSpeedColumn(), TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn(),
            console=console or Console(stderr=True), transient=False)
        self._task = self._progress.add_task(description, total=None, done=0, of=0, visible=False)
        self._done = 0

    def __enter__(self) -> TransferBar:
        self._progress.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._progress.stop()

    def start(self, name: str, total: int | None, done: int = 0) -> None:
        if name == "objects":
            self._progress.update(self._task, of=total or 0, done=done, visible=True)
        else:
            self._progress.update(self._task, total=total, completed=done)

    def advance(self, name: str, n: int) -> None:
        if name == "objects":
            self._done += n
            self._progress.update(self._task, done=self._done)
        else:
            self._progress.advance(self._task, n)

    def finish(self, name: str) -> None:
        if name == "bytes":
            self._progress.refresh()

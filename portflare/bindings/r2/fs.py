"""R2 on the local file system: the embedded default.

A bucket is a directory: ``index.sqlite`` holds every object's metadata (and gives list order: SQLite compares
TEXT keys as UTF-8 bytes, exactly R2's order), ``blobs/`` the contents. A blob is named by a random id, never
by the key, so no key (``../../etc/passwd``, ``/abs``, NUL) can name a path outside the bucket. Each version
has its own blob: a put streams to ``tmp/``, renames into place and then commits the index row, so a reader
holding an older version keeps reading it and nobody sees half an object. Multipart parts wait in ``parts/``
until complete or abort.

Calls run on the event loop thread: local SQLite lookups and page-cache reads take microseconds, less than a
hop to a worker thread would cost.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import uuid
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any, BinaryIO, Literal
from urllib.parse import unquote, urlsplit

from portflare.backends import EMBEDDED, BackendTarget, env_var_for, safe_name
from portflare.bindings.r2 import validate as v
from portflare.bindings.r2.base import (
    Condition,
    HashingStream,
    ListPage,
    NewObject,
    ObjectMeta,
    PartInfo,
    Read,
    ReadPlan,
    Upload,
)
from portflare.bindings.r2.validate import PREFIX_END
from portflare.errors import BackendError
from portflare.sqlitefile import connect_wal

READ_CHUNK = 1024 * 1024
READ_ATTEMPTS = 5  # a get racing with writers of the same key looks again at most this often
SCHEMA = """
CREATE TABLE IF NOT EXISTS objects (
    key TEXT PRIMARY KEY, version TEXT NOT NULL, size INTEGER NOT NULL, etag TEXT NOT NULL,
    uploaded INTEGER NOT NULL, http TEXT NOT NULL, custom TEXT NOT NULL, checksums TEXT NOT NULL,
    storage_class TEXT NOT NULL, blob TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS uploads (
    upload_id TEXT PRIMARY KEY, key TEXT NOT NULL, version TEXT NOT NULL, http TEXT NOT NULL,
    custom TEXT NOT NULL, storage_class TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS parts (
    upload_id TEXT NOT NULL, part_number INTEGER NOT NULL, etag TEXT NOT NULL, size INTEGER NOT NULL,
    blob TEXT NOT NULL, PRIMARY KEY (upload_id, part_number)
) WITHOUT ROWID;
"""
_COLUMNS = "key, version, size, etag, uploaded, http, custom, checksums, storage_class, blob"


def bucket_dir(target: BackendTarget) -> Path:
    """``state_dir/r2/<bucket>/`` by default; ``file:///abs/dir`` roots the bucket at that directory."""
    if target.scheme == EMBEDDED:
        return target.state_dir / "r2" / safe_name(target.resource)
    parts = urlsplit(target.url or "")
    raw = unquote(parts.netloc + parts.path)
    if not raw:
        raise BackendError(f"{env_var_for(target.binding)}: a file URL needs a directory, e.g. file:///srv/r2/media")
    return Path(raw).expanduser()


def _meta(row: Sequence[Any]) -> ObjectMeta:
    key, version, size, etag, uploaded, http, custom, checksums, storage_class, blob = row
    return ObjectMeta(key=key, version=version, size=size, etag=etag, uploaded_ms=uploaded,
                      http_metadata=_loads(http), custom_metadata=_loads(custom),
                      checksums=_loads(checksums), storage_class=storage_class, token=blob)


def _loads(text: str) -> dict[str, str]:
    return {} if text == "{}" else dict(json.loads(text))


def _unlink(path: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)


def _dumps(value: dict[str, str]) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


class FsR2Backend:
    def __init__(self, root: Path, db: sqlite3.Connection) -> None:
        self._root = root
        self._blobs = str(root / "blobs")
        self._db = db
        for sub in ("blobs", "tmp", "parts"):
            (root / sub).mkdir(exist_ok=True)

    @classmethod
    async def open(cls, target: BackendTarget) -> FsR2Backend:
        return cls.at(bucket_dir(target))

    @classmethod
    def at(cls, root: Path) -> FsR2Backend:
        root.mkdir(parents=True, exist_ok=True)
        db = connect_wal(root / "index.sqlite")
        db.executescript(SCHEMA)
        return cls(root, db)

    # -- paths: only ever random hex ids under the bucket directory ---------------------------------------
    def _blob(self, name: str) -> str:
        return f"{self._blobs}/{name[:2]}/{name}"

    def _part(self, name: str) -> Path:
        return self._root / "parts" / name

    def _tmp(self) -> Path:
        return self._root / "tmp" / uuid.uuid4().hex

    async def _write(self, body: HashingStream) -> Path:
        tmp = self._tmp()
        try:
            with _open(str(tmp), "wb") as f:
                async for chunk in body:
                    f.write(chunk)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        return tmp

    def _place(self, tmp: Path, name: str) -> str:
        dest = self._blob(name)
        os.makedirs(os.path.dirname(dest), exist_ok=True)
        os.replace(tmp, dest)
        return dest

    def _current(self, key: str) -> ObjectMeta | None:
        row = self._db.execute(f"SELECT {_COLUMNS} FROM objects WHERE key = ?", (key,)).fetchone()
        return None if row is None else _meta(row)

    def _commit(self, meta: ObjectMeta, condition: Condition | None, tmp: Path,
                drop_parts: str | None = None) -> ObjectMeta | None:
        """Swap the new version in under the write lock; the old blob goes once nobody can find it."""
        dest: str | None = None
        self._db.execute("BEGIN IMMEDIATE")
        try:
            previous = self._current(meta.key)
            if condition is not None and not condition(previous):
                self._db.execute("ROLLBACK")
                tmp.unlink(missing_ok=True)
                return None
            dest = self._place(tmp, meta.token)
            self._db.execute(
                f"INSERT OR REPLACE INTO objects ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (meta.key, meta.version, meta.size, meta.etag, meta.uploaded_ms, _dumps(meta.http_metadata),
                 _dumps(meta.custom_metadata), _dumps(meta.checksums), meta.storage_class, meta.token))
            if drop_parts is not None:
                self._db.execute("DELETE FROM uploads WHERE upload_id = ?", (drop_parts,))
                self._db.execute("DELETE FROM parts WHERE upload_id = ?", (drop_parts,))
            self._db.execute("COMMIT")
        except BaseException:
            if self._db.in_transaction:
                self._db.execute("ROLLBACK")
            tmp.unlink(missing_ok=True)
            if dest is not None:
                _unlink(dest)
            raise
        if previous is not None:
            _unlink(self._blob(previous.token))
        return meta

    # -- objects ------------------------------------------------------------------------------------------
    async def head(self, key: str) -> ObjectMeta | None:
        return self._current(key)

    async def get(self, key: str, plan: ReadPlan, range_header: str | None = None) -> Read | None:
        missing: FileNotFoundError | None = None
        for _ in range(READ_ATTEMPTS):
            meta = self._current(key)
            if meta is None:
                return None
            span = plan(meta)
            if span is None:
                return Read(meta, None, None)
            try:
                f = _open(self._blob(meta.token), "rb")
            except FileNotFoundError as exc:
                missing = exc  # replaced or deleted since we looked: look again
                continue
            return Read(meta, span, _FileSpan(f, *span))
        raise v.r2_error("get", v.INTERNAL_ERROR) from missing  # an index row whose blob is gone

    async def put(self, new: NewObject, body: HashingStream, condition: Condition | None) -> ObjectMeta | None:
        tmp = await self._write(body)
        meta = ObjectMeta(key=new.key, version=new.version, size=body.size, etag=body.md5_hex,
                          uploaded_ms=new.uploaded_ms, http_metadata=new.http_metadata,
                          custom_metadata=new.custom_metadata, checksums=body.checksums,
                          storage_class=new.storage_class, token=uuid.uuid4().hex)
        return self._commit(meta, condition, tmp)

    async def delete(self, keys: Sequence[str]) -> None:
        marks = ",".join("?" * len(keys))
        self._db.execute("BEGIN IMMEDIATE")
        try:
            blobs = [r[0] for r in self._db.execute(f"SELECT blob FROM objects WHERE key IN ({marks})", keys)]
            self._db.execute(f"DELETE FROM objects WHERE key IN ({marks})", keys)
            self._db.execute("COMMIT")
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        for blob in blobs:
            _unlink(self._blob(blob))

    async def list_page(self, prefix: str, start_after: str | None, limit: int, delimiter: str | None,
                        with_metadata: bool) -> ListPage:
        objects: list[ObjectMeta] = []
        prefixes: list[str] = []
        last: str | None = None
        after = start_after
        while True:
            rows = self._db.execute(
                f"SELECT {_COLUMNS} FROM objects WHERE key >= ? AND key > ? AND substr(key, 1, ?) = ? "
                "ORDER BY key LIMIT ?",
                (prefix, after if after is not None else "", len(prefix), prefix, limit - len(objects)
                 - len(prefixes) + 1)).fetchall()
            if not rows:
                return ListPage(objects, prefixes, False, last)
            for row in rows:
                key: str = row[0]
                cut = key.find(delimiter, len(prefix)) if delimiter else -1
                entry = key if cut < 0 else key[:cut + len(delimiter or "")]
                if len(objects) + len(prefixes) == limit:
                    return ListPage(objects, prefixes, True, last)
                last = entry
                if cut < 0:
                    objects.append(_meta(row))
                    after = key
                else:
                    prefixes.append(entry)
                    after = entry + PREFIX_END  # skip the rest of this prefix with one more query
                    break

    # -- multipart ----------------------------------------------------------------------------------------
    async def create_multipart(self, new: NewObject) -> str:
        upload_id = uuid.uuid4().hex
        self._db.execute("INSERT INTO uploads VALUES (?, ?, ?, ?, ?, ?)",
                         (upload_id, new.key, new.version, _dumps(new.http_metadata),
                          _dumps(new.custom_metadata), new.storage_class))
        return upload_id

    def _upload_row(self, key: str, upload_id: str) -> tuple[Any, ...] | None:
        row: tuple[Any, ...] | None = self._db.execute(
            "SELECT version, http, custom, storage_class FROM uploads WHERE upload_id = ? AND key = ?",
            (upload_id, key)).fetchone()
        return row

    async def upload_part(self, key: str, upload_id: str, part_number: int, body: HashingStream) -> PartInfo | None:
        if self._upload_row(key, upload_id) is None:
            return None
        tmp = await self._write(body)
        name = uuid.uuid4().hex
        self._db.execute("BEGIN IMMEDIATE")
        try:
            if self._upload_row(key, upload_id) is None:  # aborted or completed meanwhile
                self._db.execute("ROLLBACK")
                tmp.unlink(missing_ok=True)
                return None
            old = self._db.execute("SELECT blob FROM parts WHERE upload_id = ? AND part_number = ?",
                                   (upload_id, part_number)).fetchone()
            os.replace(tmp, self._part(name))
            self._db.execute("INSERT OR REPLACE INTO parts VALUES (?, ?, ?, ?, ?)",
                             (upload_id, part_number, body.md5_hex, body.size, name))
            self._db.execute("COMMIT")
        except BaseException:
            if self._db.in_transaction:
                self._db.execute("ROLLBACK")
            tmp.unlink(missing_ok=True)
            raise
        if old is not None:
            self._part(old[0]).unlink(missing_ok=True)
        return PartInfo(part_number, body.md5_hex, body.size)

    async def get_upload(self, key: str, upload_id: str) -> Upload | None:
        if self._upload_row(key, upload_id) is None:
            return None
        rows = self._db.execute("SELECT part_number, etag, size FROM parts WHERE upload_id = ?", (upload_id,))
        return Upload(key, upload_id, {n: PartInfo(n, etag, size) for n, etag, size in rows})

    async def complete_multipart(self, upload: Upload, parts: Sequence[PartInfo], etag: str,
                                 uploaded_ms: int) -> ObjectMeta:
        row = self._upload_row(upload.key, upload.upload_id)
        names = dict(self._db.execute("SELECT part_number, blob FROM parts WHERE upload_id = ?",
                                      (upload.upload_id,)).fetchall())
        if row is None or any(p.part_number not in names for p in parts):
            raise v.r2_error("completeMultipartUpload", v.NO_SUCH_UPLOAD)
        version, http, custom, storage_class = row
        tmp = self._concat([self._part(names[p.part_number]) for p in parts])
        meta = ObjectMeta(key=upload.key, version=version, size=sum(p.size for p in parts), etag=etag,
                          uploaded_ms=uploaded_ms, http_metadata=json.loads(http), custom_metadata=json.loads(custom),
                          checksums={}, storage_class=storage_class, token=uuid.uuid4().hex)
        self._commit(meta, None, tmp, drop_parts=upload.upload_id)
        for name in names.values():
            self._part(name).unlink(missing_ok=True)
        return meta

    def _concat(self, paths: Sequence[Path]) -> Path:
        tmp = self._tmp()
        try:
            with open(tmp, "wb") as out:
                for path in paths:
                    with open(path, "rb") as f:
                        while chunk := f.read(READ_CHUNK):
                            out.write(chunk)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        return tmp

    async def abort_multipart(self, key: str, upload_id: str) -> bool:
        if self._upload_row(key, upload_id) is None:
            return False
        names = [r[0] for r in self._db.execute("SELECT blob FROM parts WHERE upload_id = ?", (upload_id,))]
        self._db.execute("BEGIN IMMEDIATE")
        self._db.execute("DELETE FROM uploads WHERE upload_id = ?", (upload_id,))
        self._db.execute("DELETE FROM parts WHERE upload_id = ?", (upload_id,))
        self._db.execute("COMMIT")
        for name in names:
            self._part(name).unlink(missing_ok=True)
        return True

    async def close(self) -> None:
        self._db.close()


def _open(path: str, mode: Literal["rb", "wb"]) -> BinaryIO:
    """Blocking on purpose (module docstring): a local open is cheaper than a thread hop."""
    return open(path, mode)


class _FileSpan:
    """``length`` bytes of an open blob from ``offset``: streamed in chunks, or read at once by ``read_all``
    (one allocation instead of a chunk list plus a join, when the Worker wants the whole body anyway)."""

    def __init__(self, f: BinaryIO, offset: int, length: int) -> None:
        self._f, self._offset, self._length = f, offset, length

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self._chunks()

    async def _chunks(self) -> AsyncIterator[bytes]:
        with self._f as f:
            f.seek(self._offset)
            remaining = self._length
            while remaining > 0:
                chunk = f.read(min(READ_CHUNK, remaining))
                if not chunk:
                    raise OSError(f"R2 blob ended {remaining} bytes early")
                remaining -= len(chunk)
                yield chunk

    async def read_all(self) -> bytes:
        with self._f as f:
            f.seek(self._offset)
            data = f.read(self._length)
        if len(data) != self._length:
            raise OSError(f"R2 blob ended {self._length - len(data)} bytes early")
        return data

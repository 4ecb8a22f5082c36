"""The R2 backend interface: small, async, bytes and streams.

A backend stores objects (bytes plus an ``ObjectMeta`` record), lists keys in UTF-8 byte order and keeps
multipart uploads. Everything Cloudflare-specific — key and metadata limits, checksum and conditional
checks, range resolution, cursors, error wording and the object shapes a Worker sees — lives once, above the
backends, in ``binding.py``, ``validate.py`` and ``conditional.py``.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from portflare.backends import BackendTarget


@dataclass(frozen=True, slots=True)
class ObjectMeta:
    """One stored object's record. ``token`` is the backend's handle on this exact version (a blob file name,
    an S3 ETag): ``get`` reads that version or reports that the object changed."""

    key: str
    version: str
    size: int
    etag: str
    uploaded_ms: int
    http_metadata: dict[str, str] = field(default_factory=dict)  # contentType, ..., cacheExpiry (epoch ms text)
    custom_metadata: dict[str, str] = field(default_factory=dict)
    checksums: dict[str, str] = field(default_factory=dict)  # algorithm name ("md5", "sha256", ...) -> hex
    storage_class: str = "Standard"
    token: str = ""


@dataclass(frozen=True, slots=True)
class NewObject:
    """What the binding asks a backend to store; the content arrives as a ``HashingStream``."""

    key: str
    version: str
    uploaded_ms: int
    http_metadata: dict[str, str]
    custom_metadata: dict[str, str]
    storage_class: str


class HashingStream(Protocol):
    """The content of a put or part: async-iterate it once. It counts and hashes as it goes and raises (a size
    or checksum error) instead of ending when the content is not acceptable, so a backend that stores only after
    the stream ends cleanly stores nothing bad. After it ends, ``size``, ``md5_hex`` and ``checksums`` are
    final. ``length`` is the size known up front (a value already in memory, which comes as one chunk), else
    None. ``verifies``: the caller gave a checksum, so the content may still be refused at the end.

    Or, for a backend that holds the content anyway and can hash it while it sends it: iterate ``unhashed()``
    (sizes are checked, nothing is hashed), hand every byte back to ``hash``, in order, then call ``finish``,
    which makes the results final and raises the checksum error, if any (or an AssertionError if the bytes
    handed back were not all of them)."""

    length: int | None
    size: int
    md5_hex: str
    checksums: dict[str, str]
    verifies: bool

    def __aiter__(self) -> AsyncIterator[bytes]: ...

    def unhashed(self) -> AsyncIterator[bytes]: ...

    async def hash(self, data: bytes | bytearray) -> None:
        """Hash the next ``data`` of what ``unhashed()`` gave (on a thread if large)."""
        ...

    def finish(self) -> None: ...


@dataclass(frozen=True, slots=True)
class ListPage:
    objects: list[ObjectMeta]
    delimited_prefixes: list[str]
    truncated: bool
    last: str | None  # the last key or delimited prefix returned, in list order


@dataclass(frozen=True, slots=True)
class PartInfo:
    part_number: int
    etag: str
    size: int


@dataclass(frozen=True, slots=True)
class Upload:
    key: str
    upload_id: str
    parts: dict[int, PartInfo]


@dataclass(frozen=True, slots=True)
class Read:
    meta: ObjectMeta
    span: tuple[int, int] | None  # (offset, length) read; None: metadata only
    body: AsyncIterable[bytes] | None  # may also offer ``async read_all() -> bytes`` for reading it whole


ReadPlan = Callable[[ObjectMeta], "tuple[int, int] | None"]

# put's condition: evaluated against the current object (or None) at the moment the write would take effect.
Condition = Callable[[ObjectMeta | None], bool]


class R2Backend(Protocol):
    @classmethod
    async def open(cls, target: BackendTarget) -> R2Backend: ...

    async def head(self, key: str) -> ObjectMeta | None: ...

    async def get(self, key: str, plan: ReadPlan, range_header: str | None = None) -> Read | None:
        """The object under ``key`` (None if missing) read as ``plan`` decides once the backend has its metadata:
        ``plan(meta)`` returns the ``(offset, length)`` to read (within the object) or None to read nothing (a
        failed ``onlyIf``); if it raises (an unsatisfiable range) nothing is read. The body is exactly the
        version ``meta`` describes, streamed. ``range_header`` (``bytes=...``), when given, is the range the
        plan will most likely ask for: a remote store may request it up front, to read in one request."""
        ...

    async def put(self, new: NewObject, body: HashingStream, condition: Condition | None) -> ObjectMeta | None:
        """Store ``body`` under ``new.key`` if ``condition`` (None: always) holds for the current object; None
        (and nothing stored) if it does not. An exception from ``body`` leaves the previous object in place."""
        ...

    async def delete(self, keys: Sequence[str]) -> None:
        """Delete up to 1000 keys; missing keys are ignored."""
        ...

    async def list_page(self, prefix: str, start_after: str | None, limit: int, delimiter: str | None,
                        with_metadata: bool) -> ListPage:
        """Up to ``limit`` entries (objects and delimited prefixes together) after ``start_after`` with
        ``prefix``, in UTF-8 byte order. A key holding ``delimiter`` after ``prefix`` is reported once as
        ``prefix + segment + delimiter``. ``with_metadata=False`` lets a backend skip reading the http/custom
        metadata."""
        ...

    async def create_multipart(self, new: NewObject) -> str:
        """Start an upload; returns its id."""
        ...

    async def upload_part(self, key: str, upload_id: str, part_number: int, body: HashingStream) -> PartInfo | None:
        """Store one part (replacing an earlier one with the same number); None if no such upload for key."""
        ...

    async def get_upload(self, key: str, upload_id: str) -> Upload | None:
        """The upload with its parts, or None if it does not exist (for this key), was completed or aborted."""
        ...

    async def complete_multipart(self, upload: Upload, parts: Sequence[PartInfo], etag: str,
                                 uploaded_ms: int) -> ObjectMeta:
        """Join ``parts`` (already validated, in order) into the object; the upload ends."""
        ...

    async def abort_multipart(self, key: str, upload_id: str) -> bool:
        """Drop the upload and its parts; False if there was no such upload."""
        ...

    async def close(self) -> None: ...

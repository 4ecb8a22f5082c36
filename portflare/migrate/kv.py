"""Copy a KV namespace to another, between any two KV backends, expirations and metadata kept.

=====================================  =================================================================
``sqlite:///path/ns.sqlite``           a KV SQLite file (the embedded store's format)
``redis://host:6379/0?namespace=ID``   portflare's Redis KV layout for namespace ID
``redis://host:6379/0?plain=1``        a plain Redis database of string keys (GET/SCAN, TTL from PTTL):
                                       the app's store *before* it moved to KV; source only
``kv:BINDING``                         the project's namespace (binding or id), wherever the Worker reads it
=====================================  =================================================================

A KV namespace's keys are listed first (the progress total; memory grows with the key count), then read 100
at a time and written one by one through the backends' raw ``put`` (no 60-second minimum applies: an entry
keeps the exact absolute expiration it had). Entries already expired are not copied.
"""

from __future__ import annotations

import math
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit, urlunsplit

from portflare.backends import REDIS_SCHEMES
from portflare.bindings.kv.base import Entry, KVBackend
from portflare.bindings.kv.validate import MAX_BULK_KEYS
from portflare.migrate.endpoint import MigrateError
from portflare.migrate.progress import NullReporter, Reporter

PAGE = 1000


@dataclass
class KVCopyReport:
    copied: int = 0
    skipped: int = 0  # plain Redis keys that are not strings
    renamed: int = 0
    seconds: float = 0.0
    skipped_keys: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"copied": self.copied, "skipped": self.skipped, "renamed": self.renamed,
                "seconds": round(self.seconds, 3), "skipped_keys": self.skipped_keys[:20]}


class PlainRedisSource:
    """String keys of a plain Redis database, as KV entries (TTL → absolute expiration)."""

    def __init__(self, client: Any) -> None:
        self._redis = client

    async def count(self, now: float) -> int:
        return int(await self._redis.dbsize())  # every key, strings or not: close enough for a progress total

    async def entries(self, now: float, report: KVCopyReport) -> AsyncIterator[tuple[list[tuple[str, Entry]], int]]:
        cursor = 0
        while True:
            cursor, keys = await self._redis.scan(cursor, count=PAGE)
            if keys:
                async with self._redis.pipeline(transaction=False) as pipe:
                    for key in keys:
                        pipe.get(key)
                        pipe.pttl(key)
                    replies = await pipe.execute(raise_on_error=False)
                page = []
                for i, key in enumerate(keys):
                    value, pttl = replies[2 * i], replies[2 * i + 1]
                    name = key.decode("utf-8", errors="surrogateescape")
                    if isinstance(value, Exception):  # WRONGTYPE: a hash, list, set... not a KV value
                        report.skipped += 1
                        report.skipped_keys.append(name)
                        continue
                    if value is None:  # expired or deleted between SCAN and GET
                        continue
                    expiration = math.ceil(now + pttl / 1000) if isinstance(pttl, int) and pttl > 0 else None
                    page.append((name, Entry(bytes(value), expiration, None)))
                yield page, len(keys)
            if cursor == 0:
                return

    async def close(self) -> None:
        await self._redis.aclose()


class BackendSource:
    """A KV namespace in any backend. Its keys are listed once, first: that gives the progress bar its total
    (KV has no count), and the copy then reads them by name, 100 per bulk read."""

    def __init__(self, backend: KVBackend) -> None:
        self.backend = backend
        self._names: list[str] | None = None

    async def _listed(self, now: float) -> list[str]:
        if self._names is None:
            names: list[str] = []
            start_after: str | None = None
            while True:
                keys, more = await self.backend.list_page("", start_after, PAGE, now)
                names.extend(k.name for k in keys)
                if not keys or not more:
                    break
                start_after = keys[-1].name
            self._names = names
        return self._names

    async def count(self, now: float) -> int:
        return len(await self._listed(now))

    async def entries(self, now: float, report: KVCopyReport) -> AsyncIterator[tuple[list[tuple[str, Entry]], int]]:
        names = await self._listed(now)
        for start in range(0, len(names), MAX_BULK_KEYS):
            chunk = names[start:start + MAX_BULK_KEYS]
            found = await self.backend.get_many(chunk, now)  # a key that expired since the listing is None
            yield [(name, entry) for name, entry in found.items() if entry is not None], len(chunk)

    async def close(self) -> None:
        await self.backend.close()


async def open_kv(url: str, project: Any = None, *, source: bool) -> BackendSource | PlainRedisSource:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme in ("sqlite", "file"):
        from portflare.bindings.kv.sqlite import SqliteKVBackend

        path = Path(parts.netloc + parts.path)
        if not path.name:
            raise MigrateError(f"{url}: a sqlite URL needs a path")
        path.parent.mkdir(parents=True, exist_ok=True)
        return BackendSource(SqliteKVBackend.connect(str(path)))
    if scheme in REDIS_SCHEMES:
        from portflare.bindings.kv.redis import RedisKVBackend, client_from_url

        query = parse_qs(parts.query)
        plain = query.pop("plain", ["0"])[0] in ("1", "true", "yes")
        namespace = query.pop("namespace", [None])[0]
        rest = "&".join(f"{k}={v[0]}" for k, v in query.items())
        client = client_from_url(urlunsplit((parts.scheme, parts.netloc, parts.path, rest, "")))
        if plain:
            if not source:
                raise MigrateError(f"{url}: plain Redis is a source only; write into a KV namespace")
            return PlainRedisSource(client)
        if not namespace:
            raise MigrateError(f"{url}: name the KV namespace with ?namespace=ID (or read plain keys with ?plain=1)")
        return BackendSource(RedisKVBackend(client, namespace))
    if scheme == "kv":
        if project is None:
            raise MigrateError(f"{url} needs a project (run inside it, or pass --config)")
        from portflare.cli.kv import open_backend

        config, state = project
        return BackendSource(await open_backend(config.kv(parts.netloc or parts.path), state))
    raise MigrateError(f"{url}: unknown KV store (use sqlite:///path, redis://...?namespace=ID, "
                       "redis://...?plain=1 or kv:BINDING)")


def parse_prefix_map(items: Sequence[str]) -> list[tuple[str, str]]:
    pairs = []
    for item in items:
        old, sep, new = item.partition(":")
        if not sep:
            raise MigrateError(f"--prefix-map {item!r}: expected OLD:NEW")
        pairs.append((old, new))
    return sorted(pairs, key=lambda p: -len(p[0]))  # the longest matching prefix wins


def rename(key: str, prefix_map: Sequence[tuple[str, str]]) -> str:
    for old, new in prefix_map:
        if key.startswith(old):
            return new + key[len(old):]
    return key


async def copy_kv(source: BackendSource | PlainRedisSource, target: BackendSource, *,
                  prefix_map: Sequence[tuple[str, str]] = (), reporter: Reporter | None = None,
                  now: float | None = None) -> KVCopyReport:
    reporter = reporter or NullReporter()
    report = KVCopyReport()
    started = time.perf_counter()
    now = time.time() if now is None else now
    reporter.start("keys", await source.count(now))
    async for page, examined in source.entries(now, report):
        for name, entry in page:
            new_name = rename(name, prefix_map)
            report.renamed += new_name != name
            await target.backend.put(new_name, entry.value, entry.expiration, entry.metadata)
        report.copied += len(page)
        reporter.advance("keys", examined)
    reporter.finish("keys")
    report.seconds = time.perf_counter() - started
    return report

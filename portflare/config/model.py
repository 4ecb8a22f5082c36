"""The typed configuration: frozen dataclasses, one per wrangler section."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from portflare.errors import ConfigError

# The order wrangler looks for them in (`findWranglerConfig`: json, then jsonc, then toml).
CONFIG_FILES = ("wrangler.json", "wrangler.jsonc", "wrangler.toml")

HTML_HANDLING = ("auto-trailing-slash", "force-trailing-slash", "drop-trailing-slash", "none")
NOT_FOUND_HANDLING = ("none", "404-page", "single-page-application")


@dataclass(frozen=True)
class KVNamespace:
    binding: str
    id: str
    preview_id: str | None = None


@dataclass(frozen=True)
class D1Database:
    binding: str
    database_name: str
    database_id: str
    migrations_dir: str = "migrations"
    migrations_table: str = "d1_migrations"
    preview_database_id: str | None = None


@dataclass(frozen=True)
class R2Bucket:
    binding: str
    bucket_name: str
    jurisdiction: str | None = None
    preview_bucket_name: str | None = None


# Cloudflare's ranges for queue settings (docs: queues/configuration/configure-queues, queues/platform/limits).
# A value outside them is refused at config load: max_batch_size = 0, say, would make a consumer spin.
QUEUE_LIMITS: Mapping[str, tuple[int, int]] = {
    "max_batch_size": (1, 100),
    "max_batch_timeout": (0, 60),
    "max_retries": (0, 100),
    "retry_delay": (0, 43200),
    "max_concurrency": (1, 250),
    "delivery_delay": (0, 43200),
}


@dataclass(frozen=True)
class QueueProducer:
    binding: str
    queue: str
    delivery_delay: int = 0


@dataclass(frozen=True)
class QueueConsumer:
    # Defaults are production's (10 / 5 s / 3), not Miniflare's (5 / 1 s / 2): see docs/compat.md.
    queue: str
    max_batch_size: int = 10
    max_batch_timeout: float = 5
    max_retries: int = 3
    dead_letter_queue: str | None = None
    max_concurrency: int | None = None
    retry_delay: int = 0


@dataclass(frozen=True)
class DurableObjectBinding:
    name: str
    class_name: str
    script_name: str | None = None


@dataclass(frozen=True)
class DurableObjectMigration:
    tag: str
    new_classes: tuple[str, ...] = ()
    new_sqlite_classes: tuple[str, ...] = ()
    deleted_classes: tuple[str, ...] = ()
    renamed_classes: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class ServiceBinding:
    binding: str
    service: str
    entrypoint: str | None = None


@dataclass(frozen=True)
class Assets:
    directory: Path
    binding: str | None = None
    run_worker_first: bool | tuple[str, ...] = False
    html_handling: str = "auto-trailing-slash"
    not_found_handling: str = "none"


@dataclass(frozen=True)
class Hyperdrive:
    binding: str
    id: str
    local_connection_string: str | None = None


@dataclass(frozen=True)
class AnalyticsEngineDataset:
    binding: str
    dataset: str | None = None


@dataclass(frozen=True)
class VectorizeIndex:
    binding: str
    index_name: str


@dataclass(frozen=True)
class Config:
    """A Worker project's configuration, for one environment."""

    path: Path  # the wrangler file
    root: Path  # the directory holding it; relative paths resolve against it
    name: str
    main: Path
    compatibility_date: str | None = None
    compatibility_flags: tuple[str, ...] = ()
    env_name: str | None = None
    vars: Mapping[str, Any] = field(default_factory=dict)
    secrets: Mapping[str, str] = field(default_factory=dict)
    kv_namespaces: tuple[KVNamespace, ...] = ()
    d1_databases: tuple[D1Database, ...] = ()
    r2_buckets: tuple[R2Bucket, ...] = ()
    queue_producers: tuple[QueueProducer, ...] = ()
    queue_consumers: tuple[QueueConsumer, ...] = ()
    crons: tuple[str, ...] = ()
    durable_objects: tuple[DurableObjectBinding, ...] = ()
    migrations: tuple[DurableObjectMigration, ...] = ()
    services: tuple[ServiceBinding, ...] = ()
    assets: Assets | None = None
    hyperdrive: tuple[Hyperdrive, ...] = ()
    analytics_engine_datasets: tuple[AnalyticsEngineDataset, ...] = ()
    vectorize: tuple[VectorizeIndex, ...] = ()
    ai_binding: str | None = None

    def has_flag(self, flag: str) -> bool:
        return flag in self.compatibility_flags

    @property
    def legacy_global_handlers(self) -> bool:
        """Whether module-level ``on_fetch``-style handlers are honoured.

        ``python_no_global_handlers`` is on by default from 2025-08-14; ``disable_python_no_global_handlers``
        opts out. We stay lenient: a module with no ``Default`` class still has its ``on_*`` handlers used
        (they are the only way such a Worker could run), and the flag only decides which wins when both exist
        (the class does, as on Cloudflare).
        """
        if self.has_flag("disable_python_no_global_handlers"):
            return True
        if self.has_flag("python_no_global_handlers"):
            return False
        return (self.compatibility_date or "9999-99-99") < "2025-08-14"

    def d1(self, name: str) -> D1Database:
        """A D1 database named by its binding or its database_name, as wrangler accepts both."""
        for db in self.d1_databases:
            if name in (db.binding, db.database_name):
                return db
        known = ", ".join(f"{d.binding} ({d.database_name})" for d in self.d1_databases) or "none"
        raise ConfigError(f"{self.path}: no D1 database named '{name}' (configured: {known})")

    def kv(self, name: str) -> KVNamespace:
        for ns in self.kv_namespaces:
            if name in (ns.binding, ns.id):
                return ns
        known = ", ".join(ns.binding for ns in self.kv_namespaces) or "none"
        raise ConfigError(f"{self.path}: no KV namespace named '{name}' (configured: {known})")

    def r2(self, name: str) -> R2Bucket:
        for bucket in self.r2_buckets:
            if name in (bucket.binding, bucket.bucket_name):
                return bucket
        known = ", ".join(f"{b.binding} ({b.bucket_name})" for b in self.r2_buckets) or "none"
        raise ConfigError(f"{self.path}: no R2 bucket named '{name}' (configured: {known})")

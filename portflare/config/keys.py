"""Which keys wrangler knows, section by section, and the ones a config has that it does not.

A typo (``migration_dir``, ``max_batch_sise``) would otherwise be dropped without a word and the default
used, so every table is checked, as wrangler's ``validateAdditionalProperties`` checks them: the top level,
every ``[env.NAME]`` (all of them, not only the one ``--env`` selects: a typo in production's section is
worth hearing about in dev), each binding entry and the ``queues``/``triggers``/``assets``/... sections.
The key sets are wrangler's (``config/validation.ts``); ``remote`` is accepted where wrangler accepts it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

# Top-level keys portflare reads; the rest of wrangler's top-level keys are known but unused.
READ_KEYS = frozenset({
    "name", "main", "compatibility_date", "compatibility_flags", "vars", "kv_namespaces", "d1_databases",
    "r2_buckets", "queues", "triggers", "durable_objects", "migrations", "services", "assets", "hyperdrive",
    "analytics_engine_datasets", "vectorize", "ai", "env",
})
IGNORED_KEYS = frozenset({
    "$schema", "account_id", "workers_dev", "preview_urls", "routes", "route", "build", "rules", "observability",
    "placement", "limits", "logpush", "tail_consumers", "upload_source_maps", "minify", "node_compat",
    "keep_vars", "send_metrics", "dev", "site", "usage_model", "find_additional_modules",
    "preserve_file_names", "base_dir", "no_bundle", "define", "alias", "legacy_env", "jsx_factory",
    "jsx_fragment", "tsconfig", "wasm_modules", "text_blobs", "data_blobs", "unsafe", "mtls_certificates",
    "browser", "dispatch_namespaces", "send_email", "workflows", "logfwdr", "pipelines", "images",
    "version_metadata", "secrets_store_secrets", "unsafe_hello_world", "ratelimits", "containers",
    "streaming_tail_consumers", "keep_names", "python_modules", "first_party_worker", "zone_id",
    "compliance_region", "wasm", "cloudchamber", "secrets", "exports", "vpc_services", "worker_loaders",
})
TOP_LEVEL_KEYS = READ_KEYS | IGNORED_KEYS
# Keys wrangler reads only at the top level: inside [env.NAME] they are unexpected.
_TOP_LEVEL_ONLY = frozenset({
    "env", "$schema", "legacy_env", "send_metrics", "keep_vars", "dev", "site", "alias", "wasm_modules",
    "text_blobs", "data_blobs",
})
ENV_KEYS = TOP_LEVEL_KEYS - _TOP_LEVEL_ONLY

# Lists of tables: the keys one entry may have.
_ENTRY_KEYS: dict[str, frozenset[str]] = {
    "kv_namespaces": frozenset({"binding", "id", "preview_id", "remote"}),
    "d1_databases": frozenset({"binding", "database_id", "database_internal_env", "database_name",
                               "migrations_dir", "migrations_table", "preview_database_id", "remote"}),
    "r2_buckets": frozenset({"binding", "bucket_name", "preview_bucket_name", "jurisdiction", "remote"}),
    "migrations": frozenset({"tag", "new_classes", "new_sqlite_classes", "renamed_classes", "deleted_classes",
                             "transferred_classes"}),
    "hyperdrive": frozenset({"binding", "id", "localConnectionString"}),
    "analytics_engine_datasets": frozenset({"binding", "dataset"}),
    "vectorize": frozenset({"binding", "index_name", "remote"}),
    "services": frozenset({"binding", "service", "environment", "entrypoint", "props", "remote"}),
}
# Tables: their own keys, and the lists of tables inside them.
_SECTION_KEYS: dict[str, frozenset[str]] = {
    "queues": frozenset({"producers", "consumers"}),
    "triggers": frozenset({"crons"}),
    "durable_objects": frozenset({"bindings"}),
    "assets": frozenset({"directory", "binding", "html_handling", "not_found_handling", "run_worker_first"}),
}
_SECTION_ENTRY_KEYS: dict[str, dict[str, frozenset[str]]] = {
    "queues": {
        "producers": frozenset({"binding", "queue", "delivery_delay", "remote"}),
        "consumers": frozenset({"queue", "type", "max_batch_size", "max_batch_timeout", "max_retries",
                                "dead_letter_queue", "max_concurrency", "visibility_timeout_ms", "retry_delay"}),
    },
    "durable_objects": {"bindings": frozenset({"class_name", "environment", "name", "script_name"})},
}


def unexpected_fields(raw: Mapping[str, Any]) -> Iterator[tuple[str, list[str]]]:
    """``(field path, unknown keys)`` for every table of a raw config that has keys wrangler does not know."""
    yield from _table_fields(raw, "top-level", "", TOP_LEVEL_KEYS)
    envs = raw.get("env")
    if isinstance(envs, dict):
        for name, section in envs.items():
            if isinstance(section, dict):
                yield from _table_fields(section, f"env.{name}", f"env.{name}.", ENV_KEYS)


def _table_fields(table: Mapping[str, Any], field: str, prefix: str,
                  known: frozenset[str]) -> Iterator[tuple[str, list[str]]]:
    yield from _extra(table, field, known)
    for key, keys in _ENTRY_KEYS.items():
        yield from _entries(table.get(key), f"{prefix}{key}", keys)
    for key, keys in _SECTION_KEYS.items():
        section = table.get(key)
        if not isinstance(section, dict):
            continue
        yield from _extra(section, f"{prefix}{key}", keys)
        for inner, inner_keys in _SECTION_ENTRY_KEYS.get(key, {}).items():
            yield from _entries(section.get(inner), f"{prefix}{key}.{inner}", inner_keys)


def _entries(value: Any, field: str, known: frozenset[str]) -> Iterator[tuple[str, list[str]]]:
    if isinstance(value, dict):  # one table written where a list of them belongs (the reader accepts it)
        value = [value]
    if isinstance(value, list):
        for i, entry in enumerate(value):
            if isinstance(entry, dict):
                yield from _extra(entry, f"{field}[{i}]", known)


def _extra(table: Mapping[str, Any], field: str, known: frozenset[str]) -> Iterator[tuple[str, list[str]]]:
    unknown = [key for key in table if key not in known]
    if unknown:
        yield field, unknown


def unexpected_fields_message(field: str, keys: list[str]) -> str:
    """wrangler's warning text (``validateAdditionalProperties``): ``Unexpected fields found in x field: "a","b"``."""
    return f"Unexpected fields found in {field} field: " + ",".join(f'"{key}"' for key in keys)

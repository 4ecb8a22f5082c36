"""Checks across a parsed ``Config``: binding names that collide, cron expressions that do not parse."""

from __future__ import annotations

from collections.abc import Iterator

from portflare.config.model import Config
from portflare.config.reader import Reader
from portflare.errors import ConfigError

_UNIQUE_NAMES = ("Bindings must have unique names, so that they can all be referenced in the worker. "
                 "Please change your bindings to have unique names.")


# (Config attribute, key in the file, the entry's name field, wrangler's friendly type), in wrangler's order of
# binding types (``friendlyBindingNames``), which decides the order its duplicate message lists them in.
_BINDING_LISTS = (
    ("durable_objects", "durable_objects.bindings", "name", "Durable Object"),
    ("kv_namespaces", "kv_namespaces", "binding", "KV Namespace"),
    ("queue_producers", "queues.producers", "binding", "Queue"),
    ("d1_databases", "d1_databases", "binding", "D1 Database"),
    ("vectorize", "vectorize", "binding", "Vectorize Index"),
    ("hyperdrive", "hyperdrive", "binding", "Hyperdrive Config"),
    ("r2_buckets", "r2_buckets", "binding", "R2 Bucket"),
    ("services", "services", "binding", "Worker"),
    ("analytics_engine_datasets", "analytics_engine_datasets", "binding", "Analytics Engine Dataset"),
)


def _bindings(config: Config) -> Iterator[tuple[str, str, str]]:
    """``(name, wrangler's friendly type, key)`` of every binding."""
    for attribute, key, field, kind in _BINDING_LISTS:
        for i, entry in enumerate(getattr(config, attribute)):
            yield getattr(entry, field), kind, f"{key}[{i}].{field}"
    if config.ai_binding:
        yield config.ai_binding, "AI", "ai.binding"
    for name in config.vars:
        yield name, "Environment Variable", f"vars.{name}"
    if config.assets is not None and config.assets.binding:
        yield config.assets.binding, "Assets", "assets.binding"


def _english(items: list[str]) -> str:
    """``Intl.ListFormat("en-US")``: "A and B", "A, B, and C"."""
    if len(items) <= 2:
        return " and ".join(items)
    return ", ".join(items[:-1]) + ", and " + items[-1]


def check_unique_binding_names(config: Config, reader: Reader) -> None:
    """Refuse two bindings with one name (``env.X`` must mean one thing), in wrangler's words
    (``validateBindingsHaveUniqueNames``), each followed by the keys that collide."""
    by_name: dict[str, list[tuple[str, str]]] = {}
    for name, kind, key in _bindings(config):
        by_name.setdefault(name, []).append((kind, key))
    problems = []
    for name, uses in by_name.items():
        if len(uses) < 2:
            continue
        kinds = [kind for kind, _ in uses]
        keys = ", ".join(key for _, key in uses)
        different = list(dict.fromkeys(kinds))
        if len(different) > 1:
            problems.append(f"{name} assigned to {_english(different)} bindings ({keys}).")
        for kind in different:
            if kinds.count(kind) > 1:
                same = ", ".join(key for k, key in uses if k == kind)
                problems.append(f"{name} assigned to multiple {kind} bindings ({same}).")
    if problems:
        first_key = next(key for uses in by_name.values() if len(uses) > 1 for _, key in uses[1:])
        raise reader.fail(first_key, " ".join([*problems, _UNIQUE_NAMES]))


def check_crons(crons: tuple[str, ...], reader: Reader, where: str = "triggers.") -> None:
    """Every cron expression parses as Cloudflare's (else the Worker would start and never fire it)."""
    # The parser lives with the scheduler (runtime/cron.py) and is pure; imported here, when crons exist.
    from portflare.runtime.cron import parse_cron

    for i, cron in enumerate(crons):
        try:
            parse_cron(cron)
        except ConfigError as exc:
            raise reader.fail(f"{where}crons[{i}]", str(exc)) from None

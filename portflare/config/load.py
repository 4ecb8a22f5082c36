"""wrangler config (one file, one environment) → ``Config``; state directory; var values."""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from portflare.config.checks import check_crons, check_unique_binding_names
from portflare.config.files import find_config_file, read_dotenv, read_raw
from portflare.config.keys import unexpected_fields, unexpected_fields_message
from portflare.config.model import (
    HTML_HANDLING,
    NOT_FOUND_HANDLING,
    QUEUE_LIMITS,
    AnalyticsEngineDataset,
    Assets,
    Config,
    D1Database,
    DurableObjectBinding,
    DurableObjectMigration,
    Hyperdrive,
    KVNamespace,
    QueueConsumer,
    QueueProducer,
    R2Bucket,
    ServiceBinding,
    VectorizeIndex,
)
from portflare.config.reader import Reader

log = logging.getLogger("portflare.config")

# Keys an [env.NAME] section does not inherit from the top level (wrangler's "non-inheritable" keys).
_NON_INHERITABLE = {
    "vars", "kv_namespaces", "d1_databases", "r2_buckets", "queues", "durable_objects", "services",
    "hyperdrive", "analytics_engine_datasets", "vectorize", "ai", "define", "workflows", "send_email",
}


def _merge_env(raw: dict[str, Any], env_name: str | None, reader: Reader) -> dict[str, Any]:
    if env_name is None:
        return raw
    envs = reader.table(raw, "env")
    if env_name not in envs:
        known = ", ".join(sorted(envs)) or "none"
        raise reader.fail(f"env.{env_name}", f"no such environment (defined: {known})")
    section = envs[env_name]
    if not isinstance(section, dict):
        raise reader.fail(f"env.{env_name}", "expected a table/object")
    merged = {k: v for k, v in raw.items() if k not in _NON_INHERITABLE and k != "env"}
    merged["name"] = section.get("name") or f"{raw.get('name', 'worker')}-{env_name}"
    for key in _NON_INHERITABLE:
        if key in raw and key not in section:
            log.warning("%s: '%s' exists at the top level but not in env.%s: it is not inherited "
                        "(as in wrangler)", reader.path, key, env_name)
    merged.update({k: v for k, v in section.items() if k != "name"})
    return merged


def _warn_unexpected(raw: Mapping[str, Any], reader: Reader) -> None:
    for field, keys in unexpected_fields(raw):
        log.warning("%s: %s", reader.path, unexpected_fields_message(field, keys))


def load_config(path: str | os.PathLike[str], *, env_name: str | None = None,
                environ: Mapping[str, str] | None = None) -> Config:
    """Read a project's wrangler config (a file, or a directory holding one) for one environment."""
    config_path = find_config_file(Path(path).resolve())
    root = config_path.parent
    reader = Reader(config_path)
    raw_all = read_raw(config_path)
    _warn_unexpected(raw_all, reader)
    raw = _merge_env(raw_all, env_name, reader)

    main = reader.req(raw, "main", "")
    if not main.endswith(".py"):
        raise reader.fail("main", f"'{main}' is not a Python module (Python Workers need a .py main)")
    main_path = (root / main).resolve()

    flags = reader.str_list(raw, "compatibility_flags", "")
    compat_date = reader.str_(raw, "compatibility_date", "")

    vars_ = dict(reader.table(raw, "vars"))
    for key, value in vars_.items():
        if not isinstance(value, (str, int, float, bool, dict, list)):
            raise reader.fail(f"vars.{key}", f"unsupported value {value!r}")

    secrets = _read_secrets(root, env_name, vars_, environ if environ is not None else os.environ)

    queues = reader.table(raw, "queues")
    triggers = reader.table(raw, "triggers")
    do = reader.table(raw, "durable_objects")
    ai = reader.table(raw, "ai")

    config = Config(
        path=config_path,
        root=root,
        name=reader.str_(raw, "name", "", default=root.name) or root.name,
        main=main_path,
        compatibility_date=compat_date,
        compatibility_flags=flags,
        env_name=env_name,
        vars=vars_,
        secrets=secrets,
        kv_namespaces=reader.entries(raw, "kv_namespaces", lambda t, w: KVNamespace(
            binding=reader.req(t, "binding", w),
            id=reader.str_(t, "id", w) or reader.req(t, "binding", w),
            preview_id=reader.str_(t, "preview_id", w),
        )),
        d1_databases=reader.entries(raw, "d1_databases", lambda t, w: D1Database(
            binding=reader.req(t, "binding", w),
            database_name=reader.str_(t, "database_name", w) or reader.req(t, "binding", w),
            database_id=reader.str_(t, "database_id", w) or reader.str_(t, "database_name", w)
            or reader.req(t, "binding", w),
            migrations_dir=reader.str_(t, "migrations_dir", w, default="migrations") or "migrations",
            migrations_table=reader.str_(t, "migrations_table", w, default="d1_migrations") or "d1_migrations",
            preview_database_id=reader.str_(t, "preview_database_id", w),
        )),
        r2_buckets=reader.entries(raw, "r2_buckets", lambda t, w: R2Bucket(
            binding=reader.req(t, "binding", w),
            bucket_name=reader.str_(t, "bucket_name", w) or reader.req(t, "binding", w).lower(),
            jurisdiction=reader.str_(t, "jurisdiction", w),
            preview_bucket_name=reader.str_(t, "preview_bucket_name", w),
        )),
        queue_producers=reader.entries(queues, "producers", lambda t, w: QueueProducer(
            binding=reader.req(t, "binding", w),
            queue=reader.req(t, "queue", w),
            delivery_delay=reader.int_(t, "delivery_delay", w, 0, *QUEUE_LIMITS["delivery_delay"]),
        ), "queues."),
        queue_consumers=reader.entries(queues, "consumers", lambda t, w: QueueConsumer(
            queue=reader.req(t, "queue", w),
            max_batch_size=reader.int_(t, "max_batch_size", w, 10, *QUEUE_LIMITS["max_batch_size"]),
            max_batch_timeout=reader.number(t, "max_batch_timeout", w, 5, *QUEUE_LIMITS["max_batch_timeout"]),
            max_retries=reader.int_(t, "max_retries", w, 3, *QUEUE_LIMITS["max_retries"]),
            dead_letter_queue=reader.str_(t, "dead_letter_queue", w),
            # Unset means "scale as needed" (Cloudflare autoscales up to the limit); set, it must be in range.
            max_concurrency=(reader.int_(t, "max_concurrency", w, 1, *QUEUE_LIMITS["max_concurrency"])
                             if "max_concurrency" in t else None),
            retry_delay=reader.int_(t, "retry_delay", w, 0, *QUEUE_LIMITS["retry_delay"]),
        ), "queues."),
        crons=reader.str_list(triggers, "crons", "triggers."),
        durable_objects=reader.entries(do, "bindings", lambda t, w: DurableObjectBinding(
            name=reader.req(t, "name", w),
            class_name=reader.req(t, "class_name", w),
            script_name=reader.str_(t, "script_name", w),
        ), "durable_objects."),
        migrations=reader.entries(raw, "migrations", lambda t, w: DurableObjectMigration(
            tag=reader.req(t, "tag", w),
            new_classes=reader.str_list(t, "new_classes", w),
            new_sqlite_classes=reader.str_list(t, "new_sqlite_classes", w),
            deleted_classes=reader.str_list(t, "deleted_classes", w),
            renamed_classes=reader.entries(t, "renamed_classes", lambda r, rw: (
                reader.req(r, "from", rw), reader.req(r, "to", rw)), w),
        )),
        services=reader.entries(raw, "services", lambda t, w: ServiceBinding(
            binding=reader.req(t, "binding", w),
            service=reader.req(t, "service", w),
            entrypoint=reader.str_(t, "entrypoint", w),
        )),
        assets=_read_assets(raw, reader, root),
        hyperdrive=reader.entries(raw, "hyperdrive", lambda t, w: Hyperdrive(
            binding=reader.req(t, "binding", w),
            id=reader.str_(t, "id", w) or reader.req(t, "binding", w),
            local_connection_string=reader.str_(t, "localConnectionString", w),
        )),
        analytics_engine_datasets=reader.entries(
            raw, "analytics_engine_datasets",
            lambda t, w: AnalyticsEngineDataset(
                binding=reader.req(t, "binding", w), dataset=reader.str_(t, "dataset", w)),
        ),
        vectorize=reader.entries(raw, "vectorize", lambda t, w: VectorizeIndex(
            binding=reader.req(t, "binding", w),
            index_name=reader.req(t, "index_name", w),
        )),
        ai_binding=reader.str_(ai, "binding", "ai.") if ai else None,
    )
    check_crons(config.crons, reader)
    check_unique_binding_names(config, reader)
    return config


def _read_assets(raw: Mapping[str, Any], reader: Reader, root: Path) -> Assets | None:
    if "assets" not in raw:
        return None
    table = reader.table(raw, "assets")
    directory = reader.str_(table, "directory", "assets.")
    binding = reader.str_(table, "binding", "assets.")
    if not directory:
        raise reader.fail("assets.directory", "The `assets` property in your configuration is missing the "
                                              "required `directory` property.")  # wrangler's words
    rwf = table.get("run_worker_first", False)
    if isinstance(rwf, list) and all(isinstance(p, str) for p in rwf):
        run_worker_first: bool | tuple[str, ...] = tuple(rwf)
    elif isinstance(rwf, bool):
        run_worker_first = rwf
    else:
        raise reader.fail("assets.run_worker_first", "expected true/false or a list of route patterns")
    html = reader.str_(table, "html_handling", "assets.", default="auto-trailing-slash")
    if html not in HTML_HANDLING:
        raise reader.fail("assets.html_handling", f"expected one of {', '.join(HTML_HANDLING)}, got {html!r}")
    not_found = reader.str_(table, "not_found_handling", "assets.", default="none")
    if not_found not in NOT_FOUND_HANDLING:
        raise reader.fail("assets.not_found_handling",
                          f"expected one of {', '.join(NOT_FOUND_HANDLING)}, got {not_found!r}")
    return Assets(
        directory=(root / directory).resolve(),
        binding=binding,
        run_worker_first=run_worker_first,
        html_handling=html or "auto-trailing-slash",
        not_found_handling=not_found or "none",
    )


_INCLUDE_PROCESS_ENV = ("PORTFLARE_INCLUDE_PROCESS_ENV", "CLOUDFLARE_INCLUDE_PROCESS_ENV")


def _read_secrets(root: Path, env_name: str | None, vars_: Mapping[str, Any],
                  environ: Mapping[str, str]) -> dict[str, str]:
    """Secrets as wrangler dev finds them, plus the process environment for self-hosted deployments.

    ``.dev.vars.<env>`` (or ``.dev.vars``) wins; without either, ``.env.<env>``/``.env`` as newer wrangler
    does. A process environment variable named like a declared var or secret overrides it (that is how a
    production ``portflare serve`` gets its secrets); ``PORTFLARE_INCLUDE_PROCESS_ENV=true`` (or wrangler's
    ``CLOUDFLARE_INCLUDE_PROCESS_ENV``) exposes the whole process environment.
    """
    names = [f".dev.vars.{env_name}", ".dev.vars"] if env_name else [".dev.vars"]
    env_names = [f".env.{env_name}", ".env"] if env_name else [".env"]
    secrets: dict[str, str] = {}
    for candidate in names:
        if (root / candidate).is_file():
            secrets = read_dotenv(root / candidate)
            break
    else:
        for candidate in env_names:
            if (root / candidate).is_file():
                secrets = read_dotenv(root / candidate)
                break
    if any(environ.get(flag, "").lower() in ("1", "true", "yes") for flag in _INCLUDE_PROCESS_ENV):
        secrets.update({k: v for k, v in environ.items() if not k.startswith("PORTFLARE_")})
    for name in [*vars_, *secrets]:
        if name in environ:
            secrets[name] = environ[name]
    return secrets


STATE_SUBDIR = Path(".portflare") / "state"


def state_dir(config: Config, persist_to: str | os.PathLike[str] | None = None) -> Path:
    """``--persist-to DIR`` or ``<project>/.portflare/state``: where embedded backends keep data."""
    directory = Path(persist_to).resolve() if persist_to else config.root / STATE_SUBDIR
    directory.mkdir(parents=True, exist_ok=True)
    return directory


def var_value(value: Any) -> Any:
    """A ``[vars]`` value as the Worker sees it: strings as-is, JSON values parsed (dicts with attributes)."""
    from portflare.jsobject import js_value

    if isinstance(value, (dict, list)):
        return js_value(json.loads(json.dumps(value)))
    return value

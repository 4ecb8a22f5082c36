"""wrangler.toml / wrangler.jsonc → one typed, frozen ``Config``.

Parsing validates (one clear error naming the file and the key) and warns about unknown keys; nothing here
opens a backend or imports the Worker (that is ``portflare.runtime``'s job).

``[env.NAME]`` follows wrangler: inheritable keys (``main``, ``compatibility_*``, ``triggers``, ``assets``,
...) fall back to the top level, bindings and ``vars`` do not (an environment that wants a KV namespace
declares it again), and ``name`` becomes ``<name>-<env>`` unless the environment sets one.
"""

from __future__ import annotations

from portflare.config.files import find_config_file, read_dotenv, read_raw
from portflare.config.load import STATE_SUBDIR, load_config, state_dir, var_value
from portflare.config.model import (
    CONFIG_FILES,
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

__all__ = [
    "CONFIG_FILES", "HTML_HANDLING", "NOT_FOUND_HANDLING", "QUEUE_LIMITS", "STATE_SUBDIR", "AnalyticsEngineDataset",
    "Assets", "Config", "D1Database", "DurableObjectBinding", "DurableObjectMigration", "Hyperdrive", "KVNamespace",
    "QueueConsumer", "QueueProducer", "R2Bucket", "ServiceBinding", "VectorizeIndex", "find_config_file",
    "load_config", "read_dotenv", "read_raw", "state_dir", "var_value",
]

"""The ``env`` a Worker sees: vars, secrets and one opened binding per configured resource.

Bindings are opened once per process (they hold connections and file handles) and closed when the
runtime shuts down; ``open_env`` owns that lifecycle through an ``AsyncExitStack``.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import AsyncIterator, Iterator, Mapping
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path
from typing import Any

from portflare.backends import BackendTarget, backend_url
from portflare.config import Config, var_value

log = logging.getLogger("portflare.env")


class Env:
    """Attribute access to vars, secrets and bindings, like the SDK's ``_EnvWrapper``."""

    __slots__ = ("_values",)

    def __init__(self, values: Mapping[str, Any] | None = None) -> None:
        object.__setattr__(self, "_values", dict(values or {}))

    def __getattr__(self, name: str) -> Any:
        try:
            return self._values[name]
        except KeyError:
            raise AttributeError(f"env has no binding or variable named '{name}'") from None

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("env is read-only (vars, secrets and bindings come from the config)")

    def __getitem__(self, name: str) -> Any:
        return self._values[name]

    def __contains__(self, name: object) -> bool:
        return name in self._values

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __dir__(self) -> list[str]:
        return [*self._values, "get", "to_py"]

    def get(self, name: str, default: Any = None) -> Any:
        return self._values.get(name, default)

    def to_py(self, *args: Any, **kwargs: Any) -> Env:
        return self

    def __repr__(self) -> str:
        return f"Env({', '.join(sorted(self._values))})"


# (config attribute, binding kind, binding-name attribute, resource attribute)
_STORAGE_BINDINGS = (
    ("kv_namespaces", "kv", "binding", "id"),
    ("d1_databases", "d1", "binding", "database_name"),
    ("r2_buckets", "r2", "binding", "bucket_name"),
)


def binding_target(kind: str, binding: str, resource: str, state_dir: Path,
                   environ: Mapping[str, str] | None = None) -> BackendTarget:
    return BackendTarget(kind=kind, binding=binding, resource=resource, state_dir=state_dir,
                         url=backend_url(binding, environ))


async def open_binding(target: BackendTarget) -> Any:
    """Open one binding through its kind's package (``portflare.bindings.<kind>.open_binding``)."""
    package = importlib.import_module(f"portflare.bindings.{target.kind}")
    return await package.open_binding(target)


@asynccontextmanager
async def open_env(config: Config, state_dir: Path, *, extra: Mapping[str, Any] | None = None,
                   environ: Mapping[str, str] | None = None) -> AsyncIterator[Env]:
    """Open every configured binding; close them all on exit, even if opening one fails midway."""
    values: dict[str, Any] = {name: var_value(value) for name, value in config.vars.items()}
    values.update(config.secrets)
    async with AsyncExitStack() as stack:
        for attr, kind, name_attr, resource_attr in _STORAGE_BINDINGS:
            for entry in getattr(config, attr):
                target = binding_target(kind, getattr(entry, name_attr), getattr(entry, resource_attr),
                                        state_dir, environ)
                binding = await open_binding(target)
                stack.push_async_callback(binding._aclose)
                values[target.binding] = binding
        for producer in config.queue_producers:  # resource: the queue name; URL: see portflare.bindings.queues
            from portflare.bindings.queues import open_producer

            queue = await open_producer(producer, config, state_dir, environ)
            stack.push_async_callback(queue._aclose)
            values[producer.binding] = queue
        for hd in config.hyperdrive:  # origin: PORTFLARE_<BINDING>, else the config's localConnectionString
            url = backend_url(hd.binding, environ) or hd.local_connection_string
            values[hd.binding] = await open_binding(BackendTarget("hyperdrive", hd.binding, hd.id, state_dir, url))
        values.update(extra or {})
        yield Env(values)

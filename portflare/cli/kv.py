"""``portflare kv key ...``: wrangler-shaped commands over the same KV stores the Worker uses."""

from __future__ import annotations

import json
import sys
from typing import Any

import click

from portflare.cli.common import cli_errors, load, project_options, run, state_dir, target
from portflare.config import Config
from portflare.errors import ConfigError
from portflare.runtime.env import open_binding


@click.group()
def kv() -> None:
    """Work with Workers KV (as ``wrangler kv``)."""


@kv.group()
def key() -> None:
    """Read and write single keys."""


def _namespace_options(func: Any) -> Any:
    func = click.option("--namespace-id", default=None, help="The namespace id from the config.")(func)
    func = click.option("--binding", default=None, help="The namespace's binding name.")(func)
    return project_options(func)


async def _open(config: Config, binding: str | None, namespace_id: str | None, persist_to: str | None) -> Any:
    name = binding or namespace_id
    if name is None:
        if len(config.kv_namespaces) != 1:
            raise ConfigError("name the namespace with --binding or --namespace-id")
        name = config.kv_namespaces[0].binding
    ns = config.kv(name)
    return await open_binding(target("kv", ns.binding, ns.id, state_dir(config, persist_to)))


@key.command("put")
@click.argument("name")
@click.argument("value", required=False)
@click.option("--path", type=click.File("rb"), default=None, help="Read the value from a file.")
@click.option("--ttl", type=int, default=None, help="Seconds until the key expires (≥ 60).")
@click.option("--expiration", type=int, default=None, help="Epoch seconds at which the key expires.")
@click.option("--metadata", default=None, help="JSON metadata stored with the key.")
@_namespace_options
@cli_errors
def put(name: str, value: str | None, path: Any, ttl: int | None, expiration: int | None, metadata: str | None,
        binding: str | None, namespace_id: str | None, config_path: str, env_name: str | None,
        persist_to: str | None, local: bool) -> None:
    """Write KEY (VALUE, or --path FILE)."""
    if (value is None) == (path is None):
        raise click.UsageError("give exactly one of VALUE or --path")
    data: str | bytes = path.read() if path is not None else value or ""
    try:
        meta = json.loads(metadata) if metadata is not None else None
    except ValueError as exc:
        raise click.BadParameter(f"not JSON: {exc}", param_hint="--metadata") from None
    config = load(config_path, env_name)

    async def go() -> None:
        ns = await _open(config, binding, namespace_id, persist_to)
        try:
            await ns.put(name, data, expirationTtl=ttl, expiration=expiration, metadata=meta)
        finally:
            await ns._aclose()

    run(go())
    click.echo(f"Writing the value to the key \"{name}\".", err=True)


@key.command("get")
@click.argument("name")
@click.option("--text", is_flag=True, help="Decode the value as UTF-8 text.")
@_namespace_options
@cli_errors
def get(name: str, text: bool, binding: str | None, namespace_id: str | None, config_path: str,
        env_name: str | None, persist_to: str | None, local: bool) -> None:
    """Print the value of KEY (raw bytes, as wrangler)."""
    config = load(config_path, env_name)

    async def go() -> Any:
        ns = await _open(config, binding, namespace_id, persist_to)
        try:
            return await ns.get(name, "arrayBuffer")
        finally:
            await ns._aclose()

    value = run(go())
    if value is None:
        click.echo("Value not found", err=True)
        sys.exit(1)
    if text:
        click.echo(bytes(value).decode("utf-8", errors="replace"))
    else:
        sys.stdout.buffer.write(bytes(value))
        sys.stdout.buffer.flush()


@key.command("list")
@click.option("--prefix", default=None)
@_namespace_options
@cli_errors
def list_(prefix: str | None, binding: str | None, namespace_id: str | None, config_path: str,
          env_name: str | None, persist_to: str | None, local: bool) -> None:
    """List every key (JSON array, as wrangler)."""
    config = load(config_path, env_name)

    async def go() -> list[Any]:
        ns = await _open(config, binding, namespace_id, persist_to)
        keys: list[Any] = []
        try:
            cursor = None
            while True:
                page = await ns.list(prefix=prefix, cursor=cursor)
                keys.extend(page["keys"])
                if page["list_complete"]:
                    return keys
                cursor = page["cursor"]
        finally:
            await ns._aclose()

    click.echo(json.dumps(run(go()), indent=2, ensure_ascii=False))


@key.command("delete")
@click.argument("name")
@_namespace_options
@cli_errors
def delete(name: str, binding: str | None, namespace_id: str | None, config_path: str, env_name: str | None,
           persist_to: str | None, local: bool) -> None:
    """Delete KEY."""
    config = load(config_path, env_name)

    async def go() -> None:
        ns = await _open(config, binding, namespace_id, persist_to)
        try:
            await ns.delete(name)
        finally:
            await ns._aclose()

    run(go())
    click.echo(f"Deleting the key \"{name}\".", err=True)

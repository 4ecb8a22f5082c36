"""``portflare kv key|bulk ...``: wrangler-shaped commands over the same KV stores the Worker uses.

They open the namespace as the runtime does (``PORTFLARE_<BINDING>`` picks SQLite or Redis), so every write
goes through the binding's validation: the CLI can never store what a Worker could not.
"""

from __future__ import annotations

import base64
import binascii
import json
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from portflare import config as config_module
from portflare.bindings.kv import validate as v
from portflare.bindings.kv.binding import KVNamespace
from portflare.cli.common import cli_errors, load, project_options, run, state_dir, target
from portflare.config import Config
from portflare.errors import ConfigError
from portflare.jsobject import js_typeof
from portflare.runtime.env import open_binding

T = TypeVar("T")
MAX_LISTED_ERRORS = 12  # wrangler lists this many bad items, then "..."
BULK_ITEM_FIELDS = ("key", "value", "expiration", "expiration_ttl", "metadata", "base64")
BULK_SHAPE = ("interface KeyValue {\n  key: string;\n  value: string;\n  expiration?: number;\n"
              "  expiration_ttl?: number;\n  metadata?: object;\n  base64?: boolean;\n}")


@click.group()
def kv() -> None:
    """Work with Workers KV (as ``wrangler kv``)."""


@kv.group()
def key() -> None:
    """Read and write single keys."""


@kv.group()
def bulk() -> None:
    """Write, read and delete many keys from a JSON file (wrangler's format)."""


def _namespace_options(func: Any) -> Any:
    func = click.option("--namespace-id", default=None, help="The namespace id from the config.")(func)
    func = click.option("--binding", default=None, help="The namespace's binding name.")(func)
    return project_options(func)


def _namespace_id(config: Config, binding: str | None, namespace_id: str | None) -> str:
    return _configured(config, binding, namespace_id).id


def _configured(config: Config, binding: str | None, namespace_id: str | None) -> config_module.KVNamespace:
    name = binding or namespace_id
    if name is None:
        if len(config.kv_namespaces) != 1:
            raise ConfigError("name the namespace with --binding or --namespace-id")
        name = config.kv_namespaces[0].binding
    return config.kv(name)


def _with_namespace(config: Config, binding: str | None, namespace_id: str | None, persist_to: str | None,
                    action: Callable[[KVNamespace, str], Awaitable[T]]) -> T:
    """Open the namespace, run ``action(namespace, namespace id)``, close it."""
    ns = _configured(config, binding, namespace_id)

    async def go() -> T:
        namespace: KVNamespace = await open_binding(target("kv", ns.binding, ns.id, state_dir(config, persist_to)))
        try:
            return await action(namespace, ns.id)
        finally:
            await namespace._aclose()

    return run(go())


def _metadata(text: str | None) -> Any:
    if text is None:
        return None
    try:
        return json.loads(text)
    except ValueError as exc:
        raise click.BadParameter(f"not JSON: {exc}", param_hint="--metadata") from None


def _js_json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


@key.command("put")
@click.argument("name")
@click.argument("value", required=False)
@click.option("--path", type=click.Path(exists=True, dir_okay=False), default=None,
              help="Read the value from the file at this path.")
@click.option("--ttl", type=int, default=None, help="Seconds for which the entry is visible (at least 60).")
@click.option("--expiration", type=int, default=None, help="Epoch seconds after which the entry expires.")
@click.option("--metadata", default=None, help="JSON stored with the key.")
@_namespace_options
@cli_errors
def put(name: str, value: str | None, path: str | None, ttl: int | None, expiration: int | None,
        metadata: str | None, binding: str | None, namespace_id: str | None, config_path: str,
        env_name: str | None, persist_to: str | None, local: bool) -> None:
    """Write KEY (VALUE, or the contents of --path)."""
    if (value is None) == (path is None):
        raise click.UsageError("give exactly one of VALUE or --path")
    data: str | bytes = Path(path).read_bytes() if path is not None else value or ""
    meta = _metadata(metadata)
    config = load(config_path, env_name)

    async def write(namespace: KVNamespace, ns_id: str) -> None:
        note = f' with metadata "{_js_json(meta)}"' if meta is not None else ""
        if path is not None:
            click.echo(f'Writing the contents of {path} to the key "{name}" on namespace {ns_id}{note}.')
        else:
            click.echo(f'Writing the value "{value}" to key "{name}" on namespace {ns_id}{note}.')
        await namespace.put(name, data, expirationTtl=ttl, expiration=expiration, metadata=meta)

    _with_namespace(config, binding, namespace_id, persist_to, write)


@key.command("get")
@click.argument("name")
@click.option("--text", is_flag=True, help="Decode the value as UTF-8 text.")
@_namespace_options
@cli_errors
def get(name: str, text: bool, binding: str | None, namespace_id: str | None, config_path: str,
        env_name: str | None, persist_to: str | None, local: bool) -> None:
    """Print the value of KEY: raw bytes, as wrangler (or text with --text)."""
    config = load(config_path, env_name)

    async def read(namespace: KVNamespace, ns_id: str) -> Any:
        return await namespace.get(name, "arrayBuffer")

    found = _with_namespace(config, binding, namespace_id, persist_to, read)
    if found is None:
        # wrangler's words; on stderr and with exit status 1, so `get > file` and scripts can tell
        click.echo("Value not found", err=True)
        sys.exit(1)
    if text:
        click.echo(bytes(found).decode("utf-8", errors="replace"))
    else:
        sys.stdout.buffer.write(bytes(found))
        sys.stdout.buffer.flush()


@key.command("list")
@click.option("--prefix", default=None, help="List only keys that start with this.")
@_namespace_options
@cli_errors
def list_(prefix: str | None, binding: str | None, namespace_id: str | None, config_path: str,
          env_name: str | None, persist_to: str | None, local: bool) -> None:
    """Print every key as a JSON array of {name, expiration?, metadata?}, as wrangler."""
    config = load(config_path, env_name)

    async def every_key(namespace: KVNamespace, ns_id: str) -> list[Any]:
        keys: list[Any] = []
        cursor = None
        while True:
            page = await namespace.list(prefix=prefix, cursor=cursor)
            keys.extend(page["keys"])
            if page["list_complete"]:
                return keys
            cursor = page["cursor"]

    click.echo(json.dumps(_with_namespace(config, binding, namespace_id, persist_to, every_key), indent=2,
                          ensure_ascii=False))


@key.command("delete")
@click.argument("name")
@_namespace_options
@cli_errors
def delete(name: str, binding: str | None, namespace_id: str | None, config_path: str, env_name: str | None,
           persist_to: str | None, local: bool) -> None:
    """Delete KEY."""
    config = load(config_path, env_name)

    async def remove(namespace: KVNamespace, ns_id: str) -> None:
        click.echo(f'Deleting the key "{name}" on namespace {ns_id}.')
        await namespace.delete(name)

    _with_namespace(config, binding, namespace_id, persist_to, remove)


# ---------------------------------------------------------------------------------------------------------
# bulk


def _read_json(filename: str) -> Any:
    try:
        return json.loads(Path(filename).read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f'Could not read file "{filename}": {exc.strerror}') from None
    except ValueError as exc:
        raise ConfigError(f'{filename}: not valid JSON: {exc}') from None


def _problems(filename: str, header: str, errors: list[str]) -> ConfigError:
    listed = errors[:MAX_LISTED_ERRORS] + (["..."] if len(errors) > MAX_LISTED_ERRORS else [])
    return ConfigError(f'Unexpected JSON input from "{filename}".\n{header}' + "\n".join(listed))


def parse_bulk_put(content: Any, filename: str) -> tuple[list[dict[str, Any]], list[str]]:
    """wrangler's checks on a ``kv bulk put`` file: the items, and warnings about unexpected properties."""
    if not isinstance(content, list):
        raise ConfigError(f'Unexpected JSON input from "{filename}".\n'
                          f'Expected an array of key-value objects but got type "{js_typeof(content)}".')
    errors, warnings = [], []
    optional = {"expiration": "number", "expiration_ttl": "number", "base64": "boolean", "metadata": "object"}
    for index, item in enumerate(content):
        valid = (isinstance(item, dict) and isinstance(item.get("key"), str) and isinstance(item.get("value"), str)
                 and all(name not in item or js_typeof(item[name]) == kind for name, kind in optional.items()))
        if not valid:
            errors.append(f"The item at index {index} is {_js_json(item)}")
            continue
        extra = [name for name in item if name not in BULK_ITEM_FIELDS]
        if extra:
            warnings.append(f"The item at index {index} contains unexpected properties: {_js_json(extra)}.")
    if errors:
        raise _problems(filename, f"Each item in the array should be an object that matches:\n\n{BULK_SHAPE}\n\n",
                        errors)
    return content, warnings


def parse_key_list(content: Any, filename: str) -> list[str]:
    """A ``kv bulk delete|get`` file: a JSON array of key strings (or of ``{"name": key}``, as ``kv key list``
    prints them)."""
    if not isinstance(content, list):
        raise ConfigError(f'Unexpected JSON input from "{filename}".\nExpected an array of strings but got:\n'
                          f"{_js_json(content)}")
    names, errors = [], []
    for index, item in enumerate(content):
        name = item.get("name") if isinstance(item, dict) else item
        if isinstance(name, str):
            names.append(name)
        else:
            errors.append(f'The item at index {index} is type: "{js_typeof(item)}" - {_js_json(item)}')
    if errors:
        raise _problems(filename, 'Expected an array of strings or objects with a "name" key.\n', errors)
    return names


@bulk.command("put")
@click.argument("filename", type=click.Path(dir_okay=False))
@_namespace_options
@cli_errors
def bulk_put(filename: str, binding: str | None, namespace_id: str | None, config_path: str,
             env_name: str | None, persist_to: str | None, local: bool) -> None:
    """Write the key-value pairs in FILENAME: [{key, value, expiration?, expiration_ttl?, metadata?, base64?}]."""
    config = load(config_path, env_name)
    items, warnings = parse_bulk_put(_read_json(filename), filename)
    if warnings:
        click.echo(f'▲ Unexpected key-value properties in "{filename}".\n' + "\n".join(warnings), err=True)
    values: list[str | bytes] = []
    for index, item in enumerate(items):
        if not item.get("base64"):
            values.append(item["value"])
            continue
        try:
            values.append(base64.b64decode(item["value"], validate=True))
        except (binascii.Error, ValueError):
            raise ConfigError(f'{filename}: the item at index {index} has "base64": true but its value is not '
                              "base64") from None

    async def write(namespace: KVNamespace, ns_id: str) -> None:
        # Check every item before writing any, so a bad item leaves the namespace as it was.
        now = time.time()
        for item, value in zip(items, values, strict=True):
            v.validate_key("PUT", item["key"])
            v.expiration_from({"expiration": item.get("expiration"), "expirationTtl": item.get("expiration_ttl")},
                              now)
            v.check_metadata_size(v.serialise_metadata(item.get("metadata")))
            v.check_value_size(len(value.encode("utf-8") if isinstance(value, str) else value))
        for item, value in zip(items, values, strict=True):
            await namespace.put(item["key"], value, expiration=item.get("expiration"),
                                expirationTtl=item.get("expiration_ttl"), metadata=item.get("metadata"))

    _with_namespace(config, binding, namespace_id, persist_to, write)
    click.echo("Success!")


@bulk.command("delete")
@click.argument("filename", type=click.Path(dir_okay=False))
@click.option("--force", "-f", is_flag=True, help="Do not ask for confirmation before deleting.")
@_namespace_options
@cli_errors
def bulk_delete(filename: str, force: bool, binding: str | None, namespace_id: str | None, config_path: str,
                env_name: str | None, persist_to: str | None, local: bool) -> None:
    """Delete the keys listed in FILENAME (a JSON array of strings)."""
    config = load(config_path, env_name)
    ns_id = _namespace_id(config, binding, namespace_id)
    if not force and not click.confirm(f'Are you sure you want to delete all the keys read from "{filename}" '
                                       f'from kv-namespace with id "{ns_id}"?'):
        click.echo(f'Not deleting keys read from "{filename}".')
        return
    names = parse_key_list(_read_json(filename), filename)

    async def remove(namespace: KVNamespace, ns_id: str) -> None:
        for name in names:
            v.validate_key("DELETE", name)
        for name in names:
            await namespace.delete(name)

    _with_namespace(config, binding, namespace_id, persist_to, remove)
    click.echo("Success!")


@bulk.command("get")
@click.argument("filename", type=click.Path(dir_okay=False))
@click.option("--with-metadata", is_flag=True, help="Print {value, metadata} for each key.")
@_namespace_options
@cli_errors
def bulk_get(filename: str, with_metadata: bool, binding: str | None, namespace_id: str | None, config_path: str,
             env_name: str | None, persist_to: str | None, local: bool) -> None:
    """Print a JSON object {key: value | null} of the keys listed in FILENAME (text values; with
    --with-metadata, {key: {value, metadata} | null})."""
    config = load(config_path, env_name)
    names = parse_key_list(_read_json(filename), filename)

    async def read(namespace: KVNamespace, ns_id: str) -> dict[str, Any]:
        found: dict[str, Any] = {}
        fetch = namespace.getWithMetadata if with_metadata else namespace.get
        for start in range(0, len(names), 100):  # KV's bulk get takes at most 100 keys
            found.update(await fetch(names[start:start + 100], "text"))
        return found

    click.echo(json.dumps(_with_namespace(config, binding, namespace_id, persist_to, read) if names else {},
                          indent=2, ensure_ascii=False))

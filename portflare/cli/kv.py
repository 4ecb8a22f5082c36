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
from portflare.bindings import kv as kv_backends
from portflare.bindings.kv import validate as v
from portflare.bindings.kv.base import Entry, KVBackend
from portflare.bindings.kv.binding import KVNamespace
from portflare.cli.common import cli_errors, load, project_options, run, state_dir, target
from portflare.config import Config
from portflare.errors import ConfigError
from portflare.jsobject import js_typeof

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


async def open_backend(ns: config_module.KVNamespace, state: Path) -> KVBackend:
    """The store behind a configured namespace, as the runtime opens it (``PORTFLARE_<BINDING>`` or SQLite)."""
    return await kv_backends.open_backend(target("kv", ns.binding, ns.id, state))


def _with_backend(config: Config, binding: str | None, namespace_id: str | None, persist_to: str | None,
                  action: Callable[[KVBackend, str], Awaitable[T]]) -> T:
    """Open the namespace's store, run ``action(backend, namespace id)``, close it."""
    ns = _configured(config, binding, namespace_id)

    async def go() -> T:
        backend = await open_backend(ns, state_dir(config, persist_to))
        try:
            return await action(backend, ns.id)
        finally:
            await backend.close()

    return run(go())


def _with_namespace(config: Config, binding: str | None, namespace_id: str | None, persist_to: str | None,
                    action: Callable[[KVNamespace, str], Awaitable[T]]) -> T:
    """Run ``action(namespace, namespace id)`` on the binding a Worker gets (its validation included)."""
    return _with_backend(config, binding, namespace_id, persist_to,
                         lambda backend, ns_id: action(KVNamespace(backend), ns_id))


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


def bulk_item(name: str, entry: Entry) -> dict[str, Any]:
    """One item of wrangler's ``kv bulk put`` file: UTF-8 text as it is, any other bytes base64."""
    item: dict[str, Any] = {"key": name}
    try:
        item["value"] = entry.value.decode("utf-8")
    except UnicodeDecodeError:
        item["value"] = base64.b64encode(entry.value).decode("ascii")
        item["base64"] = True
    if entry.expiration is not None:
        item["expiration"] = entry.expiration
    if entry.metadata is not None:
        item["metadata"] = json.loads(entry.metadata)
    return item


def _text_item(entry: Entry | None, with_metadata: bool) -> dict[str, Any]:
    # what wrangler prints per key: the value read as text (TextDecoder: bad UTF-8 becomes U+FFFD), or null
    item: dict[str, Any] = {"value": None if entry is None else entry.value.decode("utf-8", errors="replace")}
    if with_metadata:
        item["metadata"] = None if entry is None or entry.metadata is None else json.loads(entry.metadata)
    return item


@bulk.command("get")
@click.argument("filename", type=click.Path(dir_okay=False))
@click.option("--with-metadata", is_flag=True, help="Add each key's metadata: {key: {value, metadata}}.")
@click.option("--format", "output", type=click.Choice(["values", "bulk"]), default="values", show_default=True,
              help="values: wrangler's {key: {value}} (text); bulk: a `kv bulk put` file (binary values base64, "
                   "expiration and metadata kept), for a backup or a copy into another namespace.")
@_namespace_options
@cli_errors
def bulk_get(filename: str, with_metadata: bool, output: str, binding: str | None, namespace_id: str | None,
             config_path: str, env_name: str | None, persist_to: str | None, local: bool) -> None:
    """Print the keys listed in FILENAME (a JSON array of names, or `kv key list`'s output) as JSON on stdout.

    By default as wrangler does: {key: {value}} with values read as UTF-8 text ({"value": null} for a missing
    key). With --format bulk: [{key, value, base64?, expiration?, metadata?}] for the keys found, which
    `kv bulk put` writes back unchanged, binary values included.
    """
    config = load(config_path, env_name)
    names = parse_key_list(_read_json(filename), filename)
    for name in names:
        v.validate_key("GET", name)

    async def read(backend: KVBackend, ns_id: str) -> dict[str, Entry | None]:
        found: dict[str, Entry | None] = {}
        now = time.time()
        for start in range(0, len(names), v.MAX_BULK_KEYS):
            found.update(await backend.get_many(names[start:start + v.MAX_BULK_KEYS], now))
        return found

    entries = _with_backend(config, binding, namespace_id, persist_to, read) if names else {}
    if output == "bulk":
        click.echo(json.dumps([bulk_item(name, entry) for name, entry in entries.items() if entry is not None],
                              indent=2, ensure_ascii=False))
        _bulk_warnings(entries)
        return
    click.echo(json.dumps({name: _text_item(entry, with_metadata) for name, entry in entries.items()},
                          indent=2, ensure_ascii=False))
    click.echo("\nSuccess!", err=True)  # wrangler prints it on stdout; here stdout stays one JSON document


def _bulk_warnings(entries: dict[str, Entry | None]) -> None:
    missing = [name for name, entry in entries.items() if entry is None]
    if missing:
        click.echo(f"▲ {len(missing)} key(s) not found, left out: {', '.join(missing[:MAX_LISTED_ERRORS])}"
                   + (", ..." if len(missing) > MAX_LISTED_ERRORS else ""), err=True)
    soon = [name for name, entry in entries.items() if entry is not None and entry.expiration is not None
            and entry.expiration < time.time() + v.MIN_EXPIRATION_TTL]
    if soon:
        click.echo(f"▲ {len(soon)} key(s) expire within {v.MIN_EXPIRATION_TTL} seconds, which `kv bulk put` "
                   f"refuses as an expiration: {', '.join(soon[:MAX_LISTED_ERRORS])}", err=True)
    scalar = [name for name, entry in entries.items() if entry is not None and entry.metadata is not None
              and js_typeof(json.loads(entry.metadata)) != "object"]
    if scalar:  # KV stores any JSON as metadata; wrangler's bulk file (and so `kv bulk put`) takes objects only
        click.echo(f"▲ {len(scalar)} key(s) have metadata that is not an object, which `kv bulk put` refuses: "
                   f"{', '.join(scalar[:MAX_LISTED_ERRORS])}", err=True)

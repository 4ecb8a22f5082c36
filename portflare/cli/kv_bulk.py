"""``portflare kv bulk put|get|delete``: wrangler's bulk JSON files (wrangler ``kv/index.ts``, ``kv/helpers.ts``).

``put`` takes ``[{key, value, expiration?, expiration_ttl?, metadata?, base64?}]``; ``get`` and ``delete`` take
``["key", ...]``. Validation and its wording are wrangler's; each write goes through the binding, so Cloudflare's
limits and messages (TTL ≥ 60, metadata ≤ 1024 bytes...) apply as they do to a Worker.
"""

from __future__ import annotations

import base64
import binascii
import json
from pathlib import Path
from typing import Any

import click

from portflare.cli.common import Config, cli_errors, load, project_options, run
from portflare.errors import PortflareError

MAX_ERRORS = 12
_FIELDS = ("key", "value", "expiration", "expiration_ttl", "metadata", "base64")
_INTERFACE = ("interface KeyValue {\n  key: string;\n  value: string;\n  expiration?: number;\n"
              "  expiration_ttl?: number;\n  metadata?: object;\n  base64?: boolean;\n}")


def _namespace_options(func: Any) -> Any:
    func = click.option("--namespace-id", default=None, help="The namespace id from the config.")(func)
    func = click.option("--binding", default=None, help="The namespace's binding name.")(func)
    return project_options(func)


async def _open(config: Config, binding: str | None, namespace_id: str | None, persist_to: str | None) -> Any:
    from portflare.cli import kv  # imported late: kv registers this group at its end

    return await kv._open(config, binding, namespace_id, persist_to)


def js_json(value: Any) -> str:
    """``JSON.stringify``: compact, non-ASCII kept."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def js_typeof(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "object"  # dicts, and null (typeof null === "object")


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def is_key_value(item: Any) -> bool:
    """wrangler's ``isKVKeyValue``."""
    if not isinstance(item, dict) or not isinstance(item.get("key"), str) or not isinstance(item.get("value"), str):
        return False
    if "expiration" in item and not _is_number(item["expiration"]):
        return False
    if "expiration_ttl" in item and not _is_number(item["expiration_ttl"]):
        return False
    if "base64" in item and not isinstance(item["base64"], bool):
        return False
    return not ("metadata" in item and js_typeof(item["metadata"]) != "object")


def _read(filename: str) -> Any:
    try:
        return json.loads(Path(filename).read_text(encoding="utf-8"))
    except OSError as exc:
        raise PortflareError(f'Could not read file "{filename}": {exc.strerror}') from exc
    except ValueError as exc:
        raise PortflareError(f'{exc} in "{filename}"') from exc


def validate_put_file(content: Any, filename: str) -> tuple[list[dict[str, Any]], list[str]]:
    """The items and the warnings to print, or ``PortflareError`` with wrangler's message."""
    if not isinstance(content, list):
        raise PortflareError(f'Unexpected JSON input from "{filename}".\nExpected an array of key-value objects '
                             f'but got type "{js_typeof(content)}".')
    errors: list[str] = []
    warnings: list[str] = []
    for i, item in enumerate(content):
        if not is_key_value(item):
            if len(errors) < MAX_ERRORS:
                errors.append(f"The item at index {i} is {js_json(item)}")
            elif len(errors) == MAX_ERRORS:
                errors.append("...")
            continue
        unexpected = [k for k in item if k not in _FIELDS]
        if unexpected:
            if len(warnings) < MAX_ERRORS:
                warnings.append(f"The item at index {i} contains unexpected properties: {js_json(unexpected)}.")
            elif len(warnings) == MAX_ERRORS:
                warnings.append("...")
    if errors:
        raise PortflareError(f'Unexpected JSON input from "{filename}".\nEach item in the array should be an object '
                             f"that matches:\n\n{_INTERFACE}\n\n" + "\n".join(errors))
    return content, warnings


def validate_keys_file(content: Any, filename: str) -> list[str]:
    if not isinstance(content, list):
        raise PortflareError(f'Unexpected JSON input from "{filename}".\nExpected an array of strings but got type '
                             f'"{js_typeof(content)}".')
    bad = [f"The item at index {i} is type: \"{js_typeof(k)}\" - {js_json(k)}"
           for i, k in enumerate(content) if not isinstance(k, str)]
    if bad:
        shown = bad[:MAX_ERRORS] + (["..."] if len(bad) > MAX_ERRORS else [])
        raise PortflareError(f'Unexpected JSON input from "{filename}".\nExpected an array of strings.\n'
                             + "\n".join(shown))
    return content


@click.group()
def bulk() -> None:
    """Write, read and delete many keys from a JSON file (as ``wrangler kv bulk``)."""


@bulk.command("put")
@click.argument("filename", type=click.Path(dir_okay=False))
@_namespace_options
@cli_errors
def bulk_put(filename: str, binding: str | None, namespace_id: str | None, config_path: str, env_name: str | None,
             persist_to: str | None, local: bool) -> None:
    """Write every {key, value, ...} of FILENAME."""
    items, warnings = validate_put_file(_read(filename), filename)
    if warnings:
        click.secho(f'▲ Unexpected key-value properties in "{filename}".\n' + "\n".join(warnings), fg="yellow",
                    err=True)
    values: list[bytes | str] = []
    for i, item in enumerate(items):
        if item.get("base64"):
            try:
                values.append(base64.b64decode(item["value"], validate=True))
            except binascii.Error as exc:
                raise PortflareError(f"The item at index {i} has base64: true but its value is not base64") from exc
        else:
            values.append(item["value"])
    config = load(config_path, env_name)

    async def go() -> None:
        ns = await _open(config, binding, namespace_id, persist_to)
        try:
            for item, value in zip(items, values, strict=True):
                await ns.put(item["key"], value, expiration=item.get("expiration"),
                             expirationTtl=item.get("expiration_ttl"), metadata=item.get("metadata"))
        finally:
            await ns._aclose()

    run(go())
    click.echo("Success!", err=True)


@bulk.command("get")
@click.argument("filename", type=click.Path(dir_okay=False))
@click.option("--with-metadata", is_flag=True, help="Return {value, metadata} for each key.")
@_namespace_options
@cli_errors
def bulk_get(filename: str, with_metadata: bool, binding: str | None, namespace_id: str | None, config_path: str,
             env_name: str | None, persist_to: str | None, local: bool) -> None:
    """Print a JSON object of the values (null when missing) of the keys in FILENAME."""
    keys = validate_keys_file(_read(filename), filename)
    config = load(config_path, env_name)

    async def go() -> dict[str, Any]:
        ns = await _open(config, binding, namespace_id, persist_to)
        found: dict[str, Any] = {}
        try:
            for start in range(0, len(keys), 100):  # KV's bulk get takes at most 100 keys
                chunk = keys[start:start + 100]
                if with_metadata:
                    result = await ns.getWithMetadata(chunk, "text")
                    found.update({k: (None if v is None else {"value": v["value"], "metadata": v["metadata"]})
                                  for k, v in result.items()})
                else:
                    found.update(dict((await ns.get(chunk, "text")).items()))
        finally:
            await ns._aclose()
        return found

    click.echo(json.dumps(run(go()), indent=2, ensure_ascii=False))


@bulk.command("delete")
@click.argument("filename", type=click.Path(dir_okay=False))
@click.option("--force", "-f", is_flag=True, help="Do not ask for confirmation.")
@_namespace_options
@cli_errors
def bulk_delete(filename: str, force: bool, binding: str | None, namespace_id: str | None, config_path: str,
                env_name: str | None, persist_to: str | None, local: bool) -> None:
    """Delete every key listed in FILENAME."""
    keys = validate_keys_file(_read(filename), filename)
    if not force and not click.confirm(f'Are you sure you want to delete all the keys read from "{filename}"?'):
        click.echo("Not deleting keys read from the file.", err=True)
        return
    config = load(config_path, env_name)

    async def go() -> None:
        ns = await _open(config, binding, namespace_id, persist_to)
        try:
            for key in keys:
                await ns.delete(key)
        finally:
            await ns._aclose()

    run(go())
    click.echo("Success!", err=True)

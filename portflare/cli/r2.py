"""``portflare r2 object ...``: wrangler-shaped commands over the same buckets the Worker uses.

``BUCKET`` is a bucket's ``bucket_name`` or its binding name from the config; objects stream to and from files,
so large ones are never held whole.
"""

from __future__ import annotations

import json
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, BinaryIO

import click

from portflare.bindings.r2 import R2Bucket
from portflare.cli.common import cli_errors, load, project_options, run, state_dir, target
from portflare.config import Config
from portflare.runtime.env import open_binding

CHUNK = 1024 * 1024


@click.group()
def r2() -> None:
    """Work with R2 buckets (as ``wrangler r2``)."""


@r2.group("object")
def object_() -> None:
    """Read and write single objects."""


def _split(path: str) -> tuple[str, str]:
    bucket, sep, key = path.partition("/")
    if not sep or not bucket or not key:
        raise click.BadParameter(f"expected BUCKET/KEY, got {path!r}", param_hint="OBJECT_PATH")
    return bucket, key


async def _open(config: Config, bucket: str, persist_to: str | None) -> R2Bucket:
    entry = config.r2(bucket)
    binding: R2Bucket = await open_binding(target("r2", entry.binding, entry.bucket_name,
                                                  state_dir(config, persist_to)))
    return binding


async def _file_chunks(f: BinaryIO) -> AsyncIterator[bytes]:
    while chunk := f.read(CHUNK):
        yield chunk


@object_.command("put")
@click.argument("object_path", metavar="BUCKET/KEY")
@click.option("--file", "-f", "file", type=click.File("rb"), default=None, help="The file to upload.")
@click.option("--pipe", "-p", is_flag=True, help="Read the object from stdin.")
@click.option("--content-type", "--ct", "content_type", default=None, help="The object's Content-Type.")
@click.option("--content-disposition", "--cd", "content_disposition", default=None)
@click.option("--content-encoding", "--ce", "content_encoding", default=None)
@click.option("--content-language", "--cl", "content_language", default=None)
@click.option("--cache-control", "--cc", "cache_control", default=None)
@project_options
@cli_errors
def put(object_path: str, file: BinaryIO | None, pipe: bool, content_type: str | None,
        content_disposition: str | None, content_encoding: str | None, content_language: str | None,
        cache_control: str | None, config_path: str, env_name: str | None, persist_to: str | None,
        local: bool) -> None:
    """Upload a file (--file) or stdin (--pipe) to BUCKET/KEY."""
    bucket_name, key = _split(object_path)
    if (file is None) == (not pipe):
        raise click.UsageError("give exactly one of --file or --pipe")
    source: BinaryIO = file if file is not None else sys.stdin.buffer
    http = {name: value for name, value in (("contentType", content_type),
                                            ("contentDisposition", content_disposition),
                                            ("contentEncoding", content_encoding),
                                            ("contentLanguage", content_language), ("cacheControl", cache_control))
            if value is not None}
    config = load(config_path, env_name)
    click.echo(f'Creating object "{key}" in bucket "{bucket_name}".', err=True)

    async def go() -> None:
        bucket = await _open(config, bucket_name, persist_to)
        try:
            await bucket.put(key, _file_chunks(source), httpMetadata=http)
        finally:
            await bucket._aclose()

    run(go())
    click.echo("Upload complete.", err=True)


@object_.command("get")
@click.argument("object_path", metavar="BUCKET/KEY")
@click.option("--file", "-f", "file", type=click.Path(dir_okay=False, writable=True), default=None,
              help="Where to write the object (default: the key's last segment, in this directory).")
@click.option("--pipe", "-p", is_flag=True, help="Write the object to stdout.")
@project_options
@cli_errors
def get(object_path: str, file: str | None, pipe: bool, config_path: str, env_name: str | None,
        persist_to: str | None, local: bool) -> None:
    """Download BUCKET/KEY to a file, or to stdout with --pipe."""
    bucket_name, key = _split(object_path)
    if file is not None and pipe:
        raise click.UsageError("give at most one of --file or --pipe")
    # The default file is the key's last segment only: a key like ../../x never names a path elsewhere.
    path = Path(file) if file is not None else Path(key.rstrip("/").rsplit("/", 1)[-1] or "object")
    config = load(config_path, env_name)
    if not pipe:
        click.echo(f'Downloading "{key}" from "{bucket_name}".', err=True)

    async def go() -> bool:
        bucket = await _open(config, bucket_name, persist_to)
        try:
            obj: Any = await bucket.get(key)
            if obj is None:
                return False
            if pipe:
                async for chunk in obj.body:
                    sys.stdout.buffer.write(chunk)
                sys.stdout.buffer.flush()
            else:
                with path.open("wb") as out:
                    async for chunk in obj.body:
                        out.write(chunk)
            return True
        finally:
            await bucket._aclose()

    if not run(go()):
        click.echo(f'The specified key does not exist: "{key}"', err=True)
        sys.exit(1)
    if not pipe:
        click.echo("Download complete.", err=True)


@object_.command("delete")
@click.argument("object_path", metavar="BUCKET/KEY")
@project_options
@cli_errors
def delete(object_path: str, config_path: str, env_name: str | None, persist_to: str | None, local: bool) -> None:
    """Delete BUCKET/KEY."""
    bucket_name, key = _split(object_path)
    config = load(config_path, env_name)
    click.echo(f'Deleting object "{key}" from bucket "{bucket_name}".', err=True)

    async def go() -> None:
        bucket = await _open(config, bucket_name, persist_to)
        try:
            await bucket.delete(key)
        finally:
            await bucket._aclose()

    run(go())
    click.echo("Delete complete.", err=True)


@object_.command("list")
@click.argument("bucket_name", metavar="BUCKET")
@click.option("--prefix", default=None, help="Only keys starting with this.")
@project_options
@cli_errors
def list_(bucket_name: str, prefix: str | None, config_path: str, env_name: str | None, persist_to: str | None,
          local: bool) -> None:
    """List every object in BUCKET (JSON array of key, size, etag, uploaded)."""
    config = load(config_path, env_name)

    async def go() -> list[dict[str, Any]]:
        bucket = await _open(config, bucket_name, persist_to)
        found: list[dict[str, Any]] = []
        try:
            cursor = None
            while True:
                page = await bucket.list(prefix=prefix, cursor=cursor)
                found.extend({"key": o.key, "size": o.size, "etag": o.etag, "uploaded": o.uploaded.isoformat()}
                             for o in page["objects"])
                if not page["truncated"]:
                    return found
                cursor = page["cursor"]
        finally:
            await bucket._aclose()

    click.echo(json.dumps(run(go()), indent=2, ensure_ascii=False))

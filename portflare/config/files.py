"""Finding and reading the wrangler file and dotenv secrets files."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from portflare.config.model import CONFIG_FILES
from portflare.errors import ConfigError


def find_config_file(path: Path) -> Path:
    """``path`` itself if it is a file, else the first wrangler config file inside it."""
    if path.is_file():
        return path
    for candidate in CONFIG_FILES:
        if (path / candidate).is_file():
            return path / candidate
    raise ConfigError(f"{path}: no wrangler.json, wrangler.jsonc or wrangler.toml found")


def read_raw(path: Path) -> dict[str, Any]:
    text = path.read_text(encoding="utf-8")
    try:
        if path.suffix == ".toml":
            data: Any = tomllib.loads(text)
        else:
            import json5  # comments and trailing commas, as wrangler's JSONC parser accepts

            data = json5.loads(text)
    except (tomllib.TOMLDecodeError, ValueError) as exc:
        raise ConfigError(f"{path}: cannot parse: {exc}") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: the top level must be a table/object")
    return data


def read_dotenv(path: Path) -> dict[str, str]:
    """``KEY=value`` lines as wrangler reads ``.dev.vars`` (dotenv: comments, quotes, ``export``)."""
    values: dict[str, str] = {}
    for lineno, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("export "):
            line = line[len("export "):].lstrip()
        key, sep, value = line.partition("=")
        key = key.strip()
        if not sep or not key:
            raise ConfigError(f"{path}:{lineno}: expected KEY=value")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            quote, value = value[0], value[1:-1]
            if quote == '"':
                value = value.encode("utf-8").decode("unicode_escape").encode("latin-1").decode("utf-8")
        elif " #" in value:
            value = value.split(" #", 1)[0].rstrip()
        values[key] = value
    return values

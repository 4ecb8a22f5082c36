"""Typed reads of raw config tables: each failure names the file and the key path of what is wrong."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar

from portflare.errors import ConfigError

T = TypeVar("T")


class Reader:
    def __init__(self, path: Path) -> None:
        self.path = path

    def fail(self, key: str, problem: str) -> ConfigError:
        return ConfigError(f"{self.path}: {key}: {problem}")

    def str_(self, table: Mapping[str, Any], key: str, where: str, *, default: str | None = None,
             required: bool = False) -> str | None:
        value = table.get(key, default)
        if value is None:
            if required:
                raise self.fail(f"{where}{key}", "is required")
            return None
        if not isinstance(value, str):
            raise self.fail(f"{where}{key}", f"expected a string, got {type(value).__name__}")
        return value

    def req(self, table: Mapping[str, Any], key: str, where: str) -> str:
        value = self.str_(table, key, where, required=True)
        assert value is not None
        return value

    def int_(self, table: Mapping[str, Any], key: str, where: str, default: int, low: int, high: int) -> int:
        value = table.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise self.fail(f"{where}{key}", f"expected an integer from {low} to {high}, got {value!r}")
        return value

    def number(self, table: Mapping[str, Any], key: str, where: str, default: float, low: float,
               high: float) -> float:
        value = table.get(key, default)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
            raise self.fail(f"{where}{key}", f"expected a number from {low} to {high}, got {value!r}")
        return value

    def str_list(self, table: Mapping[str, Any], key: str, where: str) -> tuple[str, ...]:
        value = table.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.fail(f"{where}{key}", "expected a list of strings")
        return tuple(value)

    def table(self, data: Mapping[str, Any], key: str, where: str = "") -> Mapping[str, Any]:
        value = data.get(key, {})
        if not isinstance(value, dict):
            raise self.fail(f"{where}{key}", "expected a table/object")
        return value

    def entries(self, data: Mapping[str, Any], key: str, build: Callable[[Mapping[str, Any], str], T],
                where: str = "") -> tuple[T, ...]:
        value = data.get(key, [])
        if isinstance(value, dict):  # `[kv_namespaces]` written as one table instead of a list of them
            value = [value]
        if not isinstance(value, list):
            raise self.fail(f"{where}{key}", "expected a list of tables/objects")
        built = []
        for i, item in enumerate(value):
            if not isinstance(item, dict):
                raise self.fail(f"{where}{key}[{i}]", "expected a table/object")
            built.append(build(item, f"{where}{key}[{i}]."))
        return tuple(built)

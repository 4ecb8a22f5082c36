"""Which of a Worker project's declared dependencies are not installed, said once and actionably.

A Worker that imports a package from its ``pyproject.toml`` fails at import time with a bare
``ModuleNotFoundError``; naming every missing distribution and the command that installs them saves a
round of trial and error.
"""

from __future__ import annotations

import importlib.metadata
import re
import shlex
import tomllib
from pathlib import Path

# Cloudflare's own toolchain: portflare provides the SDK itself, so these need not be installed.
_PROVIDED = {"workers-py", "workers-runtime-sdk", "webtypy", "pyodide-py"}
_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")


def normalize(name: str) -> str:
    """PEP 503 normalisation: ``Foo_Bar.baz`` and ``foo-bar-baz`` are the same distribution."""
    return re.sub(r"[-_.]+", "-", name).lower()


def declared_dependencies(root: Path) -> list[str]:
    """The requirement strings in ``<root>/pyproject.toml`` ``[project].dependencies`` (none if absent)."""
    path = root / "pyproject.toml"
    if not path.is_file():
        return []
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError):
        return []
    deps = data.get("project", {}).get("dependencies", [])
    return [d for d in deps if isinstance(d, str)] if isinstance(deps, list) else []


def _requirement_name(requirement: str) -> str | None:
    """The distribution name, or None when the requirement's environment marker excludes this Python."""
    try:
        from packaging.requirements import InvalidRequirement, Requirement
    except ImportError:  # packaging is optional here: fall back to the name alone
        match = _NAME.match(requirement)
        return match.group(1) if match else None
    try:
        req = Requirement(requirement)
    except InvalidRequirement:
        match = _NAME.match(requirement)
        return match.group(1) if match else None
    if req.marker is not None and not req.marker.evaluate():
        return None
    return req.name


def missing_dependencies(root: Path) -> list[str]:
    """Requirement strings from pyproject.toml whose distribution is not installed."""
    missing = []
    for requirement in declared_dependencies(root):
        name = _requirement_name(requirement)
        if name is None or normalize(name) in _PROVIDED:
            continue
        try:
            importlib.metadata.distribution(name)
        except importlib.metadata.PackageNotFoundError:
            missing.append(requirement.strip())
    return missing


def missing_dependencies_message(root: Path) -> str | None:
    missing = missing_dependencies(root)
    if not missing:
        return None
    names = ", ".join(_requirement_name(r) or r for r in missing)
    command = "pip install " + " ".join(shlex.quote(r) for r in missing)
    return (f"{root / 'pyproject.toml'} declares dependencies that are not installed: {names}. "
            f"Install them into the environment running portflare with: {command}")

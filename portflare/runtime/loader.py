"""Import a Worker's main module and discover its handlers, as workerd does.

``sys.path`` gets portflare's shim packages first (so ``import workers`` is ours, never a vendored
``python_modules/workers`` or an installed ``workers-runtime-sdk``), then the main module's directory, then
``<root>/python_modules``. Loading a second Worker in the same process (tests) first forgets the previous
one's modules and paths, so two Workers' ``entry`` or ``utils`` modules never mix.
"""

from __future__ import annotations

import importlib.util
import inspect
import logging
import sys
import traceback
from pathlib import Path
from types import ModuleType
from typing import Any

from portflare.api.entrypoints import DurableObject, WorkerEntrypoint, WorkflowEntrypoint
from portflare.config import Config
from portflare.errors import WorkerLoadError
from portflare.runtime.deps import missing_dependencies_message
from portflare.runtime.handlers import WorkerHandlers, function_handler, method_handler

log = logging.getLogger("portflare.loader")

COMPAT_DIR = Path(__file__).resolve().parent.parent / "_compat"
SHIM_MODULES = ("workers", "js", "pyodide", "asgi")
EVENTS = ("fetch", "scheduled", "queue")

# The paths the previously loaded Worker added to sys.path; its modules are the ones imported from there.
_previous_paths: list[str] = []


def _is_under(module: ModuleType, dirs: list[Path]) -> bool:
    file = getattr(module, "__file__", None)
    if not file:
        return False
    path = Path(file).resolve()
    return any(path.is_relative_to(d) for d in dirs)


def install_shims() -> None:
    """Put ``_compat`` first on sys.path and forget any ``workers``/``js``/``pyodide``/``asgi`` not ours."""
    compat = str(COMPAT_DIR)
    while compat in sys.path:
        sys.path.remove(compat)
    sys.path.insert(0, compat)
    for name, module in list(sys.modules.items()):
        if name.split(".")[0] in SHIM_MODULES and not _is_under(module, [COMPAT_DIR]):
            del sys.modules[name]
    importlib.invalidate_caches()


def forget_previous_worker() -> None:
    dirs = [Path(p) for p in _previous_paths]
    for name, module in list(sys.modules.items()):
        # A virtualenv inside the project (main at its root) holds installed packages, not Worker modules.
        installed = "site-packages" in str(getattr(module, "__file__", "") or "")
        if module is not None and not installed and _is_under(module, dirs):
            del sys.modules[name]
    for path in _previous_paths:
        while path in sys.path:
            sys.path.remove(path)
    _previous_paths.clear()


def _worker_paths(config: Config) -> list[str]:
    paths = [str(config.main.resolve().parent)]
    vendored = (config.root / "python_modules").resolve()
    if vendored.is_dir():
        paths.append(str(vendored))
    return paths


def import_main(config: Config) -> ModuleType:
    main = config.main
    if main.suffix != ".py":
        raise WorkerLoadError(f"{config.path}: main = {main} must be a Python file (.py)")
    if not main.is_file():
        raise WorkerLoadError(f"{config.path}: main module {main} does not exist")
    install_shims()
    forget_previous_worker()
    paths = _worker_paths(config)
    for index, path in enumerate(paths, start=1):  # right after _compat
        sys.path.insert(index, path)
    _previous_paths.extend(paths)
    # Imported by file, under its module name: a same-named module elsewhere on sys.path must not win.
    name = main.stem
    spec = importlib.util.spec_from_file_location(name, main)
    if spec is None or spec.loader is None:
        raise WorkerLoadError(f"{main}: cannot be imported")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except ImportError as exc:
        sys.modules.pop(name, None)
        hint = missing_dependencies_message(config.root)
        if hint is not None:
            raise WorkerLoadError(f"{main}: {exc}. {hint}") from exc
        raise WorkerLoadError(f"{main}: {_describe(exc, main)}") from exc
    except Exception as exc:
        sys.modules.pop(name, None)
        raise WorkerLoadError(f"{main}: importing the Worker failed: {_describe(exc, main)}") from exc
    return module


def _describe(exc: BaseException, main: Path) -> str:
    """``TypeError: ... (at src/utils.py:12)``: the error and the deepest frame in the Worker's own files."""
    root = main.resolve().parent
    where = ""
    for frame in traceback.extract_tb(exc.__traceback__):
        if Path(frame.filename).resolve().is_relative_to(root):
            where = f" (at {frame.filename}:{frame.lineno})"
    return f"{type(exc).__name__}: {exc}{where}"


def _exported(module: ModuleType) -> dict[str, Any]:
    names = getattr(module, "__all__", None)
    if names is None:
        names = [n for n in vars(module) if not n.startswith("_")]
    return {n: getattr(module, n) for n in names if hasattr(module, n)}


def discover(module: ModuleType, config: Config) -> WorkerHandlers:
    """The Worker's classes by kind and its handlers, from ``__all__`` or public names (as workerd)."""
    handlers = WorkerHandlers(module=module)
    for name, value in _exported(module).items():
        if not inspect.isclass(value) or value in (WorkerEntrypoint, DurableObject, WorkflowEntrypoint):
            continue
        if issubclass(value, DurableObject):
            handlers.durable_objects[name] = value
        elif issubclass(value, WorkflowEntrypoint):
            handlers.workflows[name] = value
        elif name == "Default":
            handlers.default = value
        elif issubclass(value, WorkerEntrypoint):
            handlers.entrypoints[name] = value
    if handlers.default is not None:
        # A Default class is the default export even when legacy global handlers are on (workerd at HEAD).
        cls = handlers.default
        handlers.fetch_handler = method_handler(cls, "fetch") if callable(getattr(cls, "fetch", None)) else None
        handlers.scheduled_handler = (method_handler(cls, "scheduled")
                                      if callable(getattr(cls, "scheduled", None)) else None)
        handlers.queue_handler = method_handler(cls, "queue") if callable(getattr(cls, "queue", None)) else None
        return handlers
    legacy = {event: getattr(module, f"on_{event}", None) for event in EVENTS}
    if any(callable(f) for f in legacy.values()) and not config.legacy_global_handlers:
        # Cloudflare would ignore them (python_no_global_handlers); they are this Worker's only handlers, so
        # we run them rather than serve nothing.
        log.info("%s: using module-level on_* handlers although python_no_global_handlers is in effect; "
                 "Cloudflare ignores them: define class Default(WorkerEntrypoint) instead", config.main)
    fetch, scheduled, queue = (legacy[e] for e in EVENTS)
    handlers.fetch_handler = function_handler(fetch) if callable(fetch) else None
    handlers.scheduled_handler = function_handler(scheduled) if callable(scheduled) else None
    handlers.queue_handler = function_handler(queue) if callable(queue) else None
    return handlers


def load_worker(config: Config) -> WorkerHandlers:
    """Import ``config.main`` and adapt what it exports; raises ``WorkerLoadError`` with a clear message."""
    module = import_main(config)
    handlers = discover(module, config)
    exports_something = (handlers.has_fetch or handlers.has_scheduled or handlers.has_queue
                         or handlers.durable_objects or handlers.entrypoints or handlers.workflows)
    if not exports_something and config.assets is None:
        raise WorkerLoadError(f"{config.main}: the Worker defines no handler; add `class Default(WorkerEntrypoint)` "
                              f"with `async def fetch(self, request)` (from workers import WorkerEntrypoint)")
    return handlers

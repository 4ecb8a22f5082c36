"""Loading Workers of every shape; shims win over vendored SDKs; Workers loaded in turn never mix."""

from __future__ import annotations

import sys

import httpx
import pytest

from portflare.api.current import override_env
from portflare.errors import WorkerLoadError
from portflare.runtime.context import ExecutionContext
from portflare.runtime.env import Env
from portflare.runtime.loader import COMPAT_DIR, load_worker
from portflare.runtime.scheduled import ScheduledController
from tests.runtime.conftest import WORKERS, worker_config


async def test_legacy_on_fetch_with_js_response_new(serve) -> None:
    client = await serve("legacy")
    response = await client.get("/")
    assert (response.status_code, response.text) == (203, "legacy old-style")
    assert response.headers["x-who"] == "legacy helpers"
    posted = await client.post("/", json={"name": "ada"})  # `(await request.json()).name`, the legacy idiom
    assert posted.text == "hi ada"
    assert posted.headers["content-type"] == "text/plain;charset=UTF-8"


async def test_legacy_sync_scheduled_with_one_parameter() -> None:
    handlers = load_worker(worker_config("legacy"))
    assert handlers.has_fetch and handlers.has_scheduled and not handlers.has_queue
    await handlers.scheduled(ScheduledController("0 * * * *"), None, ExecutionContext())
    assert handlers.module.SEEN == ["0 * * * *"]


async def test_fetch_without_request_parameter_and_discovery(serve) -> None:
    client = await serve("noarg")
    assert (await client.get("/anything")).text == "no request needed (noarg)"
    handlers = load_worker(worker_config("noarg"))
    assert handlers.default.__name__ == "Default"
    assert list(handlers.entrypoints) == ["Named"]  # NotExported is not in __all__
    assert list(handlers.durable_objects) == ["Counter"]
    await handlers.scheduled(ScheduledController("1 2 3 4 5"), None, ExecutionContext())
    assert handlers.module.CRONS == ["1 2 3 4 5"]


async def test_vendored_sdk_and_installed_workers_never_shadow_ours(serve) -> None:
    sys.modules["workers"] = type(sys)("workers")  # as if an installed workers-runtime-sdk was imported first
    client = await serve("vendored")
    text = (await client.get("/")).text
    assert text.startswith("from python_modules | ")
    assert text.endswith(str(COMPAT_DIR / "workers" / "__init__.py"))


async def test_classes_are_the_runtime_objects() -> None:
    load_worker(worker_config("noarg"))
    import asgi
    import js
    import workers
    from pyodide.ffi import JsException

    import portflare.api as api
    import portflare.errors as errors

    assert workers.Response is api.Response and workers.WorkerEntrypoint is api.WorkerEntrypoint
    assert workers.asgi.fetch is api.asgi.fetch and asgi.fetch is api.asgi.fetch
    assert JsException is errors.JsException
    assert isinstance(js.Response.new("x"), workers.Response)


def test_workers_loaded_in_turn_do_not_mix_modules() -> None:
    with override_env(Env({"GREETING": "hi"})):  # classic reads workers.env at import time
        first = load_worker(worker_config("classic"))
    assert sys.modules["helpers"].WHO == "classic helpers"
    second = load_worker(worker_config("legacy"))
    assert sys.modules["helpers"].WHO == "legacy helpers"
    assert first.module is not second.module
    assert str(WORKERS / "classic" / "src") not in sys.path
    assert sys.modules["entry"] is second.module


def test_missing_dependency_names_package_and_command() -> None:
    with pytest.raises(WorkerLoadError) as info:
        load_worker(worker_config("missingdep"))
    message = str(info.value)
    assert "portflare-test-not-installed" in message
    assert "pip install 'portflare-test-not-installed>=1.0'" in message
    assert "httpx" not in message.split("not installed:")[1]  # installed ones are not listed


def test_error_at_import_names_file_and_line() -> None:
    with pytest.raises(WorkerLoadError, match=r"ZeroDivisionError: division by zero \(at .*entry.py:1\)"):
        load_worker(worker_config("broken"))


async def test_load_error_fails_lifespan_startup(serve, caplog: pytest.LogCaptureFixture) -> None:
    with pytest.raises(RuntimeError, match=r"^Worker startup failed: .*ZeroDivisionError") as failed:
        await serve("broken")
    assert "Traceback" not in str(failed.value)  # our load errors say it all in one line
    assert "ZeroDivisionError" not in caplog.text  # said once, in the lifespan message the server prints


async def test_unexpected_startup_error_carries_its_traceback(serve) -> None:
    async def hook(env) -> None:
        raise LookupError("hook broke")

    with pytest.raises(RuntimeError, match=r"(?s)^Worker startup failed:\nTraceback.*LookupError: hook broke$"):
        await serve("classic", startup_hooks=[hook])


async def test_a_startup_failure_already_reported_by_another_process_is_not_repeated(serve) -> None:
    reported: list[str] = []

    def report(message: str) -> bool:
        reported.append(message)
        return False

    with pytest.raises(RuntimeError, match=r"^$"):
        await serve("broken", report_startup_failure=report)
    assert len(reported) == 1 and "ZeroDivisionError" in reported[0]


def test_worker_without_handlers_is_a_load_error(tmp_path) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "entry.py").write_text("X = 1\n")
    (tmp_path / "wrangler.toml").write_text('name = "x"\nmain = "src/entry.py"\ncompatibility_date = "2025-11-02"\n')
    from portflare.config import load_config

    with pytest.raises(WorkerLoadError, match="defines no handler"):
        load_worker(load_config(tmp_path))


def test_main_must_exist(tmp_path) -> None:
    (tmp_path / "wrangler.toml").write_text('name = "x"\nmain = "src/missing.py"\n')
    from portflare.config import load_config

    with pytest.raises(WorkerLoadError, match="does not exist"):
        load_worker(load_config(tmp_path))


async def test_default_class_wins_over_legacy_handlers(tmp_path) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "entry.py").write_text(
        "from workers import Response, WorkerEntrypoint\n"
        "async def on_fetch(request):\n    return Response('legacy')\n"
        "class Default(WorkerEntrypoint):\n    async def fetch(self, request):\n        return Response('class')\n")
    (tmp_path / "wrangler.toml").write_text('name = "x"\nmain = "src/entry.py"\ncompatibility_date = "2024-01-01"\n')
    from portflare.config import load_config

    handlers = load_worker(load_config(tmp_path))
    response = await handlers.fetch(None, None, ExecutionContext())
    assert await response.text() == "class"


async def test_fetch_handler_may_return_a_js_object_holder(tmp_path) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "main.py").write_text(
        "from workers import Response\n"
        "class Wrapped:\n    def __init__(self, r):\n        self.js_object = r\n"
        "def on_fetch(request, env, ctx):\n    return Wrapped(Response('wrapped'))\n")
    (tmp_path / "wrangler.toml").write_text('name = "x"\nmain = "src/main.py"\ncompatibility_date = "2024-01-01"\n')
    from portflare.config import load_config

    handlers = load_worker(load_config(tmp_path))
    assert await (await handlers.fetch(None, None, ExecutionContext())).text() == "wrapped"


async def test_assets_only_project_without_fetch_serves_assets(serve, tmp_path) -> None:
    class FakeAssets:
        def should_run_worker_first(self, path: str) -> bool:
            return False

        async def serve(self, request):
            from workers import Response

            return Response("asset") if request.url.endswith("/a.txt") else None

        async def fetch(self, request):
            from workers import Response

            return Response("assets fallback", status=404)

    client: httpx.AsyncClient = await serve("noarg", assets=FakeAssets())
    assert (await client.get("/a.txt")).text == "asset"
    assert (await client.get("/other")).text == "no request needed (noarg)"  # no asset matched: the Worker

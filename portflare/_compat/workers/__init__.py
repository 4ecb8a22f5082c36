"""The ``workers`` module of Cloudflare Python Workers, served by portflare (see ``portflare.api``)."""

from portflare.api import (
    Blob,
    BlobEnding,
    BlobValue,
    Body,
    DurableObject,
    FetchKwargs,
    FetchResponse,
    File,
    FormData,
    FormDataValue,
    Headers,
    JSBody,
    Request,
    Response,
    WorkerEntrypoint,
    WorkflowEntrypoint,
    env,
    fetch,
    handler,
    import_from_javascript,
    patch_env,
    python_from_rpc,
    python_to_rpc,
    wait_until,
    waitUntil,
)
from portflare.runtime.context import ExecutionContext as Context

RequestInitCfProperties = dict

__all__ = [
    "Blob", "BlobEnding", "BlobValue", "Body", "Context", "DurableObject", "FetchKwargs", "FetchResponse", "File",
    "FormData", "FormDataValue", "Headers", "JSBody", "Request", "RequestInitCfProperties", "Response",
    "WorkerEntrypoint", "WorkflowEntrypoint", "env", "fetch", "handler", "import_from_javascript", "patch_env",
    "python_from_rpc", "python_to_rpc", "waitUntil", "wait_until",
]


def __getattr__(name):
    # `import workers; workers.asgi.fetch(...)` works without importing the submodule explicitly.
    if name in ("asgi", "wsgi", "workflows"):
        import importlib

        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module 'workers' has no attribute '{name}'")

"""The ``workers`` module of Cloudflare Python Workers, served by portflare (see ``portflare.api``)."""

from portflare.runtime.context import ExecutionContext as Context

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

RequestInitCfProperties = dict

__all__ = [
    "Blob", "BlobEnding", "BlobValue", "Body", "Context", "DurableObject", "FetchKwargs", "FetchResponse", "File",
    "FormData", "FormDataValue", "Headers", "JSBody", "Request", "RequestInitCfProperties", "Response",
    "WorkerEntrypoint", "WorkflowEntrypoint", "env", "fetch", "handler", "import_from_javascript", "patch_env",
    "python_from_rpc", "python_to_rpc", "waitUntil", "wait_until",
]

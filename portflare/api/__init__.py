"""portflare's implementation of the ``workers`` module that Cloudflare Python Workers import.

Worker code imports it as ``workers`` (see ``portflare/_compat``); the classes are the same objects.
"""

from __future__ import annotations

from portflare.api.blob import Blob, BlobEnding, BlobValue, File
from portflare.api.body import Body, JSBody
from portflare.api.entrypoints import DurableObject, WorkerEntrypoint, WorkflowEntrypoint, handler
from portflare.api.fetch import FetchKwargs, FetchResponse, fetch
from portflare.api.formdata import FormData, FormDataValue
from portflare.api.headers import Headers
from portflare.api.interop import (
    env,
    import_from_javascript,
    patch_env,
    python_from_rpc,
    python_to_rpc,
    wait_until,
    waitUntil,
)
from portflare.api.request import Request
from portflare.api.response import Response

__all__ = [
    "Blob", "BlobEnding", "BlobValue", "Body", "DurableObject", "FetchKwargs", "FetchResponse", "File", "FormData",
    "FormDataValue", "Headers", "JSBody", "Request", "Response", "WorkerEntrypoint", "WorkflowEntrypoint", "env",
    "fetch", "handler", "import_from_javascript", "patch_env", "python_from_rpc", "python_to_rpc", "waitUntil",
    "wait_until",
]

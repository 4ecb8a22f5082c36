# ruff: noqa  -- a corpus sample keeps its source's style (import order, blank lines)
# Compatibility corpus sample. Modeled on cloudflare/workerd src/workerd/server/tests/python/
# default-class-with-legacy-global-handlers/worker.py @a9b6b8da (Apache-2.0): a module defining both
# `class Default(WorkerEntrypoint)` and a module-level on_fetch; the class is the default export.
# Written for portflare's tests, not a copy.
from workers import Response, WorkerEntrypoint


async def on_fetch(request, env, ctx):
    return Response("legacy on_fetch")


class Default(WorkerEntrypoint):
    async def fetch(self, request):
        return Response("Default class")

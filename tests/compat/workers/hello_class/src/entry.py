# ruff: noqa  -- a corpus sample keeps its source's style (import order, blank lines)
# Compatibility corpus sample. Modeled on cloudflare-docs workers/languages/python/basics.mdx @11007897 and
# cloudflare/python-workers-examples 01-hello/src/entry.py (class style). Written for portflare's tests, not
# a copy: it makes the same runtime calls as the source.
from workers import WorkerEntrypoint, Response


class Default(WorkerEntrypoint):
    async def fetch(self, request):
        return Response("Hello World!")

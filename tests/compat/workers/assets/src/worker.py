# ruff: noqa  -- a corpus sample keeps its source's style (import order, blank lines)
# Compatibility corpus sample. Modeled on cloudflare/python-workers-examples 06-assets/src/worker.py @16994522:
# an HTML page for "/", everything else through `await self.env.ASSETS.fetch(request.js_object)`.
# Written for portflare's tests, not a copy: it makes the same runtime calls.
from workers import WorkerEntrypoint, Response
from urllib.parse import urlparse

INDEX_PAGE = "<!DOCTYPE html><html><head><link rel='stylesheet' href='/style.css'></head><body>Assets</body></html>"


class Default(WorkerEntrypoint):
    async def fetch(self, request):
        path = urlparse(request.url).path
        if path in ["/", "/index.html"]:
            return Response(INDEX_PAGE, headers={"Content-Type": "text/html"})
        return await self.env.ASSETS.fetch(request.js_object)

# ruff: noqa  -- a corpus sample keeps its source's style (import order, blank lines)
# Compatibility corpus sample. Modeled on cloudflare-docs workers/languages/python/basics.mdx @11007897: a var
# read as self.env.API_HOST, a secret from .dev.vars, a sibling module, and the page's POST idiom
# `(await request.json()).name`. Written for portflare's tests, not a copy: it makes the same runtime calls.
from workers import WorkerEntrypoint, Response
from hello import hello


class Default(WorkerEntrypoint):
    async def fetch(self, request):
        if request.method == "POST":
            name = (await request.json()).name
            return Response(hello(name))
        if request.url.endswith("/secret"):
            return Response(self.env.API_TOKEN)
        return Response(self.env.API_HOST)

# ruff: noqa  -- a corpus sample keeps its source's style (import order, blank lines)
# Compatibility corpus sample. Modeled on cloudflare/python-workers-examples 01-hello/src/entry.py @0d176eb1
# (the @handler era). Written for portflare's tests, not a copy: it makes the same runtime calls.
from workers import handler, Response

@handler
async def on_fetch(request, env):
    return Response("Hello world!")

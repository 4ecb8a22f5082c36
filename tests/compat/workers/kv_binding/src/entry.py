# ruff: noqa  -- a corpus sample keeps its source's style (import order, blank lines)
# Compatibility corpus sample. Modeled on cloudflare/python-workers-examples 02-binding/src/entry.py @061f3c52:
# raw `from js import Response`, module-level on_fetch(request, env), KV put then get. Written for portflare's
# tests, not a copy: it makes the same runtime calls.
from js import Response

async def on_fetch(request, env):
    await env.FOO.put("bar", "baz")
    bar = await env.FOO.get("bar")
    return Response.new(bar)  # "baz"

# ruff: noqa  -- a corpus sample keeps its source's style (import order, blank lines)
# Compatibility corpus sample. Modeled on cloudflare-docs workers/languages/python/index.mdx (2024 revision,
# "Modules" section): a synchronous module-level on_fetch(request) returning js.Response.new(...), importing
# a sibling module. Written for portflare's tests, not a copy: it makes the same runtime calls.
from hello import hello
from js import Response

def on_fetch(request):
    return Response.new(hello("World"))

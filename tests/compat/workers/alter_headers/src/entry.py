# ruff: noqa  -- a corpus sample keeps its source's style (import order, blank lines)
# Compatibility corpus sample. Modeled on the Python tab of cloudflare-docs workers/examples/alter-headers.mdx
# @0885e6e9: the fetched response's headers mutated as a mapping (item assignment, `in`, `del`) and passed with
# the upstream body to Response(...). The test routes https://example.com to a local server.
# Written for portflare's tests, not a copy: it makes the same runtime calls.
from workers import Response, fetch

async def on_fetch(request):
    response = await fetch("https://example.com")

    new_headers = response.headers

    new_headers["x-workers-hello"] = "Hello from Cloudflare Workers"

    if "x-header-to-delete" in new_headers:
        del new_headers["x-header-to-delete"]
    if "x-header2-to-delete" in new_headers:
        del new_headers["x-header2-to-delete"]

    new_headers["x-header-to-change"] = "NewValue"

    return Response(response.body, headers=new_headers)

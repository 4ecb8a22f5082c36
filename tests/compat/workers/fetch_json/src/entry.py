# ruff: noqa  -- a corpus sample keeps its source's style (import order, blank lines)
# Compatibility corpus sample. Modeled on the Python tab of cloudflare-docs workers/examples/fetch-json.mdx
# @043081dc: fetch() of a hard-coded https origin, `headers["content-type"] or ""`, `await response.json()`,
# Response(result, headers=dict). The test routes that origin to a local server (its code is unchanged).
# Written for portflare's tests, not a copy: it makes the same runtime calls.
from workers import Response, fetch
import json

async def on_fetch(request):
    url = "https://jsonplaceholder.typicode.com/todos/1"

    # gather_response returns both content-type & response body as a string
    async def gather_response(response):
        headers = response.headers
        content_type = headers["content-type"] or ""

        if "application/json" in content_type:
            return (content_type, json.dumps(await response.json()))
        return (content_type, await response.text())

    response = await fetch(url)
    content_type, result = await gather_response(response)

    headers = {"content-type": content_type}
    return Response(result, headers=headers)

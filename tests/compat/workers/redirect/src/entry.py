# ruff: noqa  -- a corpus sample keeps its source's style (import order, blank lines)
# Compatibility corpus sample. Modeled on the Python tab of cloudflare-docs workers/examples/redirect.mdx
# @0885e6e9 ("Redirect requests from one domain to another"): urlparse(request.url), print, and
# Response.redirect(url, 301) from a module-level on_fetch. Written for portflare's tests, not a copy.
from workers import Response
from urllib.parse import urlparse

async def on_fetch(request):
    base = "https://example.com"
    statusCode = 301

    url = urlparse(request.url)

    destinationURL = f'{base}{url.path}{url.query}'
    print(destinationURL)

    return Response.redirect(destinationURL, statusCode)

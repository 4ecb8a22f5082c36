# ruff: noqa  -- a corpus sample keeps its source's style (import order, blank lines)
# Compatibility corpus sample. Modeled on the Python tab of cloudflare-docs workers/examples/redirect.mdx
# @0885e6e9 ("Redirect all requests to one URL"): a synchronous on_fetch returning Response.redirect.
# Written for portflare's tests, not a copy.
from workers import Response

def on_fetch(request):
    destinationURL = "https://example.com"
    statusCode = 301
    return Response.redirect(destinationURL, statusCode)

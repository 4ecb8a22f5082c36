# ruff: noqa  -- a corpus sample keeps its source's style (import order, blank lines)
# Compatibility corpus sample. Modeled on the Python tab of cloudflare-docs workers/runtime-apis/fetch
# (2024): `@handler async def on_scheduled(controller, env, ctx)` that fetches with a headers= keyword. The
# upstream origin comes from a var here (the docs hard-code https://example.com). Written for portflare's
# tests, not a copy.
from workers import fetch, handler

SEEN = []

@handler
async def on_scheduled(controller, env, ctx):
    response = await fetch(env.UPSTREAM + "/echo", headers={"X-Source": "Cloudflare-Workers"})
    SEEN.append((controller.cron, (await response.json())["headers"]["x-source"]))
    return response

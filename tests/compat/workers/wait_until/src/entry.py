# ruff: noqa  -- a corpus sample keeps its source's style (import order, blank lines)
# Compatibility corpus sample. The waitUntil shapes the spec names ([WD] patchWaitUntil lets ctx.waitUntil take
# a Python coroutine; the SDK exports wait_until/waitUntil): `self.ctx.waitUntil(coro)`, `self.ctx.wait_until`,
# and the module-level `workers.wait_until(...)`, each writing to KV after the response has gone out, as the
# fetch-handler docs' logging example does. Written for portflare's tests.
import asyncio

from workers import Response, WorkerEntrypoint, wait_until


async def log_later(kv, key):
    await asyncio.sleep(0.05)
    await kv.put(key, "done")


class Default(WorkerEntrypoint):
    async def fetch(self, request):
        if request.url.endswith("/log"):
            keys = await self.env.LOG.list()
            return Response.json(sorted(k["name"] for k in keys["keys"]))
        self.ctx.waitUntil(log_later(self.env.LOG, "ctx.waitUntil"))
        self.ctx.wait_until(log_later(self.env.LOG, "ctx.wait_until"))
        wait_until(log_later(self.env.LOG, "workers.wait_until"))
        return Response("logged later")

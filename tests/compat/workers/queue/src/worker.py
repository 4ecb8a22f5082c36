# ruff: noqa  -- a corpus sample keeps its source's style (import order, blank lines)
# Compatibility corpus sample. The consumer is modeled on the queue handler of cloudflare/workers-py
# packages/runtime-sdk/tests/bindings-test/src/worker.py @59a4f752 (`queue(self, batch, env, ctx)`, message
# .id/.body/.attempts, .ack()); the producer on the SDK's binding shapes (send a dict, sendBatch of
# {"body": ...}) and on the older to_js(..., dict_converter=Object.fromEntries) idiom. Written for portflare's
# tests, not a copy.
from js import Object
from pyodide.ffi import to_js
from workers import Response, WorkerEntrypoint

RECEIVED_MESSAGES = []


class Default(WorkerEntrypoint):
    async def fetch(self, request):
        from urllib.parse import urlparse

        path = urlparse(request.url).path
        if path == "/send":
            await self.env.TEST_QUEUE.send(await request.json())
            return Response.json({"ok": True})
        if path == "/send-batch":
            await self.env.TEST_QUEUE.sendBatch([{"body": n} for n in range(3)])
            return Response.json({"ok": True})
        if path == "/send-js":
            await self.env.TEST_QUEUE.send(to_js({"url": "https://example.com"}, dict_converter=Object.fromEntries))
            return Response.json({"ok": True})
        if path == "/received":
            return Response.json(RECEIVED_MESSAGES)
        return Response.json({"error": "not found"}, status=404)

    async def queue(self, batch, env, ctx):
        for message in batch.messages:
            RECEIVED_MESSAGES.append(
                {
                    "id": message.id,
                    "body": message.body,
                    "attempts": message.attempts,
                }
            )
            message.ack()

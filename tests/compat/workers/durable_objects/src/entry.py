# ruff: noqa  -- a corpus sample keeps its source's style (import order, blank lines)
# Compatibility corpus sample. Modeled on cloudflare/python-workers-examples 07-durable-objects/src/entry.py
# @2e09fcfc: a DurableObject with ctx.storage, reached with idFromName/get and RPC on the stub.
# Written for portflare's tests, not a copy: it makes the same runtime calls.
from workers import WorkerEntrypoint, Response, DurableObject

from urllib.parse import urlparse
import json


class List(DurableObject):
    async def get_messages(self):
        messages = await self.ctx.storage.get("messages")
        return json.loads(messages) if messages else []

    async def add_message(self, message):
        messages = await self.get_messages()
        messages.append(message)
        await self.ctx.storage.put("messages", json.dumps(messages))


class Default(WorkerEntrypoint):
    async def fetch(self, request):
        url = urlparse(request.url)
        list_id = url.path.split("/")[1]
        if list_id == "":
            return Response("List ID not specified", status=400)
        stub = self.env.LISTS.get(self.env.LISTS.idFromName(list_id))
        if "/add" in url.path:
            await stub.add_message(url.path.split("/")[3])
            return Response("Message sent")
        if "/show" in url.path:
            messages = await stub.get_messages()
            return Response("\n".join(messages) if messages else "No messages")
        return Response("Not Found", status=404)

# ruff: noqa  -- a corpus sample keeps its source's style (import order, blank lines)
# Compatibility corpus sample. Modeled on the call shapes of cloudflare/workers-py
# packages/runtime-sdk/tests/bindings-test/src/test_r2.py @03fc747f (put with httpMetadata/customMetadata as
# keywords or a trailing dict, get/head returning dict-like objects with attribute access, list with keywords,
# a dict or None, delete of one key or a list, ranged get, and Response(obj.body) streaming the object).
# Written for portflare's tests, not a copy.
import json
from urllib.parse import urlparse

from workers import Response, WorkerEntrypoint


class Default(WorkerEntrypoint):
    async def fetch(self, request):
        bucket = self.env.BUCKET
        path = urlparse(request.url).path
        key = path.lstrip("/")
        if request.method == "PUT":
            obj = await bucket.put(
                key,
                await request.text(),
                httpMetadata={"contentType": request.headers.get("content-type") or "text/plain"},
                customMetadata={"author": "corpus"},
            )
            return Response.json({"key": obj["key"], "size": obj.size, "etag": obj.etag,
                                  "quoted": obj["httpEtag"].startswith('"')})
        if request.method == "DELETE":
            await bucket.delete(key)
            return Response("deleted")
        if path == "/":
            listing = await bucket.list(prefix=request.headers.get("x-prefix") or "")
            keys = [obj.key for obj in listing.objects]
            as_dict = await bucket.list({"prefix": ""})
            await bucket.list(None)
            return Response.json({"keys": keys, "truncated": listing["truncated"],
                                  "dict_form": len(as_dict["objects"])})
        if path.startswith("/meta/"):
            head = await bucket.head(key[len("meta/"):])
            if head is None:
                return Response("not found", status=404)
            return Response.json({"contentType": head["httpMetadata"]["contentType"],
                                  "custom": head.customMetadata, "size": head["size"]})
        if path.startswith("/range/"):
            obj = await bucket.get(key[len("range/"):], range={"offset": 1, "length": 3})
            return Response(await obj.text())
        if path == "/json-roundtrip":
            await bucket.put("data.json", json.dumps({"numbers": [1, 2, 3]}),
                             {"httpMetadata": {"contentType": "application/json"}})
            body = await bucket.get("data.json")
            return Response.json(await body.json())
        obj = await bucket.get(key)
        if obj is None:
            return Response("not found", status=404)
        return Response(obj.body, headers={"x-test": "ok"})

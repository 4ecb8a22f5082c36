import asyncio
import json

from helpers import WHO
from workers import Response, WorkerEntrypoint, env, wait_until

# `workers.env` works at import time, as on Cloudflare.
GREETING_AT_IMPORT = env.GREETING

EVENTS = []


async def record_later(name, delay=0.05):
    await asyncio.sleep(delay)
    EVENTS.append(name)


async def fail_later():
    raise RuntimeError("background failure")


async def chunks():
    for i in range(3):
        yield f"chunk{i};".encode()
        await asyncio.sleep(0)


class Default(WorkerEntrypoint):
    async def fetch(self, request):
        path = request.url.split("://", 1)[1].split("/", 1)[1].split("?")[0]
        if path == "":
            return Response("Hello world!")
        if path == "json":
            return Response.json({"ok": True, "who": WHO})
        if path == "echo":
            body = await request.text()
            return Response.json({
                "method": str(request.method), "is_post": request.method == "POST", "url": request.url,
                "x_test": request.headers.get("x-test"), "body": body,
            })
        if path == "echo-json":
            data = await request.json()
            return Response.json({"got": data, "name": data["name"]}, status=201)
        if path == "form":
            form = await request.form_data()
            upload = form.get("upload")
            return Response.json({"field": form["field"], "upload": await upload.text() if upload else None,
                                  "filename": upload.name if upload else None})
        if path == "vars":
            return Response.json({"greeting": self.env.GREETING, "secret": self.env.SECRET_TOKEN,
                                  "at_import": GREETING_AT_IMPORT, "module_env": env.GREETING})
        if path == "wait":
            self.ctx.waitUntil(record_later("ctx"))
            wait_until(record_later("module"))
            self.ctx.wait_until(fail_later())
            return Response("scheduled work")
        if path == "events":
            return Response.json(EVENTS)
        if path == "boom":
            raise ValueError("kaboom")
        if path == "stream":
            return Response(chunks(), headers={"content-type": "text/plain"})
        if path == "cookies":
            headers = [("set-cookie", "a=1"), ("set-cookie", "b=2"), ("x-multi", "1")]
            return Response("cookies", headers=headers)
        if path == "cf":
            return Response(json.dumps({"colo": request.cf.colo, "cf": dict(request.cf)}))
        if path == "redirect":
            return Response.redirect("https://example.com/elsewhere", 301)
        if path == "bad-return":
            return {"not": "a response"}
        return Response("not found", status=404)

    async def scheduled(self, controller, env, ctx):
        EVENTS.append(f"cron:{controller.cron}:{env.GREETING}:{ctx is self.ctx}")
        if controller.cron == "fail":
            raise RuntimeError("cron failed")

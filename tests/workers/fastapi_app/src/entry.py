import asyncio
from contextlib import asynccontextmanager

import asgi
from fastapi import Depends, FastAPI, Request
from fastapi.responses import StreamingResponse
from workers import WorkerEntrypoint

LIFESPAN = {"startup": 0, "shutdown": 0}


@asynccontextmanager
async def lifespan(app):
    LIFESPAN["startup"] += 1
    yield {"started": True}
    LIFESPAN["shutdown"] += 1


app = FastAPI(lifespan=lifespan)


@app.get("/env")
async def env_route(req: Request):
    return {"message": req.scope["env"].MESSAGE, "state": req.state.started}


@app.get("/dep")
async def dep_route(env=asgi.env):
    return {"message": env.MESSAGE}


@app.post("/items/{item_id}")
async def create_item(item_id: int, req: Request):
    body = await req.json()
    return {"id": item_id, "body": body, "path": req.url.path, "query": req.url.query}


@app.get("/lifespan")
async def lifespan_counts():
    return dict(LIFESPAN)


@app.get("/stream")
async def stream():
    async def gen():
        for i in range(3):
            yield f"part{i}\n"
            await asyncio.sleep(0)

    return StreamingResponse(gen(), media_type="text/plain")


@app.get("/fail")
async def fail():
    raise RuntimeError("fastapi route failed")


class Default(WorkerEntrypoint):
    async def fetch(self, request):
        return await asgi.fetch(app, request.js_object, self.env)


_unused = Depends  # keep the import shape of real FastAPI Workers

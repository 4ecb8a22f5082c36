from flask import Flask, request
from workers import WorkerEntrypoint, wsgi

app = Flask(__name__)


@app.get("/")
def index():
    return {"message": request.environ["workers.env"].MESSAGE, "path": request.path, "q": request.args.get("q")}


@app.post("/form")
def form():
    return {"name": request.form["name"], "agent": request.headers.get("user-agent")}


class Default(WorkerEntrypoint):
    async def fetch(self, request):
        return await wsgi.fetch(app, request, self.env)

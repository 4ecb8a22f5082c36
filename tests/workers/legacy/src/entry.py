from helpers import WHO
from js import Object, Response
from pyodide.ffi import to_js

SEEN = []


async def on_fetch(request, env):
    if request.method == "POST":
        data = await request.json()
        return Response.new(f"hi {data.name}", headers=to_js({"x-who": WHO}, dict_converter=Object.fromEntries))
    return Response.new(f"legacy {env.GREETING}", {"status": 203, "headers": {"x-who": WHO}})


def on_scheduled(controller):
    SEEN.append(controller.cron)

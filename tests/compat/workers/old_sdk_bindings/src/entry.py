# ruff: noqa  -- a corpus sample keeps its source's style (import order, blank lines)
# Compatibility corpus sample. The old-SDK interop idioms of cloudflare-docs workers/languages/python/ffi.mdx
# (2024) and the spec's section 0: binding results are JS proxies, so code calls `.to_py()` on them and wraps
# options in `to_js(..., dict_converter=Object.fromEntries)`; D1's prepare/bind/first/raw/batch as
# [WPY] test_d1.py calls them. Written for portflare's tests.
from js import Object, Response, JSON
from pyodide.ffi import to_js

async def on_fetch(request, env):
    await env.KV.put("greeting", "hi", to_js({"expirationTtl": 600, "metadata": {"v": 1}},
                                             dict_converter=Object.fromEntries))
    meta = (await env.KV.getWithMetadata("greeting")).to_py()
    listed = (await env.KV.list(to_js({"prefix": "gr"}, dict_converter=Object.fromEntries))).to_py()
    json_value = await env.KV.get("greeting", "text")

    await env.DB.exec("CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY, name TEXT)")
    await env.DB.batch([env.DB.prepare("INSERT INTO t (name) VALUES (?)").bind(n) for n in ("ada", "bob")])
    rows = (await env.DB.prepare("SELECT id, name FROM t WHERE name = ?").bind("ada").all()).to_py()
    first = await env.DB.prepare("SELECT name FROM t ORDER BY id DESC").first("name")
    raw = await env.DB.prepare("SELECT id, name FROM t ORDER BY id").raw(columnNames=True)
    return Response.new(JSON.stringify(to_js({
        "meta": meta, "keys": [k["name"] for k in listed["keys"]], "text": json_value,
        "rows": rows["results"], "success": rows["success"], "first": first, "raw": raw,
    }, dict_converter=Object.fromEntries)), headers={"content-type": "application/json"})

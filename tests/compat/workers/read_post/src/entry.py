# ruff: noqa  -- a corpus sample keeps its source's style (import order, blank lines)
# Compatibility corpus sample. Modeled on the Python tab of cloudflare-docs workers/examples/read-post.mdx
# @0885e6e9: raw JS globals (`from js import Object, Response, Headers, JSON`), JSON.stringify of the request's
# JSON, `Object.fromEntries(form.entries())`, `Headers.new(dict.items())`, `Response.new(html, headers=...)`,
# and `"POST" in request.method`. Written for portflare's tests, not a copy: it makes the same runtime calls.
from js import Object, Response, Headers, JSON

async def read_request_body(request):
    headers = request.headers
    content_type = headers["content-type"] or ""

    if "application/json" in content_type:
        return JSON.stringify(await request.json())
    if "form" in content_type:
        form = await request.formData()
        data = Object.fromEntries(form.entries())
        return JSON.stringify(data)
    return await request.text()

async def on_fetch(request):
    def raw_html_response(html):
        headers = Headers.new({"content-type": "text/html;charset=UTF-8"}.items())
        return Response.new(html, headers=headers)

    if "form" in request.url:
        return raw_html_response("<form method='post'><input name='message'></form>")

    if "POST" in request.method:
        req_body = await read_request_body(request)
        ret_body = f"The request body sent in was {req_body}"
        return Response.new(ret_body)

    return Response.new("The request was not POST")

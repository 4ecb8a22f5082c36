"""A Worker of module-level handlers only (no Default class), each declaring (event, env, ctx).

``events`` records what the handlers and their ``ctx.waitUntil`` work did, for the tests to read.
"""

import asyncio

from workers import Response

events = []


async def on_fetch(request, env, ctx):
    await env.JOBS.send(await request.json())
    return Response("queued")


async def _finish_later(label):
    await asyncio.sleep(0.3)
    events.append(("waitUntil done", label))


async def _fail_soon(label):
    await asyncio.sleep(0.05)
    raise RuntimeError(f"waitUntil work of {label} failed")


async def on_queue(batch, env, ctx):
    for message in batch.messages:
        name = message.body.name
        events.append(("queue", batch.queue, name, message.attempts))
        if name == "slow":
            ctx.waitUntil(_finish_later(name))
        elif name == "flaky" and message.attempts == 1:
            ctx.waitUntil(_fail_soon(name))


async def on_scheduled(controller, env, ctx):
    events.append(("scheduled", controller.cron, controller.scheduledTime))
    if controller.cron == "raise":
        raise RuntimeError("the scheduled handler failed")
    if controller.cron == "no-retry":
        controller.noRetry()
    if controller.cron == "wait-fails":
        ctx.waitUntil(_fail_soon("scheduled"))
    if controller.cron == "wait-slow":
        ctx.waitUntil(_finish_later("scheduled"))

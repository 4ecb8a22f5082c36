# ruff: noqa  -- a corpus sample keeps its source's style (import order, blank lines)
# Compatibility corpus sample. Modeled on cloudflare/python-workers-examples 08-cron/src/entry.py @09f907b3:
# `scheduled(self, controller)` and `fetch(self)` with fewer parameters than the runtime passes (relaxed
# arity). Written for portflare's tests, not a copy: it makes the same runtime calls.
from workers import Response, WorkerEntrypoint


class Default(WorkerEntrypoint):
    # runs based on "triggers" in wrangler config
    async def scheduled(self, controller):
        print("Scheduled task has been executed.", controller.cron)

    async def fetch(self):
        return Response(
            "Hello from Cron Worker - Check your logs to see a scheduled task executed every minute"
        )

# ruff: noqa  -- a corpus sample keeps its source's style (import order, blank lines)
# Compatibility corpus sample. Modeled on cloudflare/python-workers-examples 04-query-d1/src/entry.py @0b1c0f01:
# prepare().all(), then attribute access `results.results[0]`, then Response.json(row). Written for portflare's
# tests, not a copy: it makes the same runtime calls.
from workers import WorkerEntrypoint, Response


class Default(WorkerEntrypoint):
    async def fetch(self, request):
        query = """
        SELECT quote, author
        FROM qtable
        ORDER BY RANDOM()
        LIMIT 1;
        """
        results = await self.env.DB.prepare(query).all()
        data = results.results[0]

        # Return a JSON response
        return Response.json(data)

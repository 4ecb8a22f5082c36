"""A Worker that queries PostgreSQL through Hyperdrive with asyncpg, as docs/d1-backends.md shows."""

import asyncpg
from workers import Response, WorkerEntrypoint


class Default(WorkerEntrypoint):
    async def fetch(self, request):
        hd = self.env.HYPERDRIVE
        conn = await asyncpg.connect(hd.connectionString)
        try:
            row = await conn.fetchrow("SELECT current_database() AS db, 40 + $1::int AS answer", 2)
        finally:
            await conn.close()
        return Response.json({
            "db": row["db"], "answer": row["answer"],
            "host": hd.host, "port": hd.port, "user": hd.user, "database": hd.database,
        })

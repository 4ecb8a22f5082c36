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
        # The same database through the separate fields, with the IP literal some drivers need.
        by_ip = await asyncpg.connect(host=hd.ip, port=hd.port, user=hd.user, password=hd.password,
                                      database=hd.database)
        try:
            answer = await by_ip.fetchval("SELECT 42")
        finally:
            await by_ip.close()
        return Response.json({
            "db": row["db"], "answer": row["answer"], "by_ip": answer,
            "host": hd.host, "ip": hd.ip, "port": hd.port, "user": hd.user, "database": hd.database,
        })

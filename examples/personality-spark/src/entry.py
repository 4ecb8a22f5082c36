"""Personality Spark: quizzes (KV-cached), results (D1) and share cards (R2).

A plain Cloudflare Python Worker: it runs on Cloudflare as is, and on portflare with `portflare dev`.
"""

import json
import random
import re
import time
import uuid
from urllib.parse import parse_qs, urlparse

from questions import BANK, OPTIONS
from scoring import InvalidAnswers, score
from share_card import render
from workers import Response, WorkerEntrypoint

QUIZ_TYPES = tuple(BANK)


def error(status, message):
    return Response.json({"error": message}, status=status)


class Default(WorkerEntrypoint):
    async def fetch(self, request):
        url = urlparse(request.url)
        method = str(request.method)
        for pattern, allowed, handler in ROUTES:
            if match := re.fullmatch(pattern, url.path):
                if method not in allowed:
                    return error(405, "method not allowed")
                return await handler(self, request, url, *match.groups())
        return error(404, "not found")

    async def generate(self, request, url, quiz_type):
        if quiz_type not in QUIZ_TYPES:
            return error(400, f"unknown quiz type {quiz_type!r}; expected one of {', '.join(QUIZ_TYPES)}")
        cache_key = f"quiz:{quiz_type}"
        cached = await self.env.CACHE.get(cache_key, "json")
        if cached is not None:
            return Response.json(cached)
        items = list(BANK[quiz_type])
        random.shuffle(items)
        quiz = {
            "id": str(uuid.uuid4()),
            "type": quiz_type,
            "questions": [{"id": qid, "text": text, "options": OPTIONS} for qid, _, _, text in items],
        }
        ttl = int(getattr(self.env, "QUIZ_CACHE_TTL", "3600"))
        await self.env.CACHE.put(cache_key, json.dumps(quiz), expirationTtl=ttl)
        return Response.json(quiz)

    async def submit(self, request, url):
        try:
            body = await request.json()
        except ValueError:
            return error(400, "body must be JSON")
        if not isinstance(body, dict):
            return error(400, "body must be a JSON object")
        quiz_id, quiz_type, user_id = body.get("quiz_id"), body.get("quiz_type"), body.get("user_id")
        if not isinstance(quiz_id, str) or not quiz_id:
            return error(400, "quiz_id is required")
        if quiz_type not in QUIZ_TYPES:
            return error(400, "quiz_type must be one of " + ", ".join(QUIZ_TYPES))
        if user_id is not None and not isinstance(user_id, str):
            return error(400, "user_id must be a string or null")
        try:
            scores = score(quiz_type, body.get("answers"))
        except InvalidAnswers as exc:
            return error(400, str(exc))
        result_id = uuid.uuid4().hex
        await self.env.DB.prepare(
            "INSERT INTO quiz_results (id, quiz_id, quiz_type, user_id, answers, scores) VALUES (?, ?, ?, ?, ?, ?)"
        ).bind(result_id, quiz_id, quiz_type, user_id, json.dumps(body["answers"]), json.dumps(scores)).run()
        await self.env.EVENTS.send({
            "result_id": result_id, "quiz_type": quiz_type, "user_id": user_id, "created_at": int(time.time()),
        })
        return Response.json({"id": result_id, "scores": scores}, status=201)

    async def results(self, request, url, user_id):
        try:
            limit = int(parse_qs(url.query).get("limit", ["10"])[0])
        except ValueError:
            return error(400, "limit must be an integer")
        if not 1 <= limit <= 100:
            return error(400, "limit must be between 1 and 100")
        rows = await self.env.DB.prepare(
            "SELECT id, quiz_type, scores, created_at FROM quiz_results WHERE user_id = ? "
            "ORDER BY created_at DESC, rowid DESC LIMIT ?"
        ).bind(user_id, limit).all()
        return Response.json({
            "results": [
                {"id": r["id"], "quiz_type": r["quiz_type"], "scores": json.loads(r["scores"]),
                 "created_at": r["created_at"]}
                for r in rows.results
            ]
        })

    async def share(self, request, url, result_id):
        row = await self.env.DB.prepare(
            "SELECT id, quiz_type, scores FROM quiz_results WHERE id = ?"
        ).bind(result_id).first()
        if row is None:
            return error(404, "result not found")
        key = f"shares/{result_id}.svg"
        svg = render(row["id"], row["quiz_type"], json.loads(row["scores"]))
        await self.env.MEDIA.put(key, svg, httpMetadata={"contentType": "image/svg+xml"})
        return Response.json({"url": f"/media/{key}"}, status=201)

    async def media(self, request, url, key):
        obj = await self.env.MEDIA.get(key)
        if obj is None:
            return error(404, "object not found")
        content_type = obj.httpMetadata.get("contentType") or "application/octet-stream"
        return Response(obj.body, headers={"content-type": content_type, "etag": obj.httpEtag})

    async def daily_stats(self, request, url):
        rows = await self.env.DB.prepare(
            "SELECT day, quiz_type, submissions, unique_users FROM quiz_daily_stats ORDER BY day DESC, quiz_type"
        ).all()
        return Response.json({"stats": rows.results})

    async def queue(self, batch, env, ctx):
        """Aggregate analytics events into D1; INSERT OR IGNORE makes redelivery harmless."""
        insert = self.env.DB.prepare(
            "INSERT OR IGNORE INTO quiz_analytics (result_id, quiz_type, user_id, created_at) VALUES (?, ?, ?, ?)"
        )
        statements = [
            insert.bind(m.body["result_id"], m.body["quiz_type"], m.body["user_id"], m.body["created_at"])
            for m in batch.messages
        ]
        if statements:
            await self.env.DB.batch(statements)
        batch.ackAll()

    async def scheduled(self, controller, env, ctx):
        """Recompute the daily statistics of the last two days (idempotent, so a re-run is harmless)."""
        since = int(controller.scheduledTime / 1000) - 2 * 86400
        await self.env.DB.prepare(
            "INSERT INTO quiz_daily_stats (day, quiz_type, submissions, unique_users) "
            "SELECT date(created_at, 'unixepoch') AS day, quiz_type, COUNT(*), COUNT(DISTINCT user_id) "
            "FROM quiz_analytics WHERE created_at >= ? GROUP BY day, quiz_type "
            "ON CONFLICT (day, quiz_type) DO UPDATE SET "
            "submissions = excluded.submissions, unique_users = excluded.unique_users"
        ).bind(since).run()

    async def health(self, request, url):
        checks = {}
        probes = {
            "d1": lambda: self.env.DB.prepare("SELECT 1 AS ok").first("ok"),
            "kv": lambda: self.env.CACHE.get("health:probe"),
            "r2": lambda: self.env.MEDIA.head("health/probe"),
        }
        for name, probe in probes.items():
            try:
                await probe()
                checks[name] = "ok"
            except Exception as exc:  # report which binding failed instead of a bare 500
                checks[name] = f"error: {exc}"
        healthy = all(value == "ok" for value in checks.values())
        return Response.json(checks, status=200 if healthy else 503)


ROUTES = (
    (r"/health", ("GET",), Default.health),
    (r"/api/quizzes/generate/([^/]+)", ("GET",), Default.generate),
    (r"/api/quizzes/submit", ("POST",), Default.submit),
    (r"/api/users/([^/]+)/results", ("GET",), Default.results),
    (r"/api/share/([^/]+)", ("POST",), Default.share),
    (r"/media/(.+)", ("GET", "HEAD"), Default.media),
    (r"/api/stats/daily", ("GET",), Default.daily_stats),
)

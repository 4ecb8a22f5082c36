"""The example app, served by a real `portflare dev` subprocess, exercised route by route over HTTP."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import free_port
from tests.e2e.devserver import DevServer

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "personality-spark"

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevServer]:
    state = tmp_path_factory.mktemp("state")
    dev = DevServer(EXAMPLE, state, "--no-reload")
    try:
        dev.wait_ready()
        yield dev
    finally:
        dev.stop()


@pytest.fixture
def client(server: DevServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.base, timeout=10) as http:
        yield http


def answers_for(quiz: dict[str, object], value: int = 4) -> dict[str, int]:
    questions = quiz["questions"]
    assert isinstance(questions, list)
    return {q["id"]: value for q in questions}


def test_health_touches_every_binding(client: httpx.Client) -> None:
    response = client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"d1": "ok", "kv": "ok", "r2": "ok"}


@pytest.mark.parametrize("quiz_type", ["big5", "daily", "quick", "mood"])
def test_generate_is_cached_in_kv(client: httpx.Client, quiz_type: str) -> None:
    first = client.get(f"/api/quizzes/generate/{quiz_type}")
    assert first.status_code == 200
    assert first.headers["content-type"] == "application/json"
    quiz = first.json()
    assert set(quiz) == {"id", "type", "questions"} and quiz["type"] == quiz_type
    assert all(set(q) == {"id", "text", "options"} and q["options"] for q in quiz["questions"])
    assert client.get(f"/api/quizzes/generate/{quiz_type}").json() == quiz


def test_generate_unknown_type_is_400(client: httpx.Client) -> None:
    response = client.get("/api/quizzes/generate/horoscope")
    assert response.status_code == 400
    assert "error" in response.json()


def test_submit_results_share_and_media(client: httpx.Client) -> None:
    quiz = client.get("/api/quizzes/generate/big5").json()
    user = f"user-{time.time_ns()}"
    ids = []
    for value in (5, 1):
        response = client.post("/api/quizzes/submit", json={
            "quiz_id": quiz["id"], "quiz_type": "big5", "user_id": user, "answers": answers_for(quiz, value)})
        assert response.status_code == 201, response.text
        body = response.json()
        assert set(body) == {"id", "scores"}
        assert set(body["scores"]) == {"openness", "conscientiousness", "extraversion", "agreeableness",
                                       "neuroticism"}
        ids.append(body["id"])

    listed = client.get(f"/api/users/{user}/results", params={"limit": 10}).json()["results"]
    assert [r["id"] for r in listed] == ids[::-1]  # newest first
    assert set(listed[0]) == {"id", "quiz_type", "scores", "created_at"}
    assert isinstance(listed[0]["scores"], dict) and isinstance(listed[0]["created_at"], int)
    assert [r["id"] for r in client.get(f"/api/users/{user}/results?limit=1").json()["results"]] == [ids[1]]

    share = client.post(f"/api/share/{ids[0]}")
    assert share.status_code == 201
    assert share.json() == {"url": f"/media/shares/{ids[0]}.svg"}
    card = client.get(share.json()["url"])
    assert card.status_code == 200
    assert card.headers["content-type"] == "image/svg+xml"
    assert card.text.startswith("<svg") and ids[0] in card.text


def test_queue_consumer_and_cron_roll_up_daily_stats(client: httpx.Client) -> None:
    """submit → queue → consumer writes quiz_analytics → cron rolls up quiz_daily_stats."""
    quiz = client.get("/api/quizzes/generate/quick").json()
    users = [f"stats-{time.time_ns()}-{i}" for i in range(3)]
    for user in [*users, users[0]]:  # 4 submissions by 3 users
        response = client.post("/api/quizzes/submit", json={
            "quiz_id": quiz["id"], "quiz_type": "quick", "user_id": user, "answers": answers_for(quiz)})
        assert response.status_code == 201
    deadline = time.monotonic() + 20
    quick: list[dict[str, object]] = []
    while time.monotonic() < deadline:
        assert client.get("/__scheduled", params={"cron": "0 0 * * *"}).status_code == 200
        stats = client.get("/api/stats/daily").json()["stats"]
        quick = [row for row in stats if row["quiz_type"] == "quick"]
        if quick and int(quick[0]["submissions"]) >= 4:  # type: ignore[call-overload]
            break
        time.sleep(0.5)
    assert quick, "the consumer never delivered the analytics events"
    today = time.strftime("%Y-%m-%d", time.gmtime())
    assert quick[0]["day"] == today
    assert int(quick[0]["submissions"]) >= 4 and int(quick[0]["unique_users"]) >= 3  # type: ignore[call-overload]


def test_anonymous_submission_is_allowed(client: httpx.Client) -> None:
    quiz = client.get("/api/quizzes/generate/mood").json()
    response = client.post("/api/quizzes/submit", json={
        "quiz_id": quiz["id"], "quiz_type": "mood", "user_id": None, "answers": answers_for(quiz)})
    assert response.status_code == 201


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"[]",
        b'{"quiz_type": "big5", "answers": {"big5-o1": 3}}',
        b'{"quiz_id": "q", "quiz_type": "tarot", "answers": {"big5-o1": 3}}',
        b'{"quiz_id": "q", "quiz_type": "big5", "answers": {"big5-o1": 9}}',
        b'{"quiz_id": "q", "quiz_type": "big5", "answers": {"nope": 3}}',
        b'{"quiz_id": "q", "quiz_type": "big5", "answers": {}}',
        b'{"quiz_id": "q", "quiz_type": "big5", "user_id": 7, "answers": {"big5-o1": 3}}',
    ],
)
def test_malformed_submission_is_400(client: httpx.Client, body: bytes) -> None:
    response = client.post("/api/quizzes/submit", content=body, headers={"content-type": "application/json"})
    assert response.status_code == 400
    assert "error" in response.json()


def test_static_assets_served_around_the_worker(client: httpx.Client) -> None:
    page = client.get("/")
    assert page.status_code == 200
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    assert "Personality Spark" in page.text
    etag = page.headers["etag"]
    assert client.get("/", headers={"if-none-match": etag}).status_code == 304
    assert client.get("/app.js").headers["content-type"] == "text/javascript; charset=utf-8"
    assert client.get("/style.css").headers["content-type"] == "text/css; charset=utf-8"
    assert client.get("/health").json() == {"d1": "ok", "kv": "ok", "r2": "ok"}  # no asset: the Worker answers


def test_unknown_result_and_media_are_404(client: httpx.Client) -> None:
    assert client.post("/api/share/does-not-exist").status_code == 404
    assert client.get("/media/shares/does-not-exist.svg").status_code == 404


def test_data_survives_a_restart(tmp_path: Path) -> None:
    state = tmp_path / "state"
    state.mkdir()
    first = DevServer(EXAMPLE, state, "--no-reload")
    try:
        first.wait_ready()
        quiz = httpx.get(first.base + "/api/quizzes/generate/quick").json()
        submitted = httpx.post(first.base + "/api/quizzes/submit", json={
            "quiz_id": quiz["id"], "quiz_type": "quick", "user_id": "persist", "answers": answers_for(quiz)}).json()
    finally:
        first.stop()
    second = DevServer(EXAMPLE, state, "--no-reload")
    try:
        second.wait_ready()
        assert httpx.get(second.base + "/api/quizzes/generate/quick").json() == quiz  # KV survived
        results = httpx.get(second.base + "/api/users/persist/results").json()["results"]
        assert [r["id"] for r in results] == [submitted["id"]]  # D1 survived
    finally:
        second.stop()


def test_dev_reloads_on_source_change(tmp_path: Path) -> None:
    project = tmp_path / "hello"
    (project / "src").mkdir(parents=True)
    (project / "wrangler.toml").write_text('name = "hello"\nmain = "src/entry.py"\n'
                                           'compatibility_flags = ["python_workers"]\n')
    entry = project / "src" / "entry.py"
    entry.write_text('from workers import Response, WorkerEntrypoint\n\n'
                     'class Default(WorkerEntrypoint):\n'
                     '    async def fetch(self, request):\n'
                     '        return Response("v1")\n')
    dev = DevServer(project, _mkdir(tmp_path / "state"))
    try:
        dev.wait_ready("/")
        assert httpx.get(dev.base + "/").text == "v1"
        entry.write_text(entry.read_text().replace('"v1"', '"v2"'))
        deadline = time.monotonic() + 30
        body = ""
        while time.monotonic() < deadline and body != "v2":
            time.sleep(0.3)
            try:
                body = httpx.get(dev.base + "/", timeout=2).text
            except httpx.HTTPError:
                continue
        assert body == "v2", dev.log.read_text()
    finally:
        dev.stop()


def _mkdir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path


def test_serve_runs_several_worker_processes(tmp_path: Path) -> None:
    project = tmp_path / "app"
    shutil.copytree(EXAMPLE, project, ignore=shutil.ignore_patterns(".portflare"))
    state = _mkdir(tmp_path / "state")
    port = free_port()
    log = (tmp_path / "serve.log").open("wb")
    # `serve` does not apply migrations (as `wrangler deploy` does not): apply them first, as an operator would.
    subprocess.run([sys.executable, "-m", "portflare", "d1", "migrations", "apply", "DB", "-c", str(project),
                    "--persist-to", str(state)], check=True, capture_output=True)
    proc = subprocess.Popen([sys.executable, "-m", "portflare", "serve", str(project), "--port", str(port),
                             "--workers", "2", "--persist-to", str(state)], stdout=log, stderr=subprocess.STDOUT)
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(base + "/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, (tmp_path / "serve.log").read_text()
            time.sleep(0.2)
        quiz = httpx.get(base + "/api/quizzes/generate/daily").json()
        for _ in range(10):  # spread over both processes; all share the same SQLite files
            assert httpx.get(base + "/api/quizzes/generate/daily").json() == quiz
            response = httpx.post(base + "/api/quizzes/submit", json={
                "quiz_id": quiz["id"], "quiz_type": "daily", "user_id": "multi", "answers": answers_for(quiz)})
            assert response.status_code == 201
        assert len(httpx.get(base + "/api/users/multi/results?limit=100").json()["results"]) == 10
        boom = httpx.get(base + "/api/share/x", timeout=5)  # GET on a POST route: a Worker-made 405
        assert boom.status_code == 405
    finally:
        proc.terminate()
        proc.wait(timeout=15)
        log.close()

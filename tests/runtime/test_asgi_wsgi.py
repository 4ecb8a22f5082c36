"""FastAPI through ``asgi.fetch`` and Flask through ``wsgi.fetch``, inside Workers served by portflare."""

from __future__ import annotations

import httpx
import pytest

from tests.asgi_client import app_of
from tests.runtime.conftest import asgi_messages


@pytest.fixture
async def fastapi_client(serve) -> httpx.AsyncClient:
    return await serve("fastapi_app")


async def test_scope_env_and_lifespan_state(fastapi_client: httpx.AsyncClient) -> None:
    response = await fastapi_client.get("/env")
    assert response.json() == {"message": "from fastapi", "state": True}


async def test_asgi_env_dependency(fastapi_client: httpx.AsyncClient) -> None:
    assert (await fastapi_client.get("/dep")).json() == {"message": "from fastapi"}


async def test_json_body_path_and_query(fastapi_client: httpx.AsyncClient) -> None:
    response = await fastapi_client.post("/items/7?x=%20y", json={"a": 1})
    assert response.json() == {"id": 7, "body": {"a": 1}, "path": "/items/7", "query": "x=%20y"}
    assert response.headers["content-type"] == "application/json"


async def test_lifespan_runs_around_every_request(fastapi_client: httpx.AsyncClient) -> None:
    first = (await fastapi_client.get("/lifespan")).json()
    second = (await fastapi_client.get("/lifespan")).json()
    # Startup already ran for this request; shutdown of the previous request completed before it.
    assert second["startup"] == first["startup"] + 1
    assert second["shutdown"] == first["shutdown"] + 1
    assert second["startup"] == second["shutdown"] + 1


async def test_streaming_response_streams_through(fastapi_client: httpx.AsyncClient) -> None:
    messages = await asgi_messages(app_of(fastapi_client), "/stream")
    bodies = [m["body"] for m in messages[1:] if m.get("body")]
    assert b"".join(bodies) == b"part0\npart1\npart2\n"
    assert len(bodies) == 3


async def test_route_exception_becomes_500(fastapi_client: httpx.AsyncClient) -> None:
    response = await fastapi_client.get("/fail")
    assert response.status_code == 500


async def test_not_found_from_fastapi(fastapi_client: httpx.AsyncClient) -> None:
    response = await fastapi_client.get("/nope")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not Found"}


async def test_flask_environ_env_and_query(serve) -> None:
    client = await serve("flask_app")
    response = await client.get("/?q=search")
    assert response.json() == {"message": "from flask", "path": "/", "q": "search"}


async def test_flask_form_post(serve) -> None:
    client = await serve("flask_app")
    response = await client.post("/form", data={"name": "ada"}, headers={"user-agent": "tester"})
    assert response.json() == {"name": "ada", "agent": "tester"}

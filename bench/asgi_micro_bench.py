"""In-process cost of one request through ``create_app`` against a bare ASGI callable (no sockets, no uvicorn).

Both apps are driven with the same uvicorn-shaped ``http`` scope in a loop on one event loop (uvloop when
installed, as ``portflare serve`` uses), after the Worker's lifespan startup. The Worker is the one
``bench/http_bench.py`` serves (``/`` is hello-world, ``/kv`` a JSON route reading KV). It prints µs per
request for each and the bare/portflare throughput ratio: the repeatable number behind the HTTP bench, since
the HTTP ratio also carries uvicorn's own per-request cost on both sides. ``--profile`` prints the top of a
cProfile of the portflare loop. Usage::

    .venv/bin/python bench/asgi_micro_bench.py [--requests 20000] [--path /] [--profile]
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import pstats
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from http_bench import BARE_APP, HELLO_WORKER, WRANGLER

from portflare.config import load_config
from portflare.runtime.app import create_app


def scope_for(path: str) -> dict[str, Any]:
    # What uvicorn's httptools protocol builds for the load generator's request.
    return {"type": "http", "asgi": {"version": "3.0", "spec_version": "2.3"}, "http_version": "1.1",
            "server": ("127.0.0.1", 8787), "client": ("127.0.0.1", 50000), "scheme": "http", "method": "GET",
            "root_path": "", "path": path, "raw_path": path.encode(), "query_string": b"",
            "headers": [(b"host", b"127.0.0.1:8787"), (b"user-agent", b"http_bench")], "state": {}}


async def drive(app: Any, path: str, n: int) -> float:
    """Seconds for ``n`` sequential requests; checks the last response is a complete 200."""
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    start = time.perf_counter()
    for _ in range(n):
        sent.clear()
        await app(scope_for(path), receive, send)
    elapsed = time.perf_counter() - start
    assert sent[0]["status"] == 200 and not sent[-1].get("more_body", False), sent
    return elapsed


async def lifespan_started(app: Any) -> tuple[asyncio.Queue[dict[str, Any]], asyncio.Task[None]]:
    inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    outbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    task = asyncio.create_task(app({"type": "lifespan", "asgi": {"version": "3.0"}}, inbox.get, outbox.put))
    await inbox.put({"type": "lifespan.startup"})
    message = await outbox.get()
    if message["type"] != "lifespan.startup.complete":
        raise RuntimeError(message.get("message", "lifespan startup failed"))
    return inbox, task


async def run(args: argparse.Namespace, work: Path) -> None:
    project = work / "worker"
    (project / "src").mkdir(parents=True)
    (project / "src" / "entry.py").write_text(HELLO_WORKER)
    (project / "wrangler.toml").write_text(WRANGLER)
    bare: dict[str, Any] = {}
    exec(BARE_APP, bare)

    app = create_app(load_config(project), state_dir=work / "state", dev=False)
    inbox, task = await lifespan_started(app)
    try:
        await drive(app, args.path, 1000)  # warm up (imports, first KV write)
        await drive(bare["app"], args.path, 1000)
        best_pf = best_bare = float("inf")
        for _ in range(args.rounds):  # best of a few rounds: the machine is shared
            best_pf = min(best_pf, await drive(app, args.path, args.requests))
            best_bare = min(best_bare, await drive(bare["app"], args.path, args.requests))
        if args.profile:
            profiler = cProfile.Profile()
            profiler.enable()
            await drive(app, args.path, args.requests)
            profiler.disable()
            pstats.Stats(profiler).sort_stats("tottime").print_stats(args.profile_lines)
    finally:
        await inbox.put({"type": "lifespan.shutdown"})
        await task

    us_pf, us_bare = best_pf / args.requests * 1e6, best_bare / args.requests * 1e6
    print(f"path {args.path}, {args.requests} requests, best of {args.rounds}; portflare from "
          f"{Path(sys.modules['portflare'].__file__ or '?').parent}")
    print(f"portflare create_app  {us_pf:8.1f} µs/request  {1e6 / us_pf:10.0f} req/s")
    print(f"bare ASGI callable    {us_bare:8.1f} µs/request  {1e6 / us_bare:10.0f} req/s")
    print(f"portflare / bare throughput x{us_bare / us_pf:.3f}; portflare overhead {us_pf - us_bare:.1f} µs/request")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--path", default="/", help="/ (hello) or /kv (JSON from KV)")
    parser.add_argument("--profile", action="store_true", help="print a cProfile of the portflare loop")
    parser.add_argument("--profile-lines", type=int, default=30)
    args = parser.parse_args()
    try:
        import uvloop

        loop_factory: Any = uvloop.new_event_loop
    except ImportError:
        loop_factory = asyncio.new_event_loop
    work = Path(tempfile.mkdtemp(prefix="portflare-asgi-micro-"))
    try:
        with asyncio.Runner(loop_factory=loop_factory) as runner:
            runner.run(run(args, work))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()

"""HTTP throughput and latency of a Python Worker under ``portflare serve`` against a bare ASGI app under uvicorn.

Three targets on two servers, each started as a subprocess with one worker process on 127.0.0.1, loaded by
the same asyncio load generator (keep-alive HTTP/1.1 over raw asyncio streams, ``--connections`` concurrent
connections, bounded by ``--duration`` seconds and ``--max-requests`` requests per target). The targets take
turns in ``--rounds`` short rounds, so a busy neighbour on a shared machine slows all of them alike:

(a) ``hello``: a hello-world Python Worker (``class Default(WorkerEntrypoint)``) served by ``portflare serve``;
(b) ``bare``: the same bytes (status, ``content-type``, body) from a bare ASGI 3 callable under uvicorn with the
    settings ``portflare serve`` uses (uvicorn's defaults: uvloop/httptools when installed, lifespan on, no
    ``server`` header) -- the reference;
(c) ``kv-json``: a JSON route of the same Worker reading a value through its KV binding (embedded SQLite).

It prints requests/s, p50 and p99 latency per target, and the portflare/bare ratios.

Miniflare 4 as a further column: not included. ``npm install miniflare@4`` works from the npm registry (it
brings workerd 1.20260426.1), but a *Python* Worker needs the Pyodide runtime bundle, which workerd downloads
from Cloudflare's bundle server when it starts rather than shipping it in the npm package. On a machine that
reaches only package registries, workerd aborts at startup ("DNS lookup failed" for that host), so there is no
local Miniflare number for a Python Worker here.

The load generator shares the machine's cores with the server under test, so absolute numbers understate the
server; the ratios are what to compare. Usage::

    .venv/bin/python bench/http_bench.py [--duration 5] [--rounds 5] [--connections 32] [--max-requests 200000]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

HELLO_WORKER = '''\
from workers import Response, WorkerEntrypoint


class Default(WorkerEntrypoint):
    async def fetch(self, request):
        if request.url.endswith("/kv"):
            value = await self.env.KV.get("config", "json")
            if value is None:
                value = {"feature": "on", "limit": 100, "tags": ["a", "b"]}
                await self.env.KV.put("config", '{"feature": "on", "limit": 100, "tags": ["a", "b"]}')
            return Response.json(value)
        return Response("Hello World!")
'''

WRANGLER = '''\
name = "bench-hello"
main = "src/entry.py"
compatibility_date = "2025-11-02"
compatibility_flags = ["python_workers"]

[[kv_namespaces]]
binding = "KV"
id = "bench"
'''

BARE_APP = '''\
BODY = b"Hello World!"
HEADERS = [(b"content-type", b"text/plain;charset=UTF-8"), (b"content-length", str(len(BODY)).encode())]


async def app(scope, receive, send):
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    await send({"type": "http.response.start", "status": 200, "headers": HEADERS})
    await send({"type": "http.response.body", "body": BODY})
'''


@dataclass
class Result:
    name: str
    requests: int
    errors: int
    seconds: float
    latencies: list[float]

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def percentile(self, p: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] * 1000


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def read_response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split(b" ", 2)[1])
    length = 0
    chunked = False
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        key = name.strip().lower()
        if key == b"content-length":
            length = int(value.strip())
        elif key == b"transfer-encoding" and b"chunked" in value.lower():
            chunked = True
    if not chunked:
        return status, await reader.readexactly(length)
    body = bytearray()
    while True:
        size = int((await reader.readuntil(b"\r\n")).strip().split(b";")[0], 16)
        if size == 0:
            await reader.readuntil(b"\r\n")
            return status, bytes(body)
        body += await reader.readexactly(size)
        await reader.readexactly(2)


async def load(name: str, port: int, path: str, *, connections: int, duration: float, max_requests: int,
               expect: bytes | None) -> Result:
    request = f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUser-Agent: http_bench\r\n\r\n".encode()
    latencies: list[float] = []
    errors = 0
    budget = max_requests
    deadline = time.perf_counter() + duration

    async def client() -> None:
        nonlocal errors, budget
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            while budget > 0 and time.perf_counter() < deadline:
                budget -= 1
                start = time.perf_counter()
                writer.write(request)
                status, body = await read_response(reader)
                latencies.append(time.perf_counter() - start)
                if status != 200 or (expect is not None and body != expect):
                    errors += 1
        finally:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(connections)))
    return Result(name, len(latencies), errors, time.perf_counter() - started, latencies)


def wait_ready(proc: subprocess.Popen[bytes], port: int, path: str, log: Path, timeout: float = 30) -> None:
    import urllib.request

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited early:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=2) as response:
                response.read()
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"server did not answer within {timeout}s:\n{log.read_text()}")


@contextlib.contextmanager
def server(command: list[str], port: int, ready_path: str, log: Path,
           cwd: Path) -> Iterator[subprocess.Popen[bytes]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PORTFLARE_")}
    with log.open("wb") as out:
        proc = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, cwd=cwd, env=env)
    try:
        wait_ready(proc, port, ready_path, log)
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=5.0, help="seconds of load per target (default 5)")
    parser.add_argument("--rounds", type=int, default=5, help="turns the targets take, splitting --duration")
    parser.add_argument("--connections", type=int, default=32, help="concurrent keep-alive connections")
    parser.add_argument("--max-requests", type=int, default=200_000, help="request cap per target")
    parser.add_argument("--json", action="store_true", help="also print the results as JSON")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="portflare-http-bench-"))
    try:
        project = work / "worker"
        (project / "src").mkdir(parents=True)
        (project / "src" / "entry.py").write_text(HELLO_WORKER)
        (project / "wrangler.toml").write_text(WRANGLER)
        (work / "bare_app.py").write_text(BARE_APP)
        pf_port, bare_port = free_port(), free_port()
        portflare = [sys.executable, "-m", "portflare", "serve", str(project), "--port", str(pf_port), "--workers",
                     "1", "--log-level", "warning", "--persist-to", str(work / "state")]
        bare = [sys.executable, "-m", "uvicorn", "bare_app:app", "--port", str(bare_port), "--workers", "1",
                "--log-level", "warning", "--no-server-header", "--lifespan", "on", "--no-access-log"]
        targets = [("portflare hello", pf_port, "/", b"Hello World!"), ("portflare kv-json", pf_port, "/kv", None),
                   ("bare uvicorn hello", bare_port, "/", b"Hello World!")]
        # Both servers run at once and the targets take turns, --rounds times: load from elsewhere on a
        # shared machine then slows every target alike instead of whichever happened to run at that moment.
        options = {"connections": args.connections, "duration": args.duration / args.rounds,
                   "max_requests": args.max_requests // args.rounds}
        rounds: dict[str, list[Result]] = {name: [] for name, *_ in targets}
        with server(portflare, pf_port, "/", work / "portflare.log", work), \
                server(bare, bare_port, "/", work / "bare.log", work):
            for _, port, path, _ in targets:
                asyncio.run(load("warmup", port, path, connections=4, duration=1, max_requests=2000, expect=None))
            for _ in range(args.rounds):
                for name, port, path, expect in targets:
                    rounds[name].append(asyncio.run(load(name, port, path, expect=expect, **options)))
        results = [Result(name, sum(r.requests for r in rs), sum(r.errors for r in rs),
                          sum(r.seconds for r in rs), [x for r in rs for x in r.latencies])
                   for name, rs in rounds.items()]
    finally:
        shutil.rmtree(work, ignore_errors=True)

    print(f"{'target':<22}{'requests':>10}{'errors':>8}{'req/s':>10}{'p50 ms':>9}{'p99 ms':>9}")
    for r in results:
        print(f"{r.name:<22}{r.requests:>10}{r.errors:>8}{r.rps:>10.0f}{r.percentile(50):>9.2f}{r.percentile(99):>9.2f}")
    by_name = {r.name: r for r in results}
    bare_r = by_name["bare uvicorn hello"]
    for name in ("portflare hello", "portflare kv-json"):
        r = by_name[name]
        p50, p99 = r.percentile(50) / bare_r.percentile(50), r.percentile(99) / bare_r.percentile(99)
        print(f"{name} / bare: throughput x{r.rps / bare_r.rps:.2f}, p50 x{p50:.2f}, p99 x{p99:.2f}")
    if args.json:
        print(json.dumps([{"name": r.name, "requests": r.requests, "errors": r.errors, "rps": r.rps,
                           "p50_ms": r.percentile(50), "p99_ms": r.percentile(99),
                           "mean_ms": statistics.fmean(r.latencies) * 1000 if r.latencies else None}
                          for r in results], indent=2))


if __name__ == "__main__":
    main()

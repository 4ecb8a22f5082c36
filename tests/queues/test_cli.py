"""``portflare queues list|info|purge|redrive`` over the embedded backend (the same code drives Redis)."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from click.testing import CliRunner

from portflare.bindings.queues import open_backend, open_producer, queue_target
from portflare.cli.queues import queues
from portflare.config import load_config, state_dir

WRANGLER = """
name = "shop"
main = "entry.py"
compatibility_date = "2025-06-01"
[[queues.producers]]
binding = "ORDERS"
queue = "orders"
[[queues.consumers]]
queue = "orders"
max_retries = 2
dead_letter_queue = "orders-dlq"
"""


def project(tmp_path: Path) -> str:
    (tmp_path / "wrangler.toml").write_text(WRANGLER)
    return str(tmp_path)


async def _fill(path: str, queue: str, count: int) -> None:
    config = load_config(path)
    producer = next(p for p in config.queue_producers)
    backend = await open_backend(queue_target(queue, state_dir(config)))
    q = await open_producer(producer, config, state_dir(config))
    q._backend = backend  # the same producer code, aimed at any configured queue
    await q.sendBatch([{"body": i} for i in range(count)])
    await q._aclose()


def test_list_info_purge_redrive(tmp_path: Path) -> None:
    p = project(tmp_path)
    asyncio.run(_fill(p, "orders", 3))
    asyncio.run(_fill(p, "orders-dlq", 2))
    runner = CliRunner()

    listed = runner.invoke(queues, ["list", "-c", p])
    assert listed.exit_code == 0, listed.output
    lines = listed.stdout.splitlines()
    assert lines[0].split() == ["QUEUE", "PRODUCERS", "CONSUMER", "MESSAGES", "IN", "FLIGHT", "BACKEND"]
    assert lines[1].split()[:5] == ["orders", "ORDERS", "yes", "3", "0"]
    assert lines[2].split()[:5] == ["orders-dlq", "-", "-", "2", "0"]

    info = runner.invoke(queues, ["info", "orders", "-c", p])
    assert info.exit_code == 0, info.output
    assert "Messages:          3" in info.stdout and "max_retries=2" in info.stdout
    assert "Dead-letter queue: orders-dlq (2 messages)" in info.stdout

    redrive = runner.invoke(queues, ["redrive", "orders-dlq", "--to", "orders", "-c", p])
    assert redrive.exit_code == 0, redrive.output
    assert "Moved 2 messages from 'orders-dlq' to 'orders'." in redrive.stderr
    assert "Messages:          5" in runner.invoke(queues, ["info", "orders", "-c", p]).stdout

    # as wrangler: the queue's name must be typed to proceed; "y" is not enough
    prompt = "This operation will permanently delete all the messages in Queue orders. Type orders to proceed."
    for answer in ("y\n", "\n", "orders-dlq\n"):
        refused = runner.invoke(queues, ["purge", "orders", "-c", p], input=answer)
        assert refused.exit_code == 1 and prompt in refused.stderr
        assert "Incorrect queue name provided. Skipping purge operation" in refused.stderr
    assert "Messages:          5" in runner.invoke(queues, ["info", "orders", "-c", p]).stdout
    purged = runner.invoke(queues, ["purge", "orders", "-c", p], input="orders\n")
    assert purged.exit_code == 0 and "Purged Queue 'orders' (5 messages)." in purged.stderr
    assert "Messages:          0" in runner.invoke(queues, ["info", "orders", "-c", p]).stdout
    asyncio.run(_fill(p, "orders", 1))
    forced = runner.invoke(queues, ["purge", "orders", "-c", p, "--force"])
    assert forced.exit_code == 0 and "Purged Queue 'orders' (1 message)." in forced.stderr
    assert prompt not in forced.stderr


def test_redrive_keeps_ids_and_timestamps(tmp_path: Path) -> None:
    p = project(tmp_path)
    asyncio.run(_fill(p, "orders-dlq", 1))

    async def peek(queue: str) -> tuple[str, int]:
        backend = await open_backend(queue_target(queue, state_dir(load_config(p))))
        [d] = await backend.receive(1, 0.001, time.time())
        await backend.release([d], time.time())
        await backend.close()
        return d.id, d.timestamp_ms

    before = asyncio.run(peek("orders-dlq"))
    assert CliRunner().invoke(queues, ["redrive", "orders-dlq", "--to", "orders", "-c", p]).exit_code == 0
    assert asyncio.run(peek("orders")) == before


def test_unknown_queue_is_one_line_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(queues, ["info", "nope", "-c", project(tmp_path)])
    assert result.exit_code == 1
    assert "no queue named 'nope' (configured: orders, orders-dlq)" in result.stderr

"""From a wrangler file to what the runtime builds: every consumer setting reaches the consumer loop, a
producer's ``delivery_delay`` and the compatibility date's default content type reach ``env.<BINDING>``."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from portflare.config import Config, QueueConsumer, QueueProducer, load_config
from portflare.errors import ConfigError
from portflare.runtime.background import run_background
from portflare.runtime.consumers import Consumer, concurrency_limit
from portflare.runtime.env import open_env

WRANGLER = """
name = "wired"
main = "entry.py"
compatibility_date = "{date}"

[[queues.producers]]
binding = "EVENTS"
queue = "events"
delivery_delay = 30

[[queues.producers]]
binding = "NOW"
queue = "now"

[[queues.consumers]]
queue = "events"
max_batch_size = 7
max_batch_timeout = 3
max_retries = 4
dead_letter_queue = "events-dlq"
retry_delay = 9
max_concurrency = 2
"""


def project(tmp_path: Path, date: str = "2025-06-01") -> Config:
    (tmp_path / "wrangler.toml").write_text(WRANGLER.format(date=date))
    (tmp_path / "entry.py").write_text("")
    return load_config(tmp_path)


async def nothing(_: Any) -> None: ...


async def test_consumer_settings_reach_the_consumer_loop(tmp_path: Path) -> None:
    config = project(tmp_path)
    async with open_env(config, tmp_path / "state") as env, \
            run_background(config, env, tmp_path / "state", nothing, None) as background:
        [consumer] = background.consumers
        assert isinstance(consumer, Consumer)
        s = consumer.settings
        assert (s.queue, s.max_batch_size, s.max_batch_timeout, s.max_retries, s.retry_delay, s.max_concurrency) == (
            "events", 7, 3, 4, 9, 2)
        assert concurrency_limit(s) == 2
        assert s.dead_letter_queue == "events-dlq" and consumer.dead_letter is not None


async def test_delivery_delay_reaches_the_producer(tmp_path: Path) -> None:
    config = project(tmp_path)
    async with open_env(config, tmp_path / "state") as env:
        await env.EVENTS.send("later", contentType="text")
        await env.NOW.send("now", contentType="text")
        stats_events = await env.EVENTS._backend.stats(time.time())
        stats_now = await env.NOW._backend.stats(time.time())
    assert (stats_events.ready, stats_events.delayed) == (0, 1)
    assert (stats_now.ready, stats_now.delayed) == (1, 0)


@pytest.mark.parametrize(("date", "content_type"), [("2024-03-17", "v8"), ("2024-03-18", "json")])
async def test_the_compatibility_date_picks_the_default_content_type(tmp_path: Path, date: str,
                                                                     content_type: str) -> None:
    config = project(tmp_path, date)
    async with open_env(config, tmp_path / "state") as env:
        await env.NOW.send({"kind": "answer"})
        [delivery] = await env.NOW._backend.receive(10, 30, time.time())
    assert delivery.content_type == content_type


@pytest.mark.parametrize("delay", [99_999, -1])
async def test_an_out_of_range_delivery_delay_is_never_used(tmp_path: Path, delay: int) -> None:
    # Config loading rejects it too; the producer checks again, whoever built the Config.
    config = Config(path=tmp_path / "wrangler.toml", root=tmp_path, name="w", main=tmp_path / "entry.py",
                    queue_producers=(QueueProducer("EVENTS", "events", delivery_delay=delay),))
    with pytest.raises(ConfigError, match=f"binding EVENTS\\): delivery_delay = {delay} is out of range: must be an "
                                          "integer from 0 to 43200 seconds"):
        async with open_env(config, tmp_path / "state"):
            pass


async def test_an_out_of_range_retry_delay_is_never_used(tmp_path: Path) -> None:
    config = Config(path=tmp_path / "wrangler.toml", root=tmp_path, name="w", main=tmp_path / "entry.py",
                    queue_consumers=(QueueConsumer("events", retry_delay=50_000),))
    with pytest.raises(ConfigError, match="retry_delay = 50000 is out of range"):
        async with run_background(config, None, tmp_path / "state", nothing, None):
            pass

"""``Lru``: the bound on the per-statement caches of the server backends."""

from __future__ import annotations

import pytest

from portflare.bindings.d1.lru import Lru


def test_adding_past_the_size_drops_the_least_recently_used() -> None:
    cache: Lru[str, int] = Lru(3)
    for i, key in enumerate("abc"):
        cache.put(key, i)
    assert cache.get("a") == 0  # a is now the most recent; b the least
    cache.put("d", 3)
    assert len(cache) == 3
    assert "b" not in cache
    assert [cache.get(k) for k in "acd"] == [0, 2, 3]


def test_replacing_a_value_refreshes_it() -> None:
    cache: Lru[str, int] = Lru(2)
    cache.put("a", 1)
    cache.put("b", 2)
    cache.put("a", 10)
    cache.put("c", 3)
    assert cache.get("a") == 10 and cache.get("b") is None


def test_clear_and_size() -> None:
    cache: Lru[int, str] = Lru(1)
    cache.put(1, "x")
    cache.clear()
    assert len(cache) == 0 and cache.get(1) is None
    with pytest.raises(ValueError):
        Lru(0)

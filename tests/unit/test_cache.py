"""The shared query context's cache stays bounded however many places visitors look at."""
from __future__ import annotations

import threading

import pytest

from indicators import query
from indicators.cache import BoundedCache


def test_each_kind_keeps_at_most_its_limit_and_drops_the_least_recently_used() -> None:
    cache = BoundedCache({"area": 3}, default=5)
    for i in range(4):
        cache[("area", i)] = i
        if i == 2:
            assert cache.get(("area", 0)) == 0  # touch 0: 1 is now the least recently used
    assert cache.count("area") == 3
    assert ("area", 1) not in cache and ("area", 0) in cache and ("area", 3) in cache


def test_one_kind_filling_up_never_evicts_another() -> None:
    cache = BoundedCache({"area": 2}, default=2)
    cache[("periods", "x")] = "kept"
    for i in range(100):
        cache[("area", i)] = i
    assert cache[("periods", "x")] == "kept" and len(cache) == 3


def test_missing_key_behaves_like_a_dict() -> None:
    cache = BoundedCache()
    assert cache.get(("a", 1)) is None and cache.get(("a", 1), 7) == 7 and ("a", 1) not in cache
    with pytest.raises(KeyError):
        cache[("a", 1)]


def test_limits_below_one_are_refused() -> None:
    with pytest.raises(ValueError):
        BoundedCache({"area": 0})


def test_concurrent_sessions_never_push_it_past_its_limit() -> None:
    cache = BoundedCache({"area": 16})

    def visit(offset: int) -> None:
        for i in range(2000):
            cache[("area", offset * 10_000 + i)] = i
            cache.get(("area", offset * 10_000 + i // 2))

    threads = [threading.Thread(target=visit, args=(n,)) for n in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert cache.count("area") == 16


def test_context_keeps_a_bounded_number_of_per_area_splits() -> None:
    """Looking at every place in turn (as a soak test's visitors do) leaves at most the limit in memory."""
    ctx = query.context()
    areas = ctx.areas.loc[ctx.areas["level"] == "ltla", "areacd"].drop_duplicates().tolist()
    limit = query.CACHE_LIMITS["area_ind"]
    assert len(areas) > limit
    for areacd in areas[: limit + 40]:
        ctx.area_indicator(areacd, "no-such-indicator")
    assert ctx._cache.count("area_ind") == limit

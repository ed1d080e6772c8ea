"""Metadata's caches are bounded by bytes (issue #10 item 2): huge trees, tree maps, object facts
and raw commits never take more than the budget, measured with tracemalloc against the real
allocations, and an entry larger than half the budget is not kept."""
from __future__ import annotations

import gc
import hashlib
import tracemalloc

from services.metadata import gitformat as gf
from services.metadata.cache import LRU, weigh_text, weigh_tree, weigh_tree_map
from services.metadata.objects import ObjectFacts, ObjectStore

MiB = 1024 * 1024


def _huge_tree(seed: int, entries: int) -> tuple[str, bytes]:
    """A raw tree of one folder with `entries` files (names zero-padded, so already in git order)."""
    sha = hashlib.sha1(b"blob %d" % seed).digest()
    data = b"".join(b"100644 file-%d-%06d.safetensors\0" % (seed, i) + sha for i in range(entries))
    return hashlib.sha1(b"tree %d\0" % len(data) + data).hexdigest(), data


def _held_by(fill) -> int:
    """Bytes still allocated after `fill()` ran (and dropped everything but the cache's contents)."""
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        fill()
        gc.collect()
        return tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()


def test_parsed_trees_stay_within_the_budget():
    cache: LRU = LRU(8 * MiB, weigh_tree)

    def fill():
        for seed in range(12):                          # ~12 x 2.5 MB of parsed trees offered
            oid, data = _huge_tree(seed, 10_000)
            cache.put(oid, gf.parse_tree(data))
    held = _held_by(fill)
    assert cache.bytes <= cache.max_bytes
    assert len(cache) >= 2                              # it does cache them
    assert held <= cache.max_bytes * 1.1, (held, cache.bytes)
    assert held >= cache.bytes * 0.5                    # the estimate is not wildly pessimistic either


def test_tree_maps_facts_and_commits_stay_within_the_budget():
    maps: LRU = LRU(6 * MiB, weigh_tree_map)
    facts: LRU = LRU(4 * MiB)
    small: LRU = LRU(2 * MiB, weigh_text)

    def fill():
        for seed in range(8):
            oid, data = _huge_tree(seed, 5_000)
            maps.put(oid, {i.name: i for i in gf.parse_tree(data)})
        for i in range(40_000):
            key = hashlib.sha1(b"%d" % i).hexdigest()
            facts.put(key, ObjectFacts(gf.BLOB, 134, hashlib.sha256(key.encode()).hexdigest(), 10 ** 9 + i))
        for i in range(4_000):
            small.put(hashlib.sha1(b"c%d" % i).hexdigest(), b"tree " + b"x" * 2000 + b"%d" % i)
    held = _held_by(fill)
    for cache in (maps, facts, small):
        assert 0 < cache.bytes <= cache.max_bytes
    budget = maps.max_bytes + facts.max_bytes + small.max_bytes
    assert held <= budget * 1.1, (held, budget)


def test_an_entry_larger_than_half_the_budget_is_not_kept():
    cache: LRU = LRU(2 * MiB, weigh_tree)
    small_oid, small_data = _huge_tree(1, 1_000)
    cache.put(small_oid, gf.parse_tree(small_data))
    big_oid, big_data = _huge_tree(2, 10_000)
    cache.put(big_oid, gf.parse_tree(big_data))
    assert cache.get(big_oid) is None and cache.get(small_oid) is not None


def test_the_object_store_splits_its_budget_between_its_caches():
    store = ObjectStore(pool=None, cache_mb=64)
    budgets = {name: lru.max_bytes for name, lru in (("trees", store._trees), ("maps", store._maps),
                                                      ("facts", store._facts), ("small", store._small))}
    assert sum(budgets.values()) <= 64 * MiB and min(budgets.values()) > 0
    assert store.cache_bytes() == {"trees": 0, "facts": 0, "small": 0, "maps": 0}


def test_get_many_answers_hits_and_misses_and_keeps_what_it_touched():
    """get_many (the batched get a listing page uses) counts as a use of every key it finds: after
    it, the key it did not touch is the least recently used and goes first."""
    lru: LRU[str, str] = LRU(10_000, weigh_text)
    for key in ("a", "b", "c"):
        lru.put(key, key * 10)
    found, missing = lru.get_many(["a", "x", "c"])
    assert found == {"a": "a" * 10, "c": "c" * 10}
    assert missing == ["x"]
    lru.max_bytes = lru.bytes   # full: the next entry evicts exactly the least recently used one
    lru.put("d", "d" * 10)
    assert list(lru.keys()) == ["a", "c", "d"]

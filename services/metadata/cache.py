"""Bounded in-process LRUs for immutable values (git objects never change, so never invalidate).

Every cache is bounded by the bytes its entries take, not by their count: one parsed tree of a
folder with 100,000 files weighs as much as 100,000 small ones, and an item-count bound let the
metadata service grow by gigabytes under commit load (issue #10). Sizes are estimates of what
CPython 3.11 (64-bit) allocates for the key, the value and the LRU's own bookkeeping; the
`weigh_*` helpers below give them for the shapes cached here, and tests/metadata/test_cache_budget.py
measures them against tracemalloc. An entry larger than half the budget is not cached at all
(one huge tree must not evict everything else).
"""
from __future__ import annotations

import sys
from collections import OrderedDict
from collections.abc import Callable, Iterable
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")

ENTRY_OVERHEAD = 120       # OrderedDict slot, its linked-list node, and the size kept per key
STR_OVERHEAD = 49          # an ASCII str is 49 bytes plus one per character
BYTES_OVERHEAD = 33
OBJECT_OVERHEAD = 72       # a small slotted object (with the GC header) and a boxed int or two
TREE_ITEM = 64 + STR_OVERHEAD + 40 + BYTES_OVERHEAD + 32 + 8   # TreeItem, its oid str, name bytes, mode, slot
DICT_SLOT = 100            # one entry of a dict (hash table share, key reference)


def weigh_text(value: str | bytes) -> int:
    return (BYTES_OVERHEAD if isinstance(value, bytes) else STR_OVERHEAD) + len(value)


def weigh_tree(items: tuple) -> int:
    """A parsed tree: a tuple of TreeItems (name bytes, mode, 40-hex oid)."""
    return 56 + sum(TREE_ITEM + len(i.name) for i in items)


def weigh_tree_map(mapping: dict) -> int:
    """A tree's entries by name: the dict, and the items it holds (counted even when shared)."""
    return sys.getsizeof(mapping) + sum(TREE_ITEM + len(name) for name in mapping)


def weigh_any(value: object) -> int:
    """A coarse weight for small values (facts, flags, short strings, little lists)."""
    if isinstance(value, (str, bytes)):
        return weigh_text(value)
    if isinstance(value, (list, tuple)):
        return 56 + sum(weigh_any(v) for v in value)
    return OBJECT_OVERHEAD + sum(weigh_any(getattr(value, s)) for s in getattr(value, "__slots__", ())
                                 if isinstance(getattr(value, s, None), (str, bytes)))


class LRU(Generic[K, V]):
    """Least-recently-used entries go first once the estimated bytes exceed `max_bytes`."""

    def __init__(self, max_bytes: int, weigh: Callable[[V], int] = weigh_any) -> None:
        self.max_bytes = max_bytes
        self.weigh = weigh
        self.bytes = 0
        self._items: OrderedDict[K, tuple[V, int]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._items)

    def get(self, key: K) -> V | None:
        found = self._items.get(key)
        if found is None:
            return None
        self._items.move_to_end(key)
        return found[0]

    def get_many(self, keys: Iterable[K]) -> tuple[dict[K, V], list[K]]:
        """get() of many keys at once: (the values found, the keys missing). A listing page asks
        for a thousand facts; one call instead of a thousand halves the cache's share of it."""
        items, touch = self._items, self._items.move_to_end
        found: dict[K, V] = {}
        missing: list[K] = []
        for key in keys:
            hit = items.get(key)
            if hit is None:
                missing.append(key)
            else:
                touch(key)
                found[key] = hit[0]
        return found, missing

    def put(self, key: K, value: V) -> None:
        size = ENTRY_OVERHEAD + weigh_any(key) + self.weigh(value)
        old = self._items.pop(key, None)
        if old is not None:
            self.bytes -= old[1]
        if size > self.max_bytes // 2:
            return
        self._items[key] = (value, size)
        self.bytes += size
        while self.bytes > self.max_bytes:
            _, (_, dropped) = self._items.popitem(last=False)
            self.bytes -= dropped

    def keys(self) -> Iterable[K]:
        return self._items.keys()


def budget_bytes(total_mb: int, share: float) -> int:
    return int(total_mb * 1024 * 1024 * share)

"""Reading trees: path lookup, ordered walks for listings, and tree diffs for the indexes."""
from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

from . import gitformat as gf
from .objects import ObjectStore


@dataclass(frozen=True, slots=True)
class Entry:
    """A tree entry with its full path."""
    path: str
    mode: int
    oid: str

    @property
    def is_dir(self) -> bool:
        return gf.is_dir(self.mode)


def join(prefix: str, name: str) -> str:
    return f"{prefix}/{name}" if prefix else name


async def lookup(store: ObjectStore, root: str, path: str) -> Entry | None:
    """The entry at `path` ("" = the root tree itself), or None."""
    if not path:
        return Entry("", gf.DIR_MODE, root)
    oid, mode = root, gf.DIR_MODE
    for seg in path.split("/"):
        if not gf.is_dir(mode):
            return None
        name = seg.encode("utf-8", "surrogateescape")
        found = next((i for i in await store.tree(oid) if i.name == name), None)
        if found is None:
            return None
        oid, mode = found.oid, found.mode
    return Entry(path, mode, oid)


def order_key(item: gf.TreeItem) -> bytes:
    """git's tree order: a directory compares as `name/`."""
    return item.name + b"/" if gf.is_dir(item.mode) else item.name


async def walk(store: ObjectStore, tree_oid: str, prefix: str, *, recursive: bool,
               after: list[bytes] | None = None) -> AsyncIterator[tuple[Entry, list[bytes]]]:
    """Entries under a tree in listing order (a directory before its contents), with their
    position keys; with `after`, only the entries positioned after it (cursor pagination)."""
    items = sorted(await store.tree(tree_oid), key=order_key)
    if recursive:   # one query for all the subtrees of this directory
        await store.trees([i.oid for i in items if gf.is_dir(i.mode)])
    for item in items:
        key = order_key(item)
        entry = Entry(join(prefix, item.text), item.mode, item.oid)
        head = after[0] if after else None
        if head is None or key > head:
            yield entry, [key]
            if recursive and entry.is_dir:
                async for sub, subkey in walk(store, item.oid, entry.path, recursive=True):
                    yield sub, [key, *subkey]
        elif key == head and recursive and entry.is_dir:   # resume inside (or right after) this directory
            async for sub, subkey in walk(store, item.oid, entry.path, recursive=True, after=after[1:] or None):
                yield sub, [key, *subkey]


async def all_items(store: ObjectStore, tree_oid: str, prefix: str = "") -> AsyncIterator[Entry]:
    """Every entry under a tree, recursively (blobs and subtrees)."""
    async for entry, _ in walk(store, tree_oid, prefix, recursive=True):
        yield entry


@dataclass(frozen=True, slots=True)
class Change:
    path: str
    old: gf.TreeItem | None
    new: gf.TreeItem | None


async def diff(store: ObjectStore, old_tree: str | None, new_tree: str, prefix: str = "") -> list[Change]:
    """Every path (files and directories) whose entry differs between two trees; identical
    subtrees are skipped, added or removed subtrees are listed in full."""
    old_items = {i.name: i for i in (await store.tree(old_tree) if old_tree else ())}
    new_items = {i.name: i for i in await store.tree(new_tree)}
    await store.trees([i.oid for i in (*old_items.values(), *new_items.values()) if gf.is_dir(i.mode)])
    changes: list[Change] = []
    for name in sorted(old_items.keys() | new_items.keys()):
        old, new = old_items.get(name), new_items.get(name)
        if old is not None and new is not None and old.oid == new.oid and old.mode == new.mode:
            continue
        path = join(prefix, (new or old).text)
        changes.append(Change(path, old, new))
        old_dir = old.oid if old is not None and gf.is_dir(old.mode) else None
        new_dir = new.oid if new is not None and gf.is_dir(new.mode) else None
        if new_dir:
            changes.extend(await diff(store, old_dir, new_dir, path))
        elif old_dir:
            changes.extend(await _removed(store, old_dir, path))
    return changes


async def _removed(store: ObjectStore, tree_oid: str, prefix: str) -> list[Change]:
    return [Change(e.path, gf.TreeItem(e.path.rsplit("/", 1)[-1].encode(), e.mode, e.oid), None)
            async for e in all_items(store, tree_oid, prefix)]

"""Reading trees: path lookup, ordered walks for listings, and tree diffs for the indexes."""
from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import NamedTuple

from . import gitformat as gf
from .objects import ObjectStore


class Entry(NamedTuple):
    """A tree entry with its full path (a tuple: a listing builds one per entry, and a frozen
    dataclass's __init__ costs several times a tuple's)."""
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
        found = (await store.tree_map(oid)).get(name)
        if found is None:
            return None
        oid, mode = found.oid, found.mode
    return Entry(path, mode, oid)


def order_key(item: gf.TreeItem) -> bytes:
    """git's tree order: a directory compares as `name/`."""
    return item.name + b"/" if gf.is_dir(item.mode) else item.name


def position(entry: Entry) -> list[bytes]:
    """An entry's place in listing order: the order keys of the components of its path."""
    parts = [p.encode() for p in entry.path.split("/")]
    return [p + b"/" for p in parts[:-1]] + [parts[-1] + (b"/" if entry.is_dir else b"")]


async def load_subtrees(store: ObjectStore, root: str) -> dict[str, tuple[gf.TreeItem, ...]]:
    """Every tree under `root`, one query per level of depth (immutable, so cached too)."""
    out: dict[str, tuple[gf.TreeItem, ...]] = {}
    frontier = [root]
    while frontier:
        loaded = await store.trees(frontier)
        out.update(loaded)
        frontier = list({i.oid for items in loaded.values() for i in items
                         if gf.is_dir(i.mode) and i.oid not in out})
    return out


PREFETCH = 100   # sibling directories fetched along with the one a lazy walk needs next


@dataclass(frozen=True, slots=True)
class Missing:
    """walk_steps() needs these trees in `trees` before it goes on: the directory it descends into
    next, then the not yet loaded directories after it in the same tree (a listing reaches them
    next, so one query fetches them all)."""
    oids: list[str]


def walk(trees: dict[str, tuple[gf.TreeItem, ...]], tree_oid: str, prefix: str, *, recursive: bool,
         after: list[bytes] | None = None) -> Iterator[Entry]:
    """walk_steps() over trees that are all loaded already (load_subtrees)."""
    for step in walk_steps(trees, tree_oid, prefix, recursive=recursive, after=after):
        if isinstance(step, Missing):
            raise KeyError(step.oids[0])
        yield step


def walk_steps(trees: dict[str, tuple[gf.TreeItem, ...]], tree_oid: str, prefix: str, *, recursive: bool,
               after: list[bytes] | None = None) -> Iterator[Entry | Missing]:
    """Entries under a tree in listing order (git order, a directory before its contents); with
    `after` (a position), only the entries after it (cursor pagination). Trees are stored sorted.
    A directory whose tree is not in `trees` yet is announced with Missing: the caller adds the
    trees and the walk resumes, so a page of a listing loads only the trees it shows."""
    stack: list[list] = [[trees[tree_oid], 0, prefix, after]]
    while stack:
        frame = stack[-1]
        items, index, base, resume = frame
        if index >= len(items):
            stack.pop()
            continue
        item = items[index]
        frame[1] = index + 1
        is_dir = gf.is_dir(item.mode)
        descend = recursive and is_dir
        if resume:
            key = item.name + b"/" if is_dir else item.name
            if key < resume[0]:       # skipped entries before the cursor cost no path or Entry
                continue
            frame[3] = None
            if key == resume[0]:      # the resume point itself: continue inside it, if a directory
                if descend:
                    if item.oid not in trees:
                        yield Missing(_ahead(trees, items, index))
                    stack.append([trees[item.oid], 0, join(base, item.text), resume[1:] or None])
                continue
        entry = Entry(join(base, item.text), item.mode, item.oid)
        yield entry
        if descend:
            if item.oid not in trees:
                yield Missing(_ahead(trees, items, index))
            stack.append([trees[item.oid], 0, entry.path, None])


def _ahead(trees: dict, items: tuple[gf.TreeItem, ...], index: int) -> list[str]:
    wanted = [items[index].oid]
    for item in items[index + 1:]:
        if len(wanted) > PREFETCH:
            break
        if gf.is_dir(item.mode) and item.oid not in trees:
            wanted.append(item.oid)
    return wanted


async def all_items(store: ObjectStore, tree_oid: str, prefix: str = "") -> AsyncIterator[Entry]:
    """Every entry under a tree, recursively (blobs and subtrees)."""
    for entry in walk(await load_subtrees(store, tree_oid), tree_oid, prefix, recursive=True):
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

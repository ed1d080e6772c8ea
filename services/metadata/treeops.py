"""Applying commit operations to a tree. Only the trees on changed paths are loaded and rewritten
(O(depth x entries of those trees)); everything else keeps its object id."""
from __future__ import annotations

from typing import Protocol

from hangar_common.errors import BadRequest, EntryNotFound

from . import gitformat as gf


class TreeSource(Protocol):
    """Where the editor reads existing trees (the engine's object store)."""

    async def tree(self, oid: str) -> tuple[gf.TreeItem, ...]: ...


class _Dir:
    """A directory being edited: entries map a name to (mode, oid) or to an edited _Dir."""
    __slots__ = ("oid", "entries", "dirty")

    def __init__(self, oid: str | None) -> None:
        self.oid = oid
        self.entries: dict[bytes, tuple[int, str] | _Dir] | None = None if oid else {}
        self.dirty = oid is None


def _conflict(path: str, why: str) -> BadRequest:
    return BadRequest(f"Cannot apply operation on '{path}': {why}", code="PathConflict")


class TreeEditor:
    def __init__(self, store: TreeSource, root: str) -> None:
        self.store = store
        self.root = _Dir(root)

    async def _load(self, node: _Dir) -> dict:
        if node.entries is None:
            node.entries = {i.name: (i.mode, i.oid) for i in await self.store.tree(node.oid)}
        return node.entries

    async def _descend(self, segments: list[str], *, create: bool, path: str) -> list[_Dir] | None:
        """The chain of directories from the root to the parent of the last segment."""
        chain = [self.root]
        for seg in segments[:-1]:
            entries = await self._load(chain[-1])
            name = seg.encode()
            child = entries.get(name)
            if child is None:
                if not create:
                    return None
                child = entries[name] = _Dir(None)
            elif isinstance(child, tuple):
                if not gf.is_dir(child[0]):
                    if not create:
                        return None
                    raise _conflict(path, f"'{seg}' is a file")
                child = entries[name] = _Dir(child[1])
            chain.append(child)
        await self._load(chain[-1])
        return chain

    @staticmethod
    def _touch(chain: list[_Dir]) -> None:
        for node in chain:
            node.dirty = True

    async def get(self, path: str) -> tuple[int, str] | None:
        """(mode, oid) of the file at `path`, or None (directories answer None too)."""
        segments = path.split("/")
        chain = await self._descend(segments, create=False, path=path)
        if chain is None:
            return None
        entry = chain[-1].entries.get(segments[-1].encode())
        if isinstance(entry, tuple) and not gf.is_dir(entry[0]):
            return entry
        return None

    async def put(self, path: str, mode: int, oid: str) -> None:
        segments = path.split("/")
        chain = await self._descend(segments, create=True, path=path)
        name = segments[-1].encode()
        current = chain[-1].entries.get(name)
        if isinstance(current, _Dir) or (isinstance(current, tuple) and gf.is_dir(current[0])):
            raise _conflict(path, "a folder exists at this path")
        chain[-1].entries[name] = (mode, oid)
        self._touch(chain)

    async def delete_file(self, path: str) -> None:
        segments = path.split("/")
        chain = await self._descend(segments, create=False, path=path)
        name = segments[-1].encode()
        entry = chain[-1].entries.get(name) if chain else None
        if entry is None:
            raise EntryNotFound(f"File {path} not found, cannot delete it")
        # A path that names a folder deletes the folder, as on the Hub (huggingface_hub sends a
        # folder without its trailing slash as `deletedFile`).
        del chain[-1].entries[name]
        self._touch(chain)

    async def delete_folder(self, path: str) -> None:
        if not path:   # the whole tree
            self.root.entries, self.root.dirty = {}, True
            return
        segments = path.split("/")
        chain = await self._descend(segments, create=False, path=path)
        name = segments[-1].encode()
        entry = chain[-1].entries.get(name) if chain else None
        if entry is None or (isinstance(entry, tuple) and not gf.is_dir(entry[0])):
            raise EntryNotFound(f"Folder {path} not found, cannot delete it")
        del chain[-1].entries[name]
        self._touch(chain)

    def build(self) -> tuple[str, list[gf.RawObject]]:
        """The new root tree id and the new tree objects (empty folders disappear, as in git)."""
        new: list[gf.RawObject] = []
        oid = self._build(self.root, new)
        if oid is None:
            empty = gf.tree({})
            new.append(empty)
            oid = empty.oid
        return oid, new

    def _build(self, node: _Dir, new: list[gf.RawObject]) -> str | None:
        if not node.dirty:
            return node.oid
        flat: dict[bytes, tuple[int, str]] = {}
        for name, entry in node.entries.items():
            if isinstance(entry, _Dir):
                oid = self._build(entry, new)
                if oid is not None:
                    flat[name] = (gf.DIR_MODE, oid)
            else:
                flat[name] = entry
        if not flat:
            return None
        obj = gf.tree(flat)
        new.append(obj)
        return obj.oid

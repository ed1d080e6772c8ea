"""The changes of a commit against its first parent, as `git diff-tree` finds them: compare the two
root trees entry by entry and descend only into folders whose tree ids differ, so a commit that
touches three files of a 100k-file repo lists a few folders, never the whole repository. Text
changes are rendered with difflib; LFS and binary files show their size/oid change."""
from __future__ import annotations

import asyncio
import difflib
from dataclasses import dataclass, field

from hangar_common import errors
from hangar_common.grpcio import stream
from hangar_protos import common_pb2, metadata_pb2

from .access import Clients
from .reads import FileBytes

MAX_FILES = 300              # changed files listed
MAX_TEXT_FILES = 50          # of which rendered as text diffs
MAX_TEXT_BYTES = 256 * 1024  # per side
MAX_DIFF_LINES = 2000        # per file


@dataclass
class Change:
    status: str                              # "added" | "deleted" | "modified"
    path: str
    old: metadata_pb2.TreeEntry | None
    new: metadata_pb2.TreeEntry | None
    lines: list[tuple[str, str]] = field(default_factory=list)   # (kind, text): add/del/ctx/hunk
    note: str = ""
    added: int = 0
    removed: int = 0


async def _listing(c: Clients, repo, commit: str, path: str,
                   recursive: bool = False) -> dict[str, metadata_pb2.TreeEntry]:
    found = {}
    req = metadata_pb2.ListTreeRequest(repo=repo, revision=commit, path=path, recursive=recursive)
    try:
        async for page in stream(c.metadata.ListTree(req, timeout=60)):
            for entry in page.entries:
                found[entry.path] = entry
                if len(found) > MAX_FILES * 4:
                    return found
    except errors.NotFound:
        return {}
    return found


async def changed_paths(c: Clients, repo: common_pb2.RepoRef, old: str, new: str) -> tuple[list[Change], bool]:
    """(changes, truncated). `old` is "" for a root commit."""
    changes: list[Change] = []
    pending = [""]
    while pending and len(changes) < MAX_FILES:
        folder = pending.pop(0)
        before = await _listing(c, repo, old, folder) if old else {}
        after = await _listing(c, repo, new, folder)
        for path in sorted(set(before) | set(after)):
            a, b = before.get(path), after.get(path)
            if a is not None and b is not None and a.oid == b.oid:
                continue
            a_dir = a is not None and a.type == "directory"
            b_dir = b is not None and b.type == "directory"
            if a_dir and b_dir:
                pending.append(path)
                continue
            for entry, side in ((a, "old"), (b, "new")):
                if entry is not None and entry.type == "directory":
                    inner = await _listing(c, repo, old if side == "old" else new, path, recursive=True)
                    for sub in inner.values():
                        if sub.type == "file":
                            changes.append(Change("deleted" if side == "old" else "added", sub.path,
                                                  sub if side == "old" else None, sub if side == "new" else None))
            a_file = a if a is not None and not a_dir else None
            b_file = b if b is not None and not b_dir else None
            if a_file and b_file:
                changes.append(Change("modified", path, a_file, b_file))
            elif a_file:
                changes.append(Change("deleted", path, a_file, None))
            elif b_file:
                changes.append(Change("added", path, None, b_file))
    changes.sort(key=lambda ch: ch.path)
    truncated = len(changes) > MAX_FILES or bool(pending)
    return changes[:MAX_FILES], truncated


def _is_lfs(entry) -> bool:
    return entry is not None and entry.HasField("lfs") and bool(entry.lfs.oid)


async def _text(c: Clients, repo, commit: str, entry) -> str | None:
    if entry is None:
        return ""
    if entry.size > MAX_TEXT_BYTES:
        return None
    data = await FileBytes(c, repo, commit, entry).read(0, entry.size)
    if b"\0" in data[:8192]:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


async def render_text_diffs(c: Clients, repo, old: str, new: str, changes: list[Change]) -> None:
    shown = 0
    for change in changes:
        if _is_lfs(change.old) or _is_lfs(change.new):
            change.note = "lfs"
            continue
        if shown >= MAX_TEXT_FILES:
            change.note = "not-shown"
            continue
        before = await _text(c, repo, old, change.old)
        after = await _text(c, repo, new, change.new)
        if before is None or after is None:
            change.note = "binary"
            continue
        shown += 1
        # difflib on up to MAX_TEXT_BYTES a side is CPU work: off the event loop.
        diff = await asyncio.to_thread(_unified, before, after)
        for line in diff:
            if len(change.lines) >= MAX_DIFF_LINES:
                change.note = "long"
                break
            kind = "hunk" if line.startswith("@@") else {"+": "add", "-": "del"}.get(line[:1], "ctx")
            change.added += kind == "add"
            change.removed += kind == "del"
            change.lines.append((kind, line))


def _unified(before: str, after: str) -> list[str]:
    return list(difflib.unified_diff(before.splitlines(), after.splitlines(), lineterm="", n=3))[2:]

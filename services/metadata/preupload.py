"""Preupload: for each file the client is about to commit, whether it goes through LFS, whether the
repository's root `.gitignore` at that revision or the client's gitignore rules exclude it, and the
oid of the file now at that path (so unchanged files are skipped). LFS when the size reaches
HANGAR_LFS_THRESHOLD or a `filter=lfs` line of the `.gitattributes` at that revision matches the path."""
from __future__ import annotations

from hangar_protos import metadata_pb2 as pb

from . import trees, wildmatch
from .cache import LRU
from .engine import Engine
from .listing import at_revision, to_entries

RULE_BYTES = 2048   # a compiled pattern (its regex included), generously


def _weigh_rules(rules: list) -> int:
    return 56 + RULE_BYTES * len(rules)


_ATTRIBUTES: LRU[str, list] = LRU(16 * 1024 * 1024, _weigh_rules)   # .gitattributes blob id -> compiled rules
_IGNORES: LRU[str, list] = LRU(4 * 1024 * 1024, lambda lines: 56 + sum(64 + len(line) for line in lines))
MAX_RULES_BYTES = 1024 * 1024


async def _lfs_rules(engine: Engine, tree: str) -> list:
    entry = await trees.lookup(engine.store, tree, ".gitattributes")
    if entry is None or entry.is_dir:
        return []
    rules = _ATTRIBUTES.get(entry.oid)
    if rules is None:
        data = await engine.store.read_range(entry.oid, 0, 1024 * 1024)
        rules = wildmatch.lfs_patterns(data.decode("utf-8", "replace"))
        _ATTRIBUTES.put(entry.oid, rules)
    return rules


async def _ignore_lines(engine: Engine, tree: str) -> list[str]:
    """The lines of the repository's own root `.gitignore` at that revision (as the Hub reads it)."""
    entry = await trees.lookup(engine.store, tree, ".gitignore")
    if entry is None or entry.is_dir:
        return []
    lines = _IGNORES.get(entry.oid)
    if lines is None:
        data = await engine.store.read_range(entry.oid, 0, MAX_RULES_BYTES)
        lines = data.decode("utf-8", "replace").splitlines()
        _IGNORES.put(entry.oid, lines)
    return lines


async def preupload(engine: Engine, request: pb.PreuploadRequest) -> pb.PreuploadResponse:
    at = await at_revision(engine, request.repo, request.revision)
    rules = await _lfs_rules(engine, at.tree)
    # The repo's .gitignore first, then the client's rules (the .gitignore this commit adds): the last
    # matching rule wins, as in git.
    ignore = wildmatch.IgnoreRules(await _ignore_lines(engine, at.tree) + list(request.git_ignore))
    existing = {}
    for f in request.files:
        entry = await trees.lookup(engine.store, at.tree, f.path.strip("/"))
        if entry is not None and not entry.is_dir:
            existing[f.path] = entry
    items = {e.path: e for e in await to_entries(engine, at, list(existing.values()), False)}
    answers = []
    for f in request.files:
        lfs = f.size >= engine.settings.lfs_threshold or wildmatch.is_lfs(rules, f.path)
        item = items.get(f.path.strip("/"))
        oid = (item.lfs.oid if item.HasField("lfs") else item.oid) if item is not None else ""
        answers.append(pb.PreuploadAnswer(path=f.path, upload_mode="lfs" if lfs else "regular",
                                          should_ignore=ignore.ignored(f.path), oid=oid))
    return pb.PreuploadResponse(files=answers, commit=at.commit)

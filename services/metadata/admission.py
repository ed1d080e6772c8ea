"""What every commit passes before a ref moves to it, whichever route made it (an API commit, a
copy, a super-squash, a pull request merge, a git push): its index rows are planned
(indexes.plan), the trees, links and .gitmodules files it changes follow git's path rules
(pathrules.py), and the LFS objects its pointers name are the committer's to use (lfscheck.py).
Both rules look only at what differs from the first parent, which was admitted the same way."""
from __future__ import annotations

from hangar_common.errors import BadRequest

from . import gitformat as gf
from . import indexes, pathrules
from .cache import LRU
from .lfscheck import LfsRule
from .objects import ObjectStore

READ_BATCH = 500
READ_BYTES = 16 * 1024 * 1024
_GOOD_TREES: LRU[str, bool] = LRU(8 * 1024 * 1024)   # tree ids that passed (a pure function of their bytes)


class PathRefused(BadRequest):
    code = "InvalidPath"


async def admit(store: ObjectStore, rule: LfsRule, commits: list[gf.CommitFacts],
                parent_trees: dict[str, str]) -> list[indexes.Planned]:
    """The planned index rows of `commits`, once both rules passed (else a 4xx, nothing written)."""
    planned = await indexes.plan(store, commits, parent_trees)
    await check_paths(store, planned)
    await rule.require(planned)
    return planned


def tree_checked(oid: str, data: bytes) -> str | None:
    """pathrules.tree_problem, remembered for trees that pass."""
    if _GOOD_TREES.get(oid):
        return None
    problem = pathrules.tree_problem(data)
    if problem is None:
        _GOOD_TREES.put(oid, True)
    return problem


async def check_paths(store: ObjectStore, planned: list[indexes.Planned]) -> None:
    """Raise PathRefused for the first planned tree, link or .gitmodules that breaks a rule."""
    wanted: dict[tuple[str, str], tuple[str, int]] = {}   # (oid, path of a link) -> (path, mode)
    for p in planned:
        for path, mode, oid in p.checked:
            if gf.is_dir(mode) and _GOOD_TREES.get(oid):
                continue
            is_link = mode & 0o170000 == gf.LINK_MODE
            wanted.setdefault((oid, path if is_link else ""), (path, mode))
    facts = await store.facts({oid for oid, _ in wanted})
    group: list[tuple[str, str]] = []
    group_bytes = 0
    for key in wanted:
        f = facts.get(key[0])
        if f is None or (f.type != gf.TREE and f.size > pathrules.MAX_GITMODULES):
            path, mode = wanted[key]
            _raise_if(wanted[key], _problem(path, mode, f, None, key[0]))
            continue
        group.append(key)
        group_bytes += f.size
        if group_bytes >= READ_BYTES or len(group) >= READ_BATCH:
            await _check_group(store, wanted, facts, group)
            group, group_bytes = [], 0
    await _check_group(store, wanted, facts, group)


async def _check_group(store: ObjectStore, wanted, facts, group: list[tuple[str, str]]) -> None:
    raw = await store.raw(list({oid for oid, _ in group})) if group else {}
    for key in group:
        path, mode = wanted[key]
        _raise_if(wanted[key], _problem(path, mode, facts.get(key[0]), raw.get(key[0]), key[0]))


def _raise_if(where: tuple[str, int], problem: str | None) -> None:
    if problem:
        raise PathRefused(f"Invalid path '{where[0] or '/'}': {problem}")


def _problem(path: str, mode: int, facts, raw, oid: str) -> str | None:
    expected = gf.TREE if gf.is_dir(mode) else gf.BLOB
    if facts is None or facts.type != expected:
        return f"the entry must be a {gf.TYPE_NAMES[expected]}"
    if raw is None:
        return "the file is too large" if expected == gf.BLOB else "the tree cannot be read"
    data = raw[1]
    if expected == gf.TREE:
        return tree_checked(oid, data)
    if mode & 0o170000 == gf.LINK_MODE:
        return pathrules.link_problem(path, data)
    return pathrules.gitmodules_problem(data)

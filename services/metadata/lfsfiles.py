"""LFS file management as huggingface_hub calls it: `list_lfs_files` (each LFS object the
repository's history references once, with a path that introduced it) and
`permanently_delete_lfs_files`, which here always rewrites history as the Hub does with
`rewriteHistory: true`: every commit reachable from a ref of the repository is rewritten without the
pointers to those objects (new trees, new commit ids from the first commit that had one on), and every
ref moves to its rewritten commit in one transaction under compare-and-swap. Commits whose trees did
not change keep their ids. Signatures of rewritten commits and tags are dropped (they no longer
match). Mirrored repositories (upstream_repos) keep the upstream's ids and are refused.

The rewritten commits pass admission like any other commit (admission.py: the path and LFS rules);
the old history leaves the indexes (refs.prune_unreachable), so the lfs service can then free the
bytes that nothing else references (its FreeObjects: the GC rule, asked of UnreferencedOids)."""
from __future__ import annotations

from typing import cast

from dulwich.objects import Commit, ObjectID, Tag

from hangar_common.errors import BadRequest, Conflict, EntryNotFound
from hangar_protos import metadata_pb2 as pb

from . import admission, indexes, lfsindex, pullrefs, refs, repos, upstream
from . import gitformat as gf
from .commitgraph import CommitGraph
from .engine import Engine
from .lfscheck import LfsRule, repo_facts
from .objects import ObjectStore

MAX_DELETIONS = 1000


async def listing(conn, repo_id: int, *, offset: int, limit: int) -> list[pb.LfsFile]:
    """Each object once, with the path and date of the first commit (lowest generation) that
    introduced it; newest first."""
    rows = await lfsindex.introductions(conn, repo_id)
    order = await indexes.commit_order(conn, repo_id, list({r["commit_oid"] for r in rows}))
    first: dict[str, tuple] = {}
    for r in rows:
        if r["commit_oid"] not in order:
            continue
        key = (*order[r["commit_oid"]], r["commit_oid"])
        if r["lfs_oid"] not in first or key < first[r["lfs_oid"]][0]:
            first[r["lfs_oid"]] = (key, r)
    ranked = sorted(first.values(), key=lambda kr: (-kr[0][1].timestamp(), kr[1]["lfs_oid"]))
    return [pb.LfsFile(oid=r["lfs_oid"], size=r["size"], filename=r["path"] or "", pushed_at=gf.rfc3339(key[1]))
            for key, r in ranked[offset:offset + limit]]


def _check_oids(oids: list[str]) -> list[str]:
    wanted = sorted({o.lower() for o in oids})
    if not wanted or len(wanted) > MAX_DELETIONS:
        raise BadRequest(f"Name between 1 and {MAX_DELETIONS} LFS objects to delete", code="InvalidField")
    for oid in wanted:
        if len(oid) != 64 or any(ch not in "0123456789abcdef" for ch in oid):
            raise BadRequest(f"Invalid LFS object id '{oid[:80]}': expected a sha256", code="InvalidField")
    return wanted


class _Rewriter:
    """Trees and commits of one history without the pointers to `drop` (memoized per object)."""

    def __init__(self, store: ObjectStore, drop: set[str]) -> None:
        self.store, self.drop = store, drop
        self.trees: dict[str, str] = {}
        self.commits: dict[str, str] = {}
        self.new: list[gf.RawObject] = []

    async def tree(self, oid: str) -> str:
        if oid in self.trees:
            return self.trees[oid]
        items = await self.store.tree(oid)
        await self.store.trees([i.oid for i in items if gf.is_dir(i.mode)])
        facts = await self.store.facts([i.oid for i in items if not gf.is_dir(i.mode) and not gf.is_gitlink(i.mode)])
        entries: dict[bytes, tuple[int, str]] = {}
        for item in items:
            if gf.is_dir(item.mode):
                child = await self.tree(item.oid)
                entries[item.name] = (item.mode, child)
            elif (f := facts.get(item.oid)) is not None and f.lfs_oid in self.drop:
                continue
            else:
                entries[item.name] = (item.mode, item.oid)
        if all(entries.get(i.name) == (i.mode, i.oid) for i in items) and len(entries) == len(items):
            self.trees[oid] = oid
            return oid
        obj = gf.tree(entries)
        self.new.append(obj)
        self.trees[oid] = obj.oid
        return obj.oid

    async def commit(self, oid: str, graph: CommitGraph) -> str:
        """Parents are rewritten first (callers go in topological order)."""
        tree = await self.tree(graph.trees[oid])
        parents = [self.commits.get(p, p) for p in graph.parents[oid]]
        if tree == graph.trees[oid] and parents == list(graph.parents[oid]):
            self.commits[oid] = oid
            return oid
        raw = await self.store.small(oid)
        if raw is None:
            raise Conflict(f"Commit {oid} cannot be read to rewrite it", code="RewriteFailed")
        c = cast(Commit, Commit.from_raw_string(gf.COMMIT, raw))
        c.tree = tree.encode()
        c.parents = [ObjectID(p.encode()) for p in parents]
        c.gpgsig = None
        obj = gf.RawObject(c.id.decode(), gf.COMMIT, c.as_raw_string())
        self.new.append(obj)
        self.commits[oid] = obj.oid
        return obj.oid

    async def tag(self, oid: str, target: str) -> str:
        raw = await self.store.small(oid)
        if raw is None:
            raise Conflict(f"Tag {oid} cannot be read to rewrite it", code="RewriteFailed")
        t = cast(Tag, Tag.from_raw_string(gf.TAG, raw))
        t.object = (Commit, target.encode())
        t.signature = None
        obj = gf.RawObject(t.id.decode(), gf.TAG, t.as_raw_string())
        self.new.append(obj)
        return obj.oid


async def delete(engine: Engine, repo_ref, oids: list[str], principal) -> pb.DeleteLfsFilesResponse:
    """Rewrite every ref's history without pointers to `oids`; all refs move at once or none."""
    wanted = _check_oids(oids)
    async with engine.pool.acquire() as conn:
        repo = await repos.get(conn, repo_ref.type, repo_ref.namespace, repo_ref.name)
        if await upstream.is_mirrored(conn, repo.id):
            raise BadRequest("This repository mirrors an upstream one: its history keeps the upstream's commit "
                             "ids and cannot be rewritten", code="MirroredRepo")
        held = await lfsindex.held(conn, repo.id, wanted)
        missing = [o for o in wanted if o not in held]
        if missing:
            raise EntryNotFound(f"LFS file {missing[0]} not found in this repository")
        graph = await indexes.load_graph(conn, repo.id)
        current = await refs.all_refs(conn, repo.id)
    rewriter = _Rewriter(engine.store, set(wanted))
    peeled: dict[str, tuple[str, str | None]] = {}   # ref -> (commit, annotated tag object or None)
    for name, target in current:
        kind, commit = await refs.peel(engine.store, target)
        if kind != gf.COMMIT:
            raise Conflict(f"{name} does not point to a commit; cannot rewrite it", code="RewriteFailed")
        peeled[name] = (commit, target if target != commit else None)
    for oid in graph.topological(graph.reachable(c for c, _ in peeled.values())):
        await rewriter.commit(oid, graph)
    moves: list[tuple[str, str, str]] = []
    for name, target in current:
        commit, tag = peeled[name]
        new_commit = rewriter.commits[commit]
        if new_commit == commit:
            continue
        moves.append((name, target, await rewriter.tag(tag, new_commit) if tag else new_commit))
    await engine.store.put(rewriter.new)
    new_commits = [gf.parse_commit(o.oid, o.data) for o in rewriter.new if o.type == gf.COMMIT]
    rule = LfsRule(engine.lfs, principal, repo_facts(repo))
    planned = await admission.admit(engine.store, rule, _parents_first(new_commits), dict(graph.trees))
    async with engine.pool.acquire() as conn, conn.transaction():
        await repos.touch(conn, repo.id)
        for name, old, new in moves:
            if not await refs.compare_and_swap(conn, repo.id, name, old, new):
                raise Conflict(f"{name} moved while its history was being rewritten; retry",
                               code="CommitContention")
        await indexes.write(conn, repo.id, planned)
        await pullrefs.follow_rewrite(conn, repo.id, rewriter.commits)
        await refs.prune_unreachable(conn, engine.store, repo.id)
        # Only what the rewrite dropped is the caller's to free; a force push's grace may still hold some.
        still = await lfsindex.held(conn, repo.id, wanted)
    return pb.DeleteLfsFilesResponse(
        deleted=wanted, still_referenced=sorted(still),
        moved=[pb.DeleteLfsFilesResponse.Move(ref=name, old_oid=old, new_oid=new) for name, old, new in moves])


def _parents_first(commits: list[gf.CommitFacts]) -> list[gf.CommitFacts]:
    by_oid = {c.oid: c for c in commits}
    graph = CommitGraph({c.oid: c.parents for c in commits}, {c.oid: c.tree for c in commits})
    return [by_oid[o] for o in graph.topological(set(by_oid))]

"""Git transport, the fetch side (services/git/upload_pack.py is its caller; gitprotocol-pack.txt,
gitprotocol-v2.txt): refs with peeled tags, and the object set of a fetch (wants minus what the
haves reach, with shallow depth). gitreceive.py is the push side.

Objects travel raw (content without header, uncompressed); the git service frames them as a pack.
"""
from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterable

from hangar_common.errors import BadRequest, HangarError
from hangar_protos import metadata_pb2 as pb

from . import gitformat as gf
from . import indexes, refs, repos
from .engine import Engine
from .objects import ObjectStore

logger = logging.getLogger("hangar.metadata.git")

BATCH_BYTES = 2 * 1024 * 1024      # raw bytes per GitObjectBatch
PIECE = 1024 * 1024                # a large blob's data per message


async def list_refs(engine: Engine, repo: repos.Repo, info: pb.RepoInfo) -> pb.GitRefs:
    """Every ref with its peeled commit for annotated tags, and HEAD's symbolic target."""
    async with engine.pool.acquire() as conn:
        rows = await refs.all_refs(conn, repo.id)
    out = pb.GitRefs(repo=info, head=refs.HEADS + repo.default_branch)
    for name, target in rows:
        _, peeled = await refs.peel(engine.store, target)
        out.refs.append(pb.GitRef(name=name, target=target, peeled=peeled if peeled != target else ""))
    return out


# --- fetch ------------------------------------------------------------------------------------------

async def tag_chains(store: ObjectStore, targets: Iterable[str]) -> dict[str, str]:
    """Annotated tag objects reachable from ref targets -> the object each points to."""
    chains: dict[str, str] = {}
    for target in targets:
        oid = target
        for _ in range(10):
            facts = (await store.facts([oid])).get(oid)
            if facts is None or facts.type != gf.TAG:
                break
            _, nxt = gf.parse_tag(await store.small(oid))
            chains[oid] = nxt
            oid = nxt
    return chains


async def walk_trees(store: ObjectStore, roots: Iterable[str], seen: set[str]) -> tuple[list[str], list[str]]:
    """Trees and blobs reachable from `roots` that are not in `seen` (which grows); one query per
    level of the walk."""
    trees_out: list[str] = []
    blobs_out: list[str] = []
    frontier = [r for r in set(roots) if r not in seen]
    seen.update(frontier)
    while frontier:
        trees_out.extend(frontier)
        loaded = await store.trees(frontier)
        nxt: list[str] = []
        for oid in frontier:
            for item in loaded.get(oid, ()):
                if item.oid in seen or gf.is_gitlink(item.mode):
                    continue
                seen.add(item.oid)
                (nxt if gf.is_dir(item.mode) else blobs_out).append(item.oid)
        frontier = nxt
    return trees_out, blobs_out


async def fetch_objects(engine: Engine, repo: repos.Repo,
                        request: pb.GitFetchRequest) -> AsyncIterator[pb.GitObjectBatch]:
    """Objects reachable from `wants` and not from the common `haves`; the first message carries
    the common haves, shallow/unshallow lines and the object count."""
    async with engine.pool.acquire() as conn:
        graph = await indexes.load_graph(conn, repo.id)
        targets = [t for _, t in await refs.all_refs(conn, repo.id)]
    tags = await tag_chains(engine.store, targets)
    for want in request.wants:
        if want not in graph and want not in tags:
            raise BadRequest(f"not our ref {want}", code="NotOurRef")
    common = [h for h in dict.fromkeys(request.haves) if h in graph or h in tags]
    shallows = {s for s in request.client_shallows if s in graph}
    want_commits = [_peel_in(tags, w) for w in request.wants]
    want_commits = [w for w in want_commits if w in graph]
    have_commits = graph.reachable([_peel_in(tags, h) for h in common], no_parents=shallows)
    if request.depth > 0:
        send, boundary = graph.within_depth(want_commits, request.depth, stop=set())
        send -= have_commits - shallows
        shallow = sorted(boundary - shallows)
        unshallow = sorted(s for s in shallows if s in send and s not in boundary)
    else:
        send = graph.reachable(want_commits, stop=have_commits, no_parents=shallows)
        boundary, shallow, unshallow = set(), [], sorted(s for s in shallows if s in send)
    first = pb.GitObjectBatch(common=common, shallow=shallow, unshallow=unshallow)
    if request.negotiate_only:
        yield first
        return
    # What the client has: the trees of the commits it has right at the edge of what we send.
    edges = {p for c in send if c not in boundary for p in graph.parents[c] if p in have_commits}
    edges.update(c for c in common if c in graph)
    seen: set[str] = set()
    await walk_trees(engine.store, (graph.trees[c] for c in edges), seen)   # the client has these
    tree_oids, blob_oids = await walk_trees(engine.store, (graph.trees[c] for c in send), seen)
    tag_oids = [t for t in _wanted_tags(tags, request.wants) if t not in set(request.haves)]
    ordered = [*sorted(send), *tag_oids, *tree_oids, *blob_oids]
    first.object_count = len(ordered)
    async for batch in _object_batches(engine.store, ordered, first):
        yield batch


def _peel_in(tags: dict[str, str], oid: str) -> str:
    while oid in tags:
        oid = tags[oid]
    return oid


def _wanted_tags(tags: dict[str, str], wants: Iterable[str]) -> list[str]:
    out = []
    for w in wants:
        while w in tags:
            out.append(w)
            w = tags[w]
    return list(dict.fromkeys(out))


async def _object_batches(store: ObjectStore, oids: list[str],
                          first: pb.GitObjectBatch) -> AsyncIterator[pb.GitObjectBatch]:
    """Raw objects in messages of about BATCH_BYTES; a large blob spans messages (`more`)."""
    group: list = []
    batch, group_bytes = first, 0
    facts = {}
    for i in range(0, len(oids), 5000):
        facts.update(await store.facts(oids[i:i + 5000]))
    for oid in oids:
        size = facts[oid].size if oid in facts else 0
        if size > PIECE:
            if group:
                batch = await _fill(store, batch, group, facts)
                yield batch
                batch, group, group_bytes = pb.GitObjectBatch(), [], 0
            async for message in _large(store, batch, oid, facts[oid]):
                yield message
            batch = pb.GitObjectBatch()
            continue
        group.append(oid)
        group_bytes += size
        if group_bytes >= BATCH_BYTES:
            yield await _fill(store, batch, group, facts)
            batch, group, group_bytes = pb.GitObjectBatch(), [], 0
    if group or batch is first:
        yield await _fill(store, batch, group, facts)


async def _fill(store: ObjectStore, batch: pb.GitObjectBatch, group: list[str], facts) -> pb.GitObjectBatch:
    raw = await store.raw(group)
    for oid in group:
        if oid not in raw:
            raise HangarError(f"object {oid} is missing from the store", code="ObjectMissing")
        kind, data = raw[oid]
        batch.objects.append(pb.GitObject(oid=oid, type=kind, data=data, size=len(data)))
    return batch


async def _large(store: ObjectStore, batch: pb.GitObjectBatch, oid: str, facts) -> AsyncIterator[pb.GitObjectBatch]:
    for pos in range(0, facts.size, PIECE):
        data = await store.read_range(oid, pos, PIECE)
        obj = pb.GitObject(oid=oid, type=facts.type, data=data, more=pos + PIECE < facts.size)
        if pos == 0:
            obj.size = facts.size
        batch.objects.append(obj)
        yield batch
        batch = pb.GitObjectBatch()

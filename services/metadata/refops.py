"""Branches and tags through the API. Every change runs in one transaction that first locks the
repository row; deletions drop from the indexes the history no ref reaches any more."""
from __future__ import annotations

from hangar_common.errors import Forbidden
from hangar_protos import metadata_pb2 as pb

from . import gitformat as gf
from . import names, pullrefs, refs, repos
from .engine import Engine


async def list_refs(engine: Engine, repo: repos.Repo) -> pb.ListRefsResponse:
    async with engine.pool.acquire() as conn:
        rows = await refs.all_refs(conn, repo.id)
    out = pb.ListRefsResponse()
    for name, target in rows:
        _, commit = await refs.peel(engine.store, target)
        ref = pb.Ref(name=refs.short(name), ref=name, target_commit=commit)
        if name.startswith(refs.HEADS):
            out.branches.append(ref)
        elif name.startswith(refs.TAGS):
            out.tags.append(ref)
        elif name.startswith(pullrefs.PREFIX):
            out.pull_requests.append(ref)
    out.pull_requests.sort(key=lambda r: pullrefs.number_of(r.ref) or 0)
    return out


def _short_name(name: str, prefix: str) -> str:
    return name[len(prefix):] if name.startswith(prefix) else name


async def create_branch(engine: Engine, repo: repos.Repo, request: pb.CreateBranchRequest) -> pb.Ref:
    name = _short_name(request.name, refs.HEADS)
    async with engine.pool.acquire() as conn:   # a missing starting point is reported before the name
        start = await refs.resolve(conn, engine.store, repo.id, repo.default_branch, request.starting_point)
    names.validate_ref_name(name, "branch")
    ref = refs.HEADS + name
    async with engine.pool.acquire() as conn, conn.transaction():
        await repos.touch(conn, repo.id)
        await refs.create(conn, repo.id, ref, start.commit, exist_ok=request.exist_ok, what="branch")
        target = await refs.get(conn, repo.id, ref)
    return pb.Ref(name=name, ref=ref, target_commit=target)


async def delete_branch(engine: Engine, repo: repos.Repo, name: str) -> None:
    name = _short_name(name, refs.HEADS)
    if name == repo.default_branch:
        raise Forbidden(f"Cannot delete refs/heads/{name}", code="DefaultBranchProtected")   # the Hub's wording
    async with engine.pool.acquire() as conn, conn.transaction():
        await repos.touch(conn, repo.id)
        await refs.delete(conn, repo.id, refs.HEADS + name, what="branch")
        await refs.prune_unreachable(conn, engine.store, repo.id)


async def create_tag(engine: Engine, repo: repos.Repo, request: pb.CreateTagRequest) -> pb.Ref:
    name = _short_name(request.tag, refs.TAGS)
    async with engine.pool.acquire() as conn:   # a missing revision is reported before the name
        target = await refs.resolve(conn, engine.store, repo.id, repo.default_branch, request.revision)
    names.validate_ref_name(name, "tag")
    ref = refs.TAGS + name
    pointed = target.commit
    if request.message:
        tag = gf.annotated_tag(name, target.commit, gf.COMMIT, tagger=gf.identity(request.tagger.username),
                               message=request.message)
        await engine.store.put([tag])
        pointed = tag.oid
    async with engine.pool.acquire() as conn, conn.transaction():
        await repos.touch(conn, repo.id)
        await refs.create(conn, repo.id, ref, pointed, exist_ok=request.exist_ok, what="tag")
        current = await refs.get(conn, repo.id, ref)
    _, commit = await refs.peel(engine.store, current)
    return pb.Ref(name=name, ref=ref, target_commit=commit)


async def delete_tag(engine: Engine, repo: repos.Repo, name: str) -> None:
    name = _short_name(name, refs.TAGS)
    async with engine.pool.acquire() as conn, conn.transaction():
        await repos.touch(conn, repo.id)
        await refs.delete(conn, repo.id, refs.TAGS + name, what="tag")
        await refs.prune_unreachable(conn, engine.store, repo.id)

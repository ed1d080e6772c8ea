"""Git transport for the git service: refs, object sets for fetch, and receive of pushes."""
from __future__ import annotations

from hangar_protos import metadata_pb2 as pb

from . import refs, repos
from .engine import Engine


async def list_refs(engine: Engine, repo: repos.Repo, info: pb.RepoInfo) -> pb.GitRefs:
    """Every ref with its peeled commit for annotated tags, and HEAD's symbolic target."""
    async with engine.pool.acquire() as conn:
        rows = await refs.all_refs(conn, repo.id)
    out = pb.GitRefs(repo=info, head=refs.HEADS + repo.default_branch)
    for name, target in rows:
        _, peeled = await refs.peel(engine.store, target)
        out.refs.append(pb.GitRef(name=name, target=target, peeled=peeled if peeled != target else ""))
    return out

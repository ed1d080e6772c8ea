"""Reply messages the metadata servicer builds from the engine's records."""
from __future__ import annotations

from hangar_protos import common_pb2
from hangar_protos import metadata_pb2 as pb

from . import gitformat as gf
from . import repos


def repo_info(repo: repos.Repo, **extra) -> pb.RepoInfo:
    info = pb.RepoInfo(
        facts=common_pb2.RepoFacts(
            repo=common_pb2.RepoRef(type=repo.type, namespace=repo.namespace, name=repo.name),
            repo_id=str(repo.id), private=repo.private, gated=repo.gated),
        default_branch=repo.default_branch, sha=repo.sha, created_at=gf.rfc3339(repo.created_at),
        last_modified=gf.rfc3339(repo.last_modified), likes=repo.likes,
        protected_branches=list(repo.protected_branches), **extra)
    if repo.redirected_from:
        t, ns, n = repo.redirected_from
        info.redirected_from.CopyFrom(common_pb2.RepoRef(type=t, namespace=ns, name=n))
    return info

"""Opening a repository for a request: look it up in metadata, ask auth whether the caller may act
on it, and send clients of a renamed repo to its new name.

A private repo the caller may not see looks exactly like a missing one (hangar_common.edge.refusal,
docs/clients.md "Errors"): RepoNotFound, 401 for anonymous callers, 404 for signed-in ones. A renamed
repo answers its old name with a relative 307 (method and body kept), which huggingface_hub follows on its own origin.
"""
from __future__ import annotations

from fastapi import Request

from hangar_common import edge, errors
from hangar_common.grpcio import call
from hangar_protos import auth_pb2, common_pb2, metadata_pb2

from . import deps
from .paths import RepoTarget


def repo_ref(repo_type: str, namespace: str, name: str) -> common_pb2.RepoRef:
    return common_pb2.RepoRef(type=repo_type, namespace=namespace, name=name)


def repo_id_of(info: metadata_pb2.RepoInfo) -> str:
    return f"{info.facts.repo.namespace}/{info.facts.repo.name}"


async def get_repo(request: Request, target: RepoTarget) -> metadata_pb2.RepoInfo:
    """The repo's info from metadata (or the upstream mirror behind it); a missing repo is reported
    as the caller must see it."""
    principal = await deps.current_principal(request)
    c = deps.clients(request)
    try:
        return await c.hot.repo(repo_ref(target.type, target.namespace, target.name), principal)
    except errors.HangarError as exc:
        if exc.code not in ("RepoNotFound", "GatedRepo"):
            raise
        raise edge.refusal(principal, exc.code, exc.message) from None


async def open_repo(request: Request, target: RepoTarget, action: str) -> metadata_pb2.RepoInfo:
    """Look the repo up and authorize `action` ("read", "download", "write", "admin") on it."""
    info = await get_repo(request, target)
    if info.upstream_cache and action not in ("read", "download"):
        raise errors.Forbidden("This repository is a read-only mirror of the upstream Hub", code="ReadOnlyMirror")
    await deps.authorize(request, info.facts, action)
    moved = info.redirected_from.name and (
        info.facts.repo.namespace != target.namespace or info.facts.repo.name != target.name)
    if moved:
        location = target.moved_to(info.facts.repo.namespace, info.facts.repo.name,
                                   request.url.query)
        raise errors.HangarError("Repository moved", code="RepoMoved", status=307,
                                 headers={"Location": location})
    return info


async def open_for_upload(request: Request, target: RepoTarget, revision: str, *, create_pr: bool):
    """Open the repo for an upload or commit at `revision`, as the Hub allows it: `create_pr` needs
    the right to contribute (anyone signed in who can read, auth decides); `refs/pr/N` needs the
    right to push to that PR (its author, or a writer); anything else needs write. Returns the
    repo info and, for `refs/pr/N`, metadata's record of that PR ref."""
    if not create_pr and not revision.startswith("refs/pr/"):
        return await open_repo(request, target, "write"), None
    info = await open_repo(request, target, "read")
    if create_pr:
        await deps.authorize(request, info.facts, "contribute")
        return info, None
    number = revision[len("refs/pr/"):]
    if not number.isdigit() or len(number) > 9 or int(number) <= 0:
        raise errors.RevisionNotFound(f"Invalid rev id: {revision}")
    try:
        pull = await call(deps.clients(request).metadata.GetPullRef, metadata_pb2.PullRefRequest(
            repo=info.facts.repo, number=int(number)))
    except errors.NotFound:
        raise errors.RevisionNotFound(f"Invalid rev id: {revision}") from None
    await deps.authorize(request, info.facts, "push-pr", owner_user_id=pull.owner_user_id)
    return info, pull


async def authorize_namespace(request: Request, namespace: str, action: str) -> common_pb2.Principal:
    """Whether the caller may create ("write") or delete/move ("admin") repos under `namespace`."""
    principal = await deps.current_principal(request)
    if principal.anonymous:
        raise edge.refusal(principal, "Unauthorized")
    decision = await call(deps.clients(request).auth.AuthorizeNamespace, auth_pb2.AuthorizeNamespaceRequest(
        principal=principal, namespace=namespace, action=action))
    edge.enforce(principal, decision)
    return principal

"""Repository lifecycle: create, delete, move (rename/transfer) and settings.

Shapes follow huggingface_hub's `HfApi.create_repo` / `delete_repo` / `move_repo` /
`update_repo_settings`: create answers `{"url"}`, and 409 with `{"url"}` when the repo exists (the
client relies on it for `exist_ok`). Both `private` (0.x clients) and `visibility` (1.x+) are accepted.
"""
from __future__ import annotations

from fastapi import APIRouter, Request

from hangar_common import errors
from hangar_common.grpcio import call
from hangar_protos import common_pb2, metadata_pb2

from .. import deps, paths, urls
from ..bodies import json_object, string_field
from ..paths import RepoTarget
from ..repo_access import authorize_namespace, get_repo, open_repo, repo_id_of, repo_ref
from ..shapes import JSON, gated_value

router = APIRouter()


def _visibility(body: dict) -> bool | None:
    """Private flag from `visibility` ("public" | "private" | "protected") or `private` (bool)."""
    visibility = body.get("visibility")
    if visibility is not None:
        if visibility not in ("public", "private", "protected"):
            raise errors.BadRequest("visibility must be 'public', 'private' or 'protected'",
                                    code="InvalidField")
        return visibility != "public"
    private = body.get("private")
    if private is None:
        return None
    if not isinstance(private, bool):
        raise errors.BadRequest("private must be a boolean", code="InvalidField")
    return private


async def _caller_namespace(principal: common_pb2.Principal, body: dict) -> tuple[str, str]:
    name = paths.repo_name(string_field(body, "name", required=True))
    organization = string_field(body, "organization")
    if organization:
        return paths.namespace_name(organization), name
    if principal.anonymous:
        raise errors.Unauthorized("You must be authenticated to do this")
    return principal.username, name


@router.post("/api/repos/create")
async def create_repo(request: Request, services: deps.Services, caller: deps.CurrentPrincipal):
    body = await json_object(request)
    repo_type = paths.repo_type(string_field(body, "type"))
    namespace, name = await _caller_namespace(caller, body)
    principal = await authorize_namespace(request, namespace, "write")
    sdk = string_field(body, "sdk") or ""
    try:
        info = await call(services.metadata.CreateRepo, metadata_pb2.CreateRepoRequest(
            repo=repo_ref(repo_type, namespace, name), private=bool(_visibility(body)),
            creator=principal, space_sdk=sdk))
    except errors.Conflict as exc:
        existing = urls.repo_url(request, repo_type, f"{namespace}/{name}")
        raise errors.Conflict(exc.message or f"You already created this {repo_type} repo",
                              body={"error": f"You already created this {repo_type} repo",
                                    "url": existing}) from None
    repo_id = repo_id_of(info)
    return JSON({"url": urls.repo_url(request, repo_type, repo_id), "name": repo_id, "id": repo_id})


async def _existing_repo(request: Request, repo_type: str, namespace: str, name: str, action: str):
    """The repo under exactly this name (an old name of a moved repo does not count) after
    authorizing `action` on it."""
    info = await get_repo(request, RepoTarget(repo_type, namespace, name))
    await deps.authorize(request, info.facts, action)
    if info.redirected_from.name:
        raise errors.RepoNotFound("Repository not found")
    return info


@router.delete("/api/repos/delete")
async def delete_repo(request: Request, services: deps.Services, principal: deps.CurrentPrincipal):
    body = await json_object(request)
    repo_type = paths.repo_type(string_field(body, "type"))
    namespace, name = await _caller_namespace(principal, body)
    info = await _existing_repo(request, repo_type, namespace, name, "admin")
    await call(services.metadata.DeleteRepo,
               metadata_pb2.RepoRequest(repo=info.facts.repo))
    return JSON({})


@router.post("/api/repos/move")
async def move_repo(request: Request, services: deps.Services):
    body = await json_object(request)
    repo_type = paths.repo_type(string_field(body, "type"))
    src_ns, src_name = paths.split_repo_id(string_field(body, "fromRepo", required=True))
    dst_ns, dst_name = paths.split_repo_id(string_field(body, "toRepo", required=True))
    info = await _existing_repo(request, repo_type, src_ns, src_name, "admin")
    if dst_ns.lower() != src_ns.lower():
        await authorize_namespace(request, dst_ns, "write")
    moved = await call(services.metadata.MoveRepo, metadata_pb2.MoveRepoRequest(
        **{"from": info.facts.repo, "to": repo_ref(repo_type, dst_ns, dst_name)}))
    repo_id = repo_id_of(moved)
    return JSON({"url": urls.repo_url(request, repo_type, repo_id), "name": repo_id, "id": repo_id})


@paths.repo_api(router, "/settings", ["PUT"])
async def update_settings(request: Request, target: deps.ApiTarget, services: deps.Services):
    body = await json_object(request)
    info = await open_repo(request, target, "admin")
    update = metadata_pb2.UpdateRepoSettingsRequest(repo=info.facts.repo)
    private = _visibility(body)
    if private is not None:
        update.private = private
    if "gated" in body:
        gated = body["gated"]
        if gated is False or gated in ("", "false", None):
            update.gated = ""
        elif gated in ("auto", "manual"):
            update.gated = gated
        else:
            raise errors.BadRequest("gated must be 'auto', 'manual' or false", code="InvalidField")
    if "protectedBranches" in body:   # a Hangar extension: branches that refuse force pushes
        branches = body["protectedBranches"]
        if not isinstance(branches, list) or not all(isinstance(b, str) for b in branches):
            raise errors.BadRequest("protectedBranches must be a list of branch names", code="InvalidField")
        update.set_protected_branches = True
        update.protected_branches.extend(branches)
    updated = await call(services.metadata.UpdateRepoSettings, update)
    return JSON({"private": updated.facts.private, "gated": gated_value(updated.facts.gated),
                 "protectedBranches": list(updated.protected_branches)})

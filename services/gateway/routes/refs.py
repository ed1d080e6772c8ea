"""Branches and tags: `GET /api/{type}s/{id}/refs`, `POST|DELETE .../branch/{name}`,
`POST .../tag/{rev}`, `DELETE .../tag/{tag}` (huggingface_hub `list_repo_refs`, `create_branch`,
`delete_branch`, `create_tag`, `delete_tag`). An existing branch or tag on create is 409: clients
rely on it for `exist_ok` (docs/clients.md)."""
from __future__ import annotations

from fastapi import APIRouter, Request

from hangar_common import errors
from hangar_common.grpcio import call
from hangar_protos import metadata_pb2

from .. import deps, paths
from ..bodies import json_object, string_field, truthy
from ..repo_access import open_repo
from ..shapes import JSON, ref

router = APIRouter()


def _single(target: paths.RepoTarget, what: str) -> str:
    """The one (decoded, possibly '/'-containing) segment after the action."""
    if len(target.tail) != 2 or not target.tail[1]:
        raise errors.BadRequest(f"Missing or invalid {what} name", code="InvalidRefName")
    return target.tail[1]


@paths.repo_api(router, "/refs", ["GET", "HEAD"])
async def list_refs(request: Request, services: deps.Services, target: deps.ApiTarget):
    info = await open_repo(request, target, "read")
    refs = await call(services.metadata.ListRefs, metadata_pb2.RepoRequest(repo=info.facts.repo))
    body = {"branches": [ref(b) for b in refs.branches], "converts": [], "tags": [ref(t) for t in refs.tags]}
    if truthy(request.query_params.get("include_prs", "0")):
        body["pullRequests"] = [ref(p) for p in refs.pull_requests]
    return JSON(body)


@paths.repo_api(router, "/branch/{rest:path}", ["POST"])
async def create_branch(request: Request, target: deps.ApiTarget, services: deps.Services):
    name = _single(target, "branch")
    body = await json_object(request, optional=True)
    starting_point = string_field(body, "startingPoint") or ""
    info = await open_repo(request, target, "write")
    created = await call(services.metadata.CreateBranch, metadata_pb2.CreateBranchRequest(
        repo=info.facts.repo, name=name, starting_point=starting_point,
        exist_ok=truthy(body.get("exist_ok", False))))
    return JSON(ref(created))


@paths.repo_api(router, "/branch/{rest:path}", ["DELETE"])
async def delete_branch(request: Request, target: deps.ApiTarget, services: deps.Services):
    name = _single(target, "branch")
    info = await open_repo(request, target, "write")
    await call(services.metadata.DeleteBranch,
               metadata_pb2.RefRequest(repo=info.facts.repo, name=name))
    return JSON({})


@paths.repo_api(router, "/tag/{rest:path}", ["POST"])
async def create_tag(request: Request, target: deps.ApiTarget, services: deps.Services,
                     principal: deps.CurrentPrincipal):
    revision = _single(target, "revision")
    body = await json_object(request)
    tag = string_field(body, "tag", required=True)
    if not tag:
        raise errors.BadRequest("Missing tag name", code="InvalidRefName")
    info = await open_repo(request, target, "write")
    created = await call(services.metadata.CreateTag, metadata_pb2.CreateTagRequest(
        repo=info.facts.repo, tag=tag, revision=revision, message=string_field(body, "message") or "",
        tagger=principal, exist_ok=truthy(body.get("exist_ok", False))))
    return JSON(ref(created))


@paths.repo_api(router, "/tag/{rest:path}", ["DELETE"])
async def delete_tag(request: Request, target: deps.ApiTarget, services: deps.Services):
    tag = _single(target, "tag")
    info = await open_repo(request, target, "write")
    await call(services.metadata.DeleteTag,
               metadata_pb2.RefRequest(repo=info.facts.repo, name=tag))
    return JSON({})

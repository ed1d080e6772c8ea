"""History: `GET /api/{type}s/{id}/commits/{rev}` (paginated with `p`/`limit` and an absolute
`Link`, the shape `list_repo_commits` parses) and `POST .../super-squash/{branch}`."""
from __future__ import annotations

from fastapi import APIRouter, Request

from hangar_common import errors
from hangar_common.grpcio import call
from hangar_protos import metadata_pb2

from .. import deps, paths, urls
from ..bodies import json_object, string_field
from ..repo_access import open_repo
from ..shapes import JSON, commit

router = APIRouter()

PAGE = 50


@paths.repo_api(router, "/commits/{rest:path}", ["GET", "HEAD"])
async def list_commits(request: Request, target: deps.ApiTarget, services: deps.Services):
    if len(target.tail) < 2 or not target.tail[1]:
        raise errors.RevisionNotFound("Missing revision")
    path = "/".join(target.tail[2:]).strip("/")
    page = urls.numbered_page(request, PAGE)
    info = await open_repo(request, target, "read")
    answer = await call(services.metadata.ListCommits, metadata_pb2.ListCommitsRequest(
        repo=info.facts.repo, revision=target.tail[1], offset=page.offset, limit=page.limit,
        path=paths.file_path(path) if path else ""))
    headers = {"X-Total-Count": str(answer.total),
               **page.next_headers(request, page.offset + page.limit < answer.total and bool(answer.commits))}
    formatted = "formatted" in request.query_params.getlist("expand[]") + request.query_params.getlist("expand")
    return JSON([commit(c, formatted=formatted) for c in answer.commits], headers=headers)


@paths.repo_api(router, "/super-squash/{rest:path}", ["POST"])
async def super_squash(request: Request, target: deps.ApiTarget, services: deps.Services,
                       principal: deps.CurrentPrincipal):
    if len(target.tail) != 2 or not target.tail[1]:
        raise errors.BadRequest("Missing branch", code="InvalidRefName")
    body = await json_object(request, optional=True)
    message = string_field(body, "message") or f"Super-squash branch '{target.tail[1]}'"
    info = await open_repo(request, target, "write")
    result = await call(services.metadata.SuperSquash, metadata_pb2.SuperSquashRequest(
        repo=info.facts.repo, branch=target.tail[1], message=message, author=principal), timeout=600)
    return JSON({"commitOid": result.commit_oid, "commitId": result.commit_oid})


@paths.repo_api(router, "/force-pushes", ["GET"])
async def list_force_pushes(request: Request, target: deps.ApiTarget, services: deps.Services):
    """A Hangar extension: the repository's force pushes, newest first (`p`/`limit` paging with an
    absolute `Link`): `{ref, oldOid, newOid, pusher, date, keptUntil}`; commits a force push made
    unreachable stay readable by id until `keptUntil`."""
    info = await open_repo(request, target, "read")
    page = urls.numbered_page(request, PAGE)
    answer = await call(services.metadata.ListForcedUpdates, metadata_pb2.ListForcedUpdatesRequest(
        repo=info.facts.repo, offset=page.offset, limit=page.limit))
    headers = page.next_headers(request, answer.has_more)
    return JSON([{"ref": u.ref, "oldOid": u.old_oid, "newOid": u.new_oid, "pusher": u.pusher, "date": u.date,
                  "keptUntil": u.kept_until} for u in answer.updates], headers=headers)

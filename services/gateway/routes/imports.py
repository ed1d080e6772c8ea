"""Imports of upstream repositories into local namespaces (issue 18, docs/mirror.md "Imports").

- `POST /api/imports` `{"source": "ns/name", "type": "model", "repo": "ns/name", "revisions": [...],
  "private": bool}`: 202 with the import's status. `repo` defaults to the source's name under the
  caller's namespace; `revisions` (branch or tag names) defaults to every branch and tag; `private`
  defaults to the upstream's visibility (private when the upstream repo is gated or private).
- `GET /api/imports/{id}`: the status and progress of its latest run (`state`, `progress`,
  `updated` and `diverged` refs, `error`).
- `POST /api/imports/{id}/sync`: 202; bring the upstream's new commits in (or retry a failed import).

Only an owner or admin of the target namespace may start, see or sync an import (auth's namespace
"admin" decision, as for deleting or moving repos there); an import someone may not see answers 404.
The work is the mirror service's (imports.py).
"""
from __future__ import annotations

from fastapi import APIRouter, Request

from hangar_common import errors
from hangar_common.grpcio import call
from hangar_protos import mirror_pb2

from .. import deps, paths, urls
from ..bodies import json_object, string_field
from ..mirror_shapes import import_json
from ..repo_access import authorize_namespace, repo_ref
from ..shapes import JSON

router = APIRouter()


def _mirror(services: deps.Clients):
    mirror = services.mirror
    if mirror is None:
        raise errors.BadRequest("No upstream Hub is configured on this hub", code="UpstreamDisabled")
    return mirror


def _repo_url(request: Request, s: mirror_pb2.ImportStatus) -> str:
    return urls.repo_url(request, s.target.type, f"{s.target.namespace}/{s.target.name}")


def _revisions(body: dict) -> list[str]:
    value = body.get("revisions")
    if value is None or value == "all":
        return []
    if not isinstance(value, list) or not value or not all(isinstance(v, str) and v for v in value):
        raise errors.BadRequest("revisions must be 'all' or a list of branch and tag names", code="InvalidField")
    return value


@router.post("/api/imports")
async def start_import(request: Request, services: deps.Services, caller: deps.CurrentPrincipal):
    mirror = _mirror(services)
    body = await json_object(request)
    repo_type = paths.repo_type(string_field(body, "type"))
    source_ns, source_name = paths.split_repo_id(string_field(body, "source", required=True))
    target = string_field(body, "repo")
    if target:
        namespace, name = paths.split_repo_id(target)
    else:
        if caller.anonymous:
            raise errors.Unauthorized("You must be authenticated to do this")
        namespace, name = caller.username, source_name
    private = body.get("private")
    if private is not None and not isinstance(private, bool):
        raise errors.BadRequest("private must be a boolean", code="InvalidField")
    revisions = _revisions(body)
    principal = await authorize_namespace(request, namespace, "admin")
    start = mirror_pb2.StartImportRequest(principal=principal, source_type=repo_type,
                                          source_id=f"{source_ns}/{source_name}",
                                          target=repo_ref(repo_type, namespace, name), revisions=revisions)
    if private is not None:
        start.private = private
    status = await call(mirror.StartImport, start)
    return JSON(import_json(status, _repo_url(request, status)), status_code=202)


async def _visible(request: Request, services: deps.Clients, import_id: str) -> mirror_pb2.ImportStatus:
    if not import_id.isalnum() or len(import_id) > 64:
        raise errors.NotFound("Import not found", code="ImportNotFound")
    status = await call(_mirror(services).GetImport, mirror_pb2.GetImportRequest(id=import_id))
    try:
        await authorize_namespace(request, status.target.namespace, "admin")
    except errors.Forbidden:
        raise errors.NotFound("Import not found", code="ImportNotFound") from None
    return status


@router.get("/api/imports/{import_id}")
async def get_import(request: Request, import_id: str, services: deps.Services):
    status = await _visible(request, services, import_id)
    return JSON(import_json(status, _repo_url(request, status)))


@router.post("/api/imports/{import_id}/sync")
async def sync_import(request: Request, import_id: str, services: deps.Services):
    await _visible(request, services, import_id)
    status = await call(_mirror(services).SyncImport, mirror_pb2.GetImportRequest(id=import_id))
    return JSON(import_json(status, _repo_url(request, status)), status_code=202)

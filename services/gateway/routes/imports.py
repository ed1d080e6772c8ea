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
from ..repo_access import authorize_namespace, repo_ref
from ..shapes import JSON

router = APIRouter()


def _mirror(services: deps.Clients):
    mirror = services.mirror
    if mirror is None:
        raise errors.BadRequest("No upstream Hub is configured on this hub", code="UpstreamDisabled")
    return mirror


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
    return JSON(_shape(request, status), status_code=202)


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
    return JSON(_shape(request, await _visible(request, services, import_id)))


@router.post("/api/imports/{import_id}/sync")
async def sync_import(request: Request, import_id: str, services: deps.Services):
    await _visible(request, services, import_id)
    status = await call(_mirror(services).SyncImport, mirror_pb2.GetImportRequest(id=import_id))
    return JSON(_shape(request, status), status_code=202)


def _ref(report: mirror_pb2.RefReport) -> dict:
    return {"ref": report.ref, "local": report.local or None, "upstream": report.upstream or None,
            **({"reason": report.reason} if report.reason else {})}


def _shape(request: Request, s: mirror_pb2.ImportStatus) -> dict:
    repo_id = f"{s.target.namespace}/{s.target.name}"
    return {
        "id": s.id, "kind": s.kind, "state": s.state,
        "source": {"type": s.source_type, "id": s.source_id},
        "repo": {"type": s.target.type, "id": repo_id, "url": urls.repo_url(request, s.target.type, repo_id)},
        "revisions": list(s.revisions) or "all",
        "private": s.private, "gated": s.gated or False,
        "progress": {"objectsTotal": s.objects_total, "objectsDone": s.objects_done, "bytesTotal": s.bytes_total,
                     "bytesDone": s.bytes_done, "gitBytes": s.git_bytes},
        "updated": [_ref(r) for r in s.updated], "diverged": [_ref(r) for r in s.diverged],
        "error": {"code": s.error_code, "message": s.error} if s.error_code else None,
        "createdBy": s.created_by, "createdAt": s.created_at, "updatedAt": s.updated_at,
        "finishedAt": s.finished_at or None, "syncedAt": s.synced_at or None,
    }

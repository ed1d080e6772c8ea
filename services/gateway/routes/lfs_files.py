"""LFS file management as huggingface_hub calls it: `GET /api/{type}s/{id}/lfs-files`
(`list_lfs_files`, paged with an absolute `Link`), `POST .../lfs-files/batch`
(`permanently_delete_lfs_files`: history rewritten without the pointers, as the Hub does with
`rewriteHistory: true`; then the bytes nothing else references are freed) and `POST
.../lfs-files/duplicate` on the source repository (the cross-repository `CommitOperationCopy`).
Rules live in metadata (lfsfiles.py) and lfs (duplication.py)."""
from __future__ import annotations

from fastapi import APIRouter, Request

from hangar_common import errors
from hangar_common.grpcio import call
from hangar_protos import lfs_pb2, metadata_pb2

from .. import deps, paths, urls
from ..bodies import json_object
from ..repo_access import open_repo
from ..shapes import JSON

router = APIRouter()
PAGE = 100
MAX_FILES = 1000


@paths.repo_api(router, "/lfs-files", ["GET"])
async def list_lfs_files(request: Request, target: deps.ApiTarget, services: deps.Services):
    """Items `{fileOid, oid, filename, size, pushedAt, ref}`: `fileOid` (what deletion takes) and
    `oid` are both the object's sha256; `ref` is null (not tracked per object)."""
    info = await open_repo(request, target, "write")
    page = urls.numbered_page(request, PAGE)
    answer = await call(services.metadata.ListLfsFiles, metadata_pb2.ListLfsFilesRequest(
        repo=info.facts.repo, offset=page.offset, limit=page.limit))
    headers = page.next_headers(request, answer.has_more)
    return JSON([{"fileOid": f.oid, "oid": f.oid, "filename": f.filename, "size": f.size, "pushedAt": f.pushed_at,
                  "ref": None} for f in answer.files], headers=headers)


@paths.repo_api(router, "/lfs-files/batch", ["POST"])
async def delete_lfs_files(request: Request, target: deps.ApiTarget, services: deps.Services,
                           principal: deps.CurrentPrincipal):
    """Body `{"deletions": {"sha": [...], "rewriteHistory": true}}`. Every ref's history is rewritten
    without the pointers (so commit ids change; the answer lists the refs that moved), then the
    bytes nothing else references are deleted. `rewriteHistory: false` (leaving pointers to missing
    bytes) is refused: in Hangar the bytes are shared by content, and this repository's history
    would keep them referenced."""
    body = await json_object(request)
    deletions = body.get("deletions")
    if not isinstance(deletions, dict) or not isinstance(deletions.get("sha"), list) or \
            not all(isinstance(s, str) for s in deletions["sha"]) or not 1 <= len(deletions["sha"]) <= MAX_FILES:
        raise errors.BadRequest(f"Expected {{'deletions': {{'sha': [1 to {MAX_FILES} sha256], "
                                "'rewriteHistory': true}}", code="InvalidField")
    rewrite = deletions.get("rewriteHistory", True)
    if rewrite is not True:
        raise errors.BadRequest("Hangar deletes LFS files only by rewriting history (rewriteHistory: true)",
                                code="RewriteRequired")
    info = await open_repo(request, target, "admin")
    done = await call(services.metadata.DeleteLfsFiles, metadata_pb2.DeleteLfsFilesRequest(
        repo=info.facts.repo, oids=deletions["sha"], principal=principal))
    still = set(done.still_referenced)
    freed = await call(services.lfs.FreeObjects, lfs_pb2.FreeObjectsRequest(
        oids=[o for o in done.deleted if o not in still], repo_id=info.facts.repo_id))
    return JSON({"deleted": list(done.deleted), "freed": list(freed.freed),
                 "historyRewritten": True,
                 "message": "History was rewritten without these files: the commits that had them, and every "
                            "commit after, have new ids.",
                 "refs": [{"ref": m.ref, "oldOid": m.old_oid, "newOid": m.new_oid} for m in done.moved]})


@paths.repo_api(router, "/lfs-files/duplicate", ["POST"])
async def duplicate_lfs_files(request: Request, source_target: deps.ApiTarget, services: deps.Services,
                              principal: deps.CurrentPrincipal):
    """On the source repo: `{"target": {"type", "name"}, "files": [{"sha256", "xetHash", "filename"}]}`,
    answering `{"duplicated": [...], "failed": [{"sha256", "error"}]}` (the client reads `failed`)."""
    body = await json_object(request)
    target, files = body.get("target"), body.get("files")
    if not isinstance(target, dict) or not isinstance(target.get("name"), str) or \
            not isinstance(files, list) or not 1 <= len(files) <= MAX_FILES or \
            not all(isinstance(f, dict) and isinstance(f.get("sha256"), str) for f in files):
        raise errors.BadRequest(f"Expected {{'target': {{'type', 'name'}}, 'files': [1 to {MAX_FILES} "
                                "{'sha256', 'xetHash'?}]}", code="InvalidField")
    source = await open_repo(request, source_target, "download")
    namespace, name = paths.split_repo_id(target["name"])
    destination = await open_repo(request, paths.RepoTarget(paths.repo_type(target.get("type")), namespace, name),
                                  "write")
    answer = await call(services.lfs.DuplicateObjects, lfs_pb2.DuplicateObjectsRequest(
        principal=principal, source=source.facts, target=destination.facts,
        files=[lfs_pb2.DuplicateFile(sha256=f["sha256"], xet_hash=str(f.get("xetHash") or ""),
                                     filename=str(f.get("filename") or "")) for f in files]))
    return JSON({"duplicated": list(answer.duplicated),
                 "failed": [{"sha256": f.sha256, "error": f.error} for f in answer.failed]})

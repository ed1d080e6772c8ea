"""`POST /api/{type}s/{id}/preupload/{rev}`: for each file the client is about to commit, whether to
send it inline (`regular`) or through LFS, whether the `gitIgnore` rules it sent ignore it, and the
oid of the file now at that path so unchanged files are skipped (huggingface_hub
`_fetch_upload_modes`; docs/clients.md). The decision itself (size threshold, `.gitattributes` LFS
patterns, gitignore matching) is metadata's."""
from __future__ import annotations

import base64
import binascii

from fastapi import APIRouter, Request

from hangar_common import errors
from hangar_common.grpcio import call
from hangar_protos import metadata_pb2

from .. import deps, paths
from ..bodies import json_object, truthy
from ..repo_access import open_for_upload
from ..shapes import JSON

router = APIRouter()

MAX_FILES = 1000
MAX_SAMPLE = 512


def _file(item) -> metadata_pb2.PreuploadFile:
    if not isinstance(item, dict) or not isinstance(item.get("path"), str):
        raise errors.BadRequest("Each file needs a 'path'", code="InvalidPreupload")
    size = item.get("size", 0)
    if not isinstance(size, int) or isinstance(size, bool) or size < 0:
        raise errors.BadRequest("'size' must be a non-negative integer", code="InvalidPreupload")
    sample = item.get("sample", "")
    if not isinstance(sample, str):
        raise errors.BadRequest("'sample' must be base64", code="InvalidPreupload")
    try:
        raw = base64.b64decode(sample, validate=True)
    except (binascii.Error, ValueError):
        raise errors.BadRequest("'sample' must be base64", code="InvalidBase64") from None
    return metadata_pb2.PreuploadFile(path=paths.file_path(item["path"]), size=size,
                                      sample=raw[:MAX_SAMPLE])


@paths.repo_api(router, "/preupload/{rest:path}", ["POST"])
async def preupload(request: Request, target: deps.ApiTarget, services: deps.Services):
    if len(target.tail) != 2 or not target.tail[1]:
        raise errors.NotFound("Not found")
    body = await json_object(request)
    files = body.get("files")
    if not isinstance(files, list) or len(files) > MAX_FILES:
        raise errors.BadRequest(f"'files' must be a list of at most {MAX_FILES} entries",
                                code="InvalidPreupload")
    git_ignore = body.get("gitIgnore") or ""
    if not isinstance(git_ignore, str):
        raise errors.BadRequest("'gitIgnore' must be a string", code="InvalidPreupload")
    request_files = [_file(item) for item in files]
    info, _ = await open_for_upload(request, target, target.tail[1],
                                    create_pr=truthy(request.query_params.get("create_pr", "0")))
    answer = await call(services.metadata.Preupload, metadata_pb2.PreuploadRequest(
        repo=info.facts.repo, revision=target.tail[1], files=request_files,
        git_ignore=git_ignore.splitlines()))
    return JSON({"files": [
        {"path": f.path, "uploadMode": f.upload_mode, "shouldIgnore": f.should_ignore,
         "oid": f.oid or None} for f in answer.files], "commitOid": answer.commit or None})

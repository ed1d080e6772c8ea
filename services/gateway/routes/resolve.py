"""File downloads: `GET|HEAD /[{datasets|spaces}/]{ns}/{name}/resolve/{rev}/{path}`.

What huggingface_hub's `hf_hub_download` / `get_hf_file_metadata` and HfFileSystem rely on
(file_download.py, docs/clients.md):
- every answer carries `X-Repo-Commit` (404 EntryNotFound too); HEAD is explicit and never compressed;
- regular files are served here, streamed: ETag is the quoted git blob sha1, Content-Length is real,
  `Range` gives 206 + Content-Range (416 past the end); they are user content on the hub's origin,
  so they go out as attachments, `nosniff`, under a sandboxing CSP;
- LFS files are a 302 to a presigned URL on S3's own origin (absolute), with `X-Linked-Etag`
  (sha256) and `X-Linked-Size`, so the client never sends its token to S3.
"""
from __future__ import annotations

import re

from fastapi import APIRouter, Request
from starlette.responses import Response, StreamingResponse

from hangar_common import errors
from hangar_common.hotreads import SMALL_BLOB
from hangar_protos import metadata_pb2

from .. import contents, deps, downloads, paths, upstream_object
from ..repo_access import open_repo

router = APIRouter()


async def resolve_file(request: Request):
    target, services = paths.resolve_target(request), deps.clients(request)
    if len(target.tail) < 3 or target.tail[0] != "resolve" or not target.tail[1]:
        raise errors.EntryNotFound("Not found")
    info = await open_repo(request, target, "download")
    commit = (await contents.resolve(services, info.facts.repo, target.tail[1])).commit
    path = "/".join(target.tail[2:])
    try:
        entry = await services.hot.entry(info.facts.repo, commit, paths.file_path(path))
    except errors.HangarError as exc:
        exc.headers = {**exc.headers, "X-Repo-Commit": commit}
        raise
    if entry.HasField("lfs") and entry.lfs.oid:
        try:
            granted = info.facts.repo_id if info.upstream_cache else ""
            answer = await downloads.lfs_redirect(request, services, target, entry, commit, granted)
        except errors.NotFound:   # lfs does not hold the bytes (yet)
            if not info.upstream_cache:
                raise
            return await upstream_object.serve(request, services, target, info, entry, commit)
        if info.upstream_cache:
            await upstream_object.served(services, entry.lfs.oid)
        return answer
    return await _regular(request, services, info.facts.repo, commit, entry)


for _prefix in ("/datasets", "/spaces", ""):
    router.add_api_route(f"{_prefix}/{{namespace}}/{{name}}/resolve/{{rest:path}}", resolve_file,
                         methods=["GET", "HEAD"], include_in_schema=False)

# Every download starts here: app.py answers these paths with resolve_file directly (http.Shortcuts).
# The first segment of a path the routes above take is a namespace, never a reserved one, which
# other routes own (`/api/...`); those keep the app's routing.
_RESERVED = "|".join(re.escape(n) for n in sorted(paths.RESERVED_NAMESPACES - {"datasets", "spaces"}))
SHORTCUT = (frozenset({"GET", "HEAD"}),
            re.compile(rf"^/(?:datasets/|spaces/)?(?!(?:{_RESERVED})/)[^/]+/[^/]+/resolve/"), resolve_file)


async def _regular(request: Request, services: deps.Clients, repo, commit: str,
                   entry: metadata_pb2.TreeEntry) -> Response:
    headers = downloads.content_headers(entry, commit)
    if request.headers.get("if-none-match") == headers["ETag"]:
        return Response(status_code=304, headers={k: v for k, v in headers.items() if k != "Content-Type"})
    try:
        span = downloads.byte_range(request.headers.get("range"), entry.size)
    except errors.HangarError as exc:
        exc.headers.update({"X-Repo-Commit": commit, "ETag": headers["ETag"]})
        raise
    status, offset, length = 200, 0, entry.size
    if span is not None:
        status, offset, length = 206, span[0], span[1] - span[0] + 1
        headers["Content-Range"] = f"bytes {span[0]}-{span[1]}/{entry.size}"
    headers["Content-Length"] = str(length)
    if request.method == "HEAD" or length == 0:
        return Response(status_code=status, headers=headers)
    hot = services.hot
    if entry.size <= SMALL_BLOB:   # small files are read whole once and kept by their blob id
        data = hot.small_blob(entry.oid)
        if data is None:
            data = await _whole(services, repo, commit, entry)
            hot.keep_blob(entry.oid, data)
        return Response(data[offset:offset + length], status_code=status, headers=headers)
    chunks = contents.file_chunks(services, metadata_pb2.ReadFileRequest(
        repo=repo, revision=commit, path=entry.path, offset=offset, length=length))
    first, rest = await contents.first_and_rest(chunks)
    return StreamingResponse(_data(first, rest), status_code=status, headers=headers)


async def _whole(services: deps.Clients, repo, commit: str, entry: metadata_pb2.TreeEntry) -> bytes:
    chunks = contents.file_chunks(services, metadata_pb2.ReadFileRequest(repo=repo, revision=commit, path=entry.path))
    data = b"".join([chunk.data async for chunk in chunks if chunk.HasField("data")])
    if len(data) != entry.size:
        raise RuntimeError(f"read {len(data)} of {entry.size} bytes of {entry.oid}")
    return data


async def _data(first, rest):
    if first is not None and first.HasField("data"):
        yield first.data
    async for chunk in rest:
        if chunk.HasField("data"):
            yield chunk.data

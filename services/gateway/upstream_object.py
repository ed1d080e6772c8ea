"""An LFS file of an upstream-cached repository whose bytes Hangar does not hold yet (issue 18):
streamed from the mirror service as it fetches them (one upstream download however many clients
ask; the mirror holds each stream's last byte until the object's sha256 checked, and aborts the
stream on a mismatch, so a client never completes a download of bad bytes). Once stored, the same
URL answers with the usual 302 to S3. HEAD answers the file's facts without fetching anything."""
from __future__ import annotations

from fastapi import Request
from starlette.responses import Response, StreamingResponse

from hangar_common import errors
from hangar_common.grpcio import call, stream
from hangar_protos import metadata_pb2, mirror_pb2

from . import deps
from .deps import Clients
from .downloads import byte_range, content_headers, lfs_redirect


async def serve(request: Request, services: Clients, target, info: metadata_pb2.RepoInfo,
                entry: metadata_pb2.TreeEntry, commit: str):
    mirror = services.mirror
    if mirror is None:
        raise errors.EntryNotFound(f"{entry.path} is not stored")
    size = entry.lfs.size
    headers = content_headers(entry, commit)
    headers.update({"ETag": f'"{entry.lfs.oid}"', "X-Linked-Etag": f'"{entry.lfs.oid}"',
                    "X-Linked-Size": str(size)})
    try:
        span = byte_range(request.headers.get("range"), size)
    except errors.HangarError as exc:
        exc.headers.update({"X-Repo-Commit": commit})
        raise
    status, offset, length = 200, 0, size
    if span is not None:
        status, offset, length = 206, span[0], span[1] - span[0] + 1
        headers["Content-Range"] = f"bytes {span[0]}-{span[1]}/{size}"
    headers["Content-Length"] = str(length)
    if request.method == "HEAD" or length == 0:
        return Response(status_code=status, headers=headers)
    principal = await deps.current_principal(request)
    chunks = stream(mirror.StreamObject(mirror_pb2.StreamObjectRequest(
        repo=info.facts.repo, principal=principal, oid=entry.lfs.oid, size=size, offset=offset, length=length),
        timeout=6 * 3600))
    try:
        first = await chunks.__anext__()
    except StopAsyncIteration:
        first = mirror_pb2.ObjectChunk()
    if first.stored:
        await chunks.aclose()
        return await lfs_redirect(request, services, target, entry, commit)
    return StreamingResponse(_body(first, chunks), status_code=status, headers=headers)


async def _body(first, rest):
    if first.data:
        yield first.data
    async for chunk in rest:
        yield chunk.data


async def served(services: Clients, oid: str) -> None:
    """A cached object went out as a 302 to S3: the mirror counts the hit and keeps the object
    recently used (its LRU bound). Best effort: a mirror that is down changes nothing here."""
    mirror = services.mirror
    if mirror is None:
        return
    try:
        await call(mirror.ObjectServed, mirror_pb2.ObjectServedRequest(oid=oid), timeout=2.0)
    except errors.HangarError:
        pass

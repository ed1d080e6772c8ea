"""What a file download answers, shared by resolve (routes/resolve.py) and the upstream cache's
streamed objects (upstream_object.py): the headers of a file's bytes, the single `Range` huggingface_hub
and HfFileSystem send, and an LFS file's 302 to a presigned URL on S3's own origin (absolute, so the
client never sends its token there) with `X-Linked-Etag`/`X-Linked-Size` and, for Xet-uploaded files,
the Xet hash and the route that hands out read tokens."""
from __future__ import annotations

import mimetypes
import re
from urllib.parse import quote

from fastapi import Request
from starlette.responses import Response

from hangar_common import errors
from hangar_protos import lfs_pb2, metadata_pb2

from . import contents, paths, urls
from .deps import Clients

SANDBOX_CSP = "default-src 'none'; sandbox"
DOWNLOAD_URL_SECONDS = 3600
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


async def lfs_redirect(request: Request, services: Clients, target: paths.RepoTarget,
                       entry: metadata_pb2.TreeEntry, commit: str, granted_repo_id: str = "") -> Response:
    """302 to the object in S3. For an upstream cache only bytes fetched for that cache qualify
    (`granted_repo_id`): its pointers came from the upstream, not through the LFS rule."""
    answer = await services.hot.download_url(lfs_pb2.DownloadUrlRequest(
        oid=entry.lfs.oid, size=entry.lfs.size, filename=entry.path.rsplit("/", 1)[-1],
        expires_seconds=DOWNLOAD_URL_SECONDS, granted_repo_id=granted_repo_id))
    headers = {
        "Location": answer.url, "X-Repo-Commit": commit, "ETag": f'"{entry.lfs.oid}"',
        "X-Linked-Etag": f'"{entry.lfs.oid}"', "X-Linked-Size": str(entry.lfs.size),
        "Cache-Control": "private, max-age=0, must-revalidate"}
    xet_hash = (await contents.xet_hashes(services, [entry.lfs.oid])).get(entry.lfs.oid)
    if xet_hash:
        # Xet-aware clients reconstruct from the CAS; the refresh route hands them a read token.
        refresh = f"{urls.public_base(request)}/api/{target.type}s/{target.repo_id}/xet-read-token/{commit}"
        headers.update({"X-Xet-Hash": xet_hash, "X-Xet-Refresh-Route": refresh,
                        "Link": f'<{refresh}>; rel="xet-auth"'})
    return Response(status_code=302, headers=headers)


def content_headers(entry: metadata_pb2.TreeEntry, commit: str) -> dict[str, str]:
    filename = entry.path.rsplit("/", 1)[-1]
    ascii_name = filename.encode("ascii", "replace").decode().replace('"', "_").replace("?", "_")
    media_type = mimetypes.guess_type(filename)[0] or "application/octet-stream"
    if media_type.startswith("text/"):
        media_type += "; charset=utf-8"
    return {
        "X-Repo-Commit": commit, "ETag": f'"{entry.oid}"', "Accept-Ranges": "bytes",
        "Content-Type": media_type,
        "Content-Disposition": f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}",
        "X-Content-Type-Options": "nosniff", "Content-Security-Policy": SANDBOX_CSP,
        "Cache-Control": "private, max-age=0, must-revalidate",
    }


def byte_range(header: str | None, size: int) -> tuple[int, int] | None:
    """(start, end inclusive) for a single `bytes=` range; None to serve the whole file. Raises 416
    when the range starts past the end (RFC 9110 §14)."""
    if not header:
        return None
    match = _RANGE.match(header.strip())
    if not match or match.groups() == ("", ""):
        return None  # unsupported form (several ranges...): the whole file is a valid answer
    first, last = match.groups()
    if first == "":
        start, end = max(0, size - int(last)), size - 1
    else:
        start, end = int(first), min(int(last), size - 1) if last else size - 1
    if start >= size or start > end:
        raise errors.HangarError("Requested range not satisfiable", code="RangeNotSatisfiable", status=416,
                                 headers={"Content-Range": f"bytes */{size}"})
    return start, end

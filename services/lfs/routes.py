"""HTTP surface of the lfs service. Traefik sends it every path matching
`^/(datasets/|spaces/)?{ns}/{name}.git/info/lfs(/.*)?$`; this module parses the raw path and
dispatches:

    POST .../info/lfs/objects/batch                      batch.py (git-lfs docs/api/batch.md)
    POST .../info/lfs/objects/uploads/{id}/verify        completion.py (signed URL)
    POST .../info/lfs/objects/uploads/{id}/complete      completion.py (signed URL, HF multipart)
    POST .../info/lfs/locks, GET .../info/lfs/locks      locks.py (git-lfs docs/api/locking.md)
    POST .../info/lfs/locks/verify, .../locks/{id}/unlock
"""
from __future__ import annotations

import logging
import re

import orjson
from fastapi import APIRouter, Request
from starlette.responses import Response

from hangar_common import edge, errors, faults
from hangar_common.errors import HangarError
from hangar_common.inputs import json_problem

from . import batch, completion, locks
from .access import parse
from .lfs_errors import lfs_error_response, lfs_json

logger = logging.getLogger("hangar.lfs.http")
router = APIRouter()
MAX_BODY = 8 * 1024 * 1024
_UPLOAD = re.compile(r"^/objects/uploads/([^/]+)/(verify|complete)$")
_UNLOCK = re.compile(r"^/locks/([^/]+)/unlock$")


async def _json(request: Request):
    chunks, total = [], 0
    async for chunk in request.stream():
        total += len(chunk)
        if total > MAX_BODY:
            raise errors.PayloadTooLarge("Request body too large", code="PayloadTooLarge")
        chunks.append(chunk)
    try:
        body = orjson.loads(b"".join(chunks) or b"{}")
    except orjson.JSONDecodeError:
        raise errors.UnprocessableEntity("The request body is not valid JSON", code="InvalidRequest") from None
    problem = json_problem(body)
    if problem:
        raise errors.UnprocessableEntity(f"Invalid request body: {problem}", code="InvalidRequest")
    return body


async def _dispatch(request: Request, lfs_path) -> Response:
    ctx = request.app.state.lfs
    auth = request.headers.get("authorization", "")
    client = request.client.host if request.client else ""
    rest, method = lfs_path.rest, request.method
    if method == "POST" and rest == "/objects/batch":
        origin = edge.public_origin(request, ctx.settings)
        return lfs_json(await batch.handle(ctx, lfs_path, await _json(request), auth, client, origin,
                                           _browser_session(request, auth)))
    if method == "POST" and (m := _UPLOAD.match(rest)):
        handler = completion.verify if m.group(2) == "verify" else completion.complete
        return lfs_json(await handler(ctx, m.group(1), request.query_params.get("token", ""), await _json(request)))
    if rest == "/locks" and method == "GET":
        return lfs_json(await locks.list_locks(ctx, lfs_path, dict(request.query_params), auth))
    if rest == "/locks" and method == "POST":
        status, body = await locks.create(ctx, lfs_path, await _json(request), auth)
        return lfs_json(body, status)
    if rest == "/locks/verify" and method == "POST":
        return lfs_json(await locks.verify(ctx, lfs_path, await _json(request), auth))
    if method == "POST" and (m := _UNLOCK.match(rest)):
        return lfs_json(await locks.unlock(ctx, lfs_path, m.group(1), await _json(request), auth))
    raise errors.NotFound("Not found", code="NotFound")


def _browser_session(request: Request, authorization: str):
    """The web pages upload large files through this batch API from the browser, signed in by the
    session cookie (same origin) with the CSRF token in `X-CSRF-Token`; Authorization wins."""
    cookie = request.cookies.get("hangar_session", "")
    if authorization or not cookie:
        return None
    return cookie, request.headers.get("x-csrf-token", "")


_METHODS = ["GET", "POST", "PUT", "DELETE", "HEAD"]


# Only `.../{name}.git/info/lfs/...` paths: other routers of this app (Xet) are unaffected.
@router.api_route("/{namespace}/{name}.git/info/lfs/{rest:path}", methods=_METHODS, include_in_schema=False)
@router.api_route("/datasets/{namespace}/{name}.git/info/lfs/{rest:path}", methods=_METHODS, include_in_schema=False)
@router.api_route("/spaces/{namespace}/{name}.git/info/lfs/{rest:path}", methods=_METHODS, include_in_schema=False)
async def lfs_api(request: Request) -> Response:
    lfs_path = parse(request.scope.get("raw_path", b"").decode("latin-1").split("?", 1)[0] or request.url.path)
    try:
        if lfs_path is None:
            raise errors.NotFound("Not found", code="NotFound")
        return await _dispatch(request, lfs_path)
    except HangarError as exc:
        return lfs_error_response(exc)
    except Exception as exc:  # an outage (503) or a bug (500), in the LFS API's own error shape
        return lfs_error_response(faults.to_error(exc, "lfs_api"))

"""HTTP surface of the lfs service: the Git LFS API. Traefik sends it every path matching
`^/(datasets/|spaces/)?{ns}/{name}.git/info/lfs(/.*)?$`; each endpoint is a route below, declared
under the three repository prefixes:

    POST .../info/lfs/objects/batch                      batch.py (git-lfs docs/api/batch.md)
    POST .../info/lfs/objects/uploads/{id}/verify        completion.py (signed URL)
    POST .../info/lfs/objects/uploads/{id}/complete      completion.py (signed URL, HF multipart)
    GET, POST .../info/lfs/locks                         locks.py (git-lfs docs/api/locking.md)
    POST .../info/lfs/locks/verify, .../locks/{id}/unlock

Any other path or method under `.../info/lfs/` is a 404. Every answer, errors included, is in the
LFS API's own media type (lfs_errors.py): `LfsRoute` renders whatever a route or its dependencies
raise.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, Request
from fastapi.routing import APIRoute
from starlette.responses import Response

from hangar_common import edge, errors, faults
from hangar_common.errors import HangarError
from hangar_common.inputs import json_problem

from . import batch, completion, locks
from .access import LfsPath, parse
from .context import Lfs
from .lfs_errors import lfs_error_response, lfs_json

logger = logging.getLogger("hangar.lfs.http")
MAX_BODY = 8 * 1024 * 1024
PREFIXES = ("/{namespace}/{name}.git/info/lfs", "/datasets/{namespace}/{name}.git/info/lfs",
            "/spaces/{namespace}/{name}.git/info/lfs")
_METHODS = ["GET", "POST", "PUT", "DELETE", "HEAD"]


class LfsRoute(APIRoute):
    """A route whose errors (its own and its dependencies') are answered in the LFS JSON shape."""

    def get_route_handler(self) -> Callable:
        handler = super().get_route_handler()

        async def lfs_handler(request: Request) -> Response:
            try:
                return await handler(request)
            except HangarError as exc:
                return lfs_error_response(exc)
            except Exception as exc:  # an outage (503) or a bug (500), in the LFS API's own error shape
                return lfs_error_response(faults.to_error(exc, "lfs_api"))

        return lfs_handler


router = APIRouter(route_class=LfsRoute)


def lfs_route(path: str, methods: list[str]):
    """Declare one LFS endpoint under the model, dataset and space prefixes."""
    def register(endpoint):
        for prefix in PREFIXES:
            router.add_api_route(prefix + path, endpoint, methods=methods, include_in_schema=False)
        return endpoint
    return register


def lfs_context(request: Request) -> Lfs:
    return request.app.state.lfs


def lfs_path(request: Request) -> LfsPath:
    """The repository and the LFS base URL as the client addressed it (the raw path: names may be
    percent-encoded)."""
    parsed = parse(request.scope.get("raw_path", b"").decode("latin-1").split("?", 1)[0] or request.url.path)
    if parsed is None:
        raise errors.NotFound("Not found", code="NotFound")
    return parsed


@dataclass(frozen=True)
class Caller:
    authorization: str
    client: str
    session: tuple[str, str] | None   # a browser on the hub's pages: (cookie, CSRF token)


def caller(request: Request) -> Caller:
    """Who calls, as auth needs it. The web pages upload large files through this batch API from the
    browser, signed in by the session cookie (same origin) with the CSRF token in `X-CSRF-Token`;
    Authorization wins."""
    authorization = request.headers.get("authorization", "")
    cookie = request.cookies.get("hangar_session", "")
    session = None if authorization or not cookie else (cookie, request.headers.get("x-csrf-token", ""))
    return Caller(authorization, request.client.host if request.client else "", session)


async def json_body(request: Request) -> Any:
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


Context = Annotated[Lfs, Depends(lfs_context)]
Target = Annotated[LfsPath, Depends(lfs_path)]
Who = Annotated[Caller, Depends(caller)]
Body = Annotated[Any, Depends(json_body)]


@lfs_route("/objects/batch", ["POST"])
async def objects_batch(request: Request, ctx: Context, target: Target, who: Who, body: Body) -> Response:
    origin = edge.public_origin(request, ctx.settings)
    return lfs_json(await batch.handle(ctx, target, body, who.authorization, who.client, origin, who.session))


@lfs_route("/objects/uploads/{upload_id}/verify", ["POST"])
async def upload_verify(ctx: Context, _: Target, upload_id: str, body: Body, token: str = "") -> Response:
    return lfs_json(await completion.verify(ctx, upload_id, token, body))


@lfs_route("/objects/uploads/{upload_id}/complete", ["POST"])
async def upload_complete(ctx: Context, _: Target, upload_id: str, body: Body, token: str = "") -> Response:
    return lfs_json(await completion.complete(ctx, upload_id, token, body))


@lfs_route("/locks", ["GET"])
async def list_locks(request: Request, ctx: Context, target: Target, who: Who) -> Response:
    return lfs_json(await locks.list_locks(ctx, target, dict(request.query_params), who.authorization))


@lfs_route("/locks", ["POST"])
async def create_lock(ctx: Context, target: Target, who: Who, body: Body) -> Response:
    status, answer = await locks.create(ctx, target, body, who.authorization)
    return lfs_json(answer, status)


@lfs_route("/locks/verify", ["POST"])
async def verify_locks(ctx: Context, target: Target, who: Who, body: Body) -> Response:
    return lfs_json(await locks.verify(ctx, target, body, who.authorization))


@lfs_route("/locks/{lock_id}/unlock", ["POST"])
async def unlock(ctx: Context, target: Target, who: Who, lock_id: str, body: Body) -> Response:
    return lfs_json(await locks.unlock(ctx, target, lock_id, body, who.authorization))


# Last: anything else under `.../info/lfs/` (another path, or a method no route above takes).
@lfs_route("/{rest:path}", _METHODS)
async def not_an_lfs_endpoint(_: Target) -> Response:
    raise errors.NotFound("Not found", code="NotFound")

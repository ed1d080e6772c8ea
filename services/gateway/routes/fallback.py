"""Repo URLs no other route matched: they name no repository the caller may see, so they answer
RepoNotFound as every repo route does (401 anonymous, 404 signed in; hangar_common.edge.refusal), never a bare
route miss. That covers ids without a namespace (`GET /api/models/gpt2`, `HEAD /gpt2/resolve/main/x`):
every Hangar repository has one, so `repo_exists`, `revision_exists` and `file_exists` answer False
-- unless the upstream mirror knows the id: the Hub still answers its oldest ids (`gpt2`) with a
redirect to the namespaced repository, and so does Hangar then (a relative 307, followed by
huggingface_hub as for a renamed repo).

A URL whose first two segments do name a visible repository but no route of it stays NotFound.
Mounted last (routes/__init__.py), so it only sees what nothing else took.
"""
from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Request
from starlette.routing import Match

from hangar_common import edge, errors
from hangar_common.grpcio import call
from hangar_protos import common_pb2, mirror_pb2

from .. import deps, paths
from ..repo_access import get_repo

router = APIRouter()
METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"]
# Read routes of a repository: `/api/models/gpt2/revision/main` may be a legacy id's.
REPO_READS = {"revision", "tree", "paths-info", "refs", "commits", "treesize", "resolve"}


async def _missing(request: Request, services: deps.Clients, principal: common_pb2.Principal, repo_type: str,
                   segments: list[str], head: str, raw: list[str]):
    """segments: the decoded path after the repo type (`/api/models/` or `/datasets/`...); `head`
    and `raw`: the raw path before and from the id (for a legacy id's redirect)."""
    legacy = len(segments) == 1 or (len(segments) >= 2 and segments[1] in REPO_READS)
    if len(segments) >= 2 and segments[0] and segments[1]:
        try:
            info = await get_repo(request, paths.RepoTarget(repo_type, segments[0], segments[1]))
            await deps.authorize(request, info.facts, "read")
        except errors.HangarError as exc:
            if exc.code in ("RepoNotFound", "InvalidRepoName"):
                if legacy and request.method in ("GET", "HEAD"):
                    await _legacy_redirect(request, services, repo_type, segments[0], head, raw[1:])
                raise edge.refusal(principal, "RepoNotFound") from None
            raise
        raise _route_miss(request)
    if legacy and segments[0] and request.method in ("GET", "HEAD"):
        await _legacy_redirect(request, services, repo_type, segments[0], head, raw[1:])
    raise edge.refusal(principal, "RepoNotFound")


async def _legacy_redirect(request: Request, services: deps.Clients, repo_type: str, name: str, head: str,
                           rest: list[str]) -> None:
    """Raise the 307 to the namespaced repository the upstream gives for `name`; return if none."""
    mirror = services.mirror
    if mirror is None or not name:
        return
    try:
        ref = await call(mirror.ResolveLegacyId, mirror_pb2.LegacyIdRequest(type=repo_type, name=name))
    except (errors.NotFound, errors.BadRequest):
        return
    location = "/".join([head, quote(ref.namespace, safe=""), quote(ref.name, safe=""), *rest])
    if request.url.query:
        location += f"?{request.url.query}"
    raise errors.HangarError("Repository moved", code="RepoMoved", status=307, headers={"Location": location})


def _route_miss(request: Request) -> errors.HangarError:
    """What the router would have answered without this fallback: 405 when a route takes the path
    with another method, else 404."""
    for route in request.app.router.routes:
        if getattr(route, "endpoint", None) not in _OURS and route.matches(request.scope)[0] == Match.PARTIAL:
            return errors.HangarError("Method Not Allowed", code="MethodNotAllowed", status=405)
    return errors.NotFound("Not found")


def _api_handler(repo_type: str):
    async def unmatched_api(request: Request, rest: str, services: deps.Services, principal: deps.CurrentPrincipal):
        raw = paths.raw_segments(request)
        seg = [paths.decode_segment(s) for s in raw[2:]]
        return await _missing(request, services, principal, repo_type, seg, "/" + "/".join(raw[:2]), raw[2:])
    return unmatched_api


def _resolve_handler(repo_type: str, skip: int):
    async def unmatched_resolve(request: Request, rest: str, services: deps.Services,
                                principal: deps.CurrentPrincipal):
        raw = paths.raw_segments(request)
        seg = [paths.decode_segment(s) for s in raw[skip:]]
        if seg[1:2] == ["resolve"]:
            seg = seg[:1]   # `/{id}/resolve/...`: an id without a namespace
        return await _missing(request, services, principal, repo_type, seg, "".join("/" + s for s in raw[:skip]),
                              raw[skip:])
    return unmatched_resolve


_OURS: set = set()
for _plural, _type in paths.PLURALS.items():
    _handlers = (_api_handler(_type), _resolve_handler(_type, 0 if _type == "model" else 1))
    _OURS.update(_handlers)
    router.add_api_route(f"/api/{_plural}/{{rest:path}}", _handlers[0], methods=METHODS, include_in_schema=False)
    _prefix = "" if _type == "model" else f"/{_plural}"
    router.add_api_route(f"{_prefix}/{{name}}/resolve/{{rest:path}}", _handlers[1], methods=["GET", "HEAD"],
                         include_in_schema=False)

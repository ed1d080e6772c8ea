"""Repo URLs no other route matched: they name no repository the caller may see, so they answer
RepoNotFound as every repo route does (401 anonymous, 404 signed in; hangar_common.edge.refusal), never a bare
route miss. That covers ids without a namespace (`GET /api/models/gpt2`, `HEAD /gpt2/resolve/main/x`):
every Hangar repository has one, so `repo_exists`, `revision_exists` and `file_exists` answer False.

A URL whose first two segments do name a visible repository but no route of it stays NotFound.
Mounted last (routes/__init__.py), so it only sees what nothing else took.
"""
from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.routing import Match

from hangar_common import edge, errors

from .. import deps, paths
from ..repo_access import get_repo

router = APIRouter()
METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"]


async def _missing(request: Request, repo_type: str, segments: list[str]):
    """segments: the decoded path after the repo type (`/api/models/` or `/datasets/`...)."""
    if len(segments) >= 2 and segments[0] and segments[1]:
        try:
            info = await get_repo(request, paths.RepoTarget(repo_type, segments[0], segments[1]))
            await deps.authorize(request, info.facts, "read")
        except errors.HangarError as exc:
            if exc.code in ("RepoNotFound", "InvalidRepoName"):
                raise edge.refusal(await deps.current_principal(request), "RepoNotFound") from None
            raise
        raise _route_miss(request)
    raise edge.refusal(await deps.current_principal(request), "RepoNotFound")


def _route_miss(request: Request) -> errors.HangarError:
    """What the router would have answered without this fallback: 405 when a route takes the path
    with another method, else 404."""
    for route in request.app.router.routes:
        if getattr(route, "endpoint", None) not in _OURS and route.matches(request.scope)[0] == Match.PARTIAL:
            return errors.HangarError("Method Not Allowed", code="MethodNotAllowed", status=405)
    return errors.NotFound("Not found")


def _api_handler(repo_type: str):
    async def unmatched_api(request: Request, rest: str):
        seg = paths.raw_segments(request)[2:]
        return await _missing(request, repo_type, [paths.decode_segment(s) for s in seg])
    return unmatched_api


def _resolve_handler(repo_type: str, skip: int):
    async def unmatched_resolve(request: Request, rest: str):
        seg = [paths.decode_segment(s) for s in paths.raw_segments(request)[skip:]]
        if seg[1:2] == ["resolve"]:
            seg = seg[:1]   # `/{id}/resolve/...`: an id without a namespace
        return await _missing(request, repo_type, seg)
    return unmatched_resolve


_OURS: set = set()
for _plural, _type in paths.PLURALS.items():
    _handlers = (_api_handler(_type), _resolve_handler(_type, 0 if _type == "model" else 1))
    _OURS.update(_handlers)
    router.add_api_route(f"/api/{_plural}/{{rest:path}}", _handlers[0], methods=METHODS, include_in_schema=False)
    _prefix = "" if _type == "model" else f"/{_plural}"
    router.add_api_route(f"{_prefix}/{{name}}/resolve/{{rest:path}}", _handlers[1], methods=["GET", "HEAD"],
                         include_in_schema=False)

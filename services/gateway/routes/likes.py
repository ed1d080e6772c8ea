"""Likes as huggingface_hub 2.4 calls them: `unlike` (DELETE /api/{type}s/{id}/like),
`list_liked_repos` (/api/users/{user}/likes) and `list_repo_likers` (/api/{type}s/{id}/likers). As on
the Hub, liking itself is not an API for scripts: POST .../like answers only a signed-in browser
session (the web UI's like button, CSRF-checked by auth), never an access token."""
from __future__ import annotations

from fastapi import APIRouter, Request

from hangar_common import errors
from hangar_common.grpcio import call
from hangar_protos import community_pb2 as pb

from .. import deps, paths
from ..repo_access import open_repo
from ..shapes import JSON

router = APIRouter()


def _no_tail(target: paths.RepoTarget) -> paths.RepoTarget:
    if len(target.tail) != 1:
        raise errors.NotFound("Not found")
    return target


@paths.repo_api(router, "/like", ["POST"])
async def like(request: Request):
    principal = await deps.require_user(await deps.current_principal(request))
    if request.headers.get("authorization") or principal.token_id:
        raise errors.Forbidden("Liking a repository is only possible from the web interface",
                               code="LikeFromWebOnly")
    info = await open_repo(request, _no_tail(paths.api_target(request)), "read")
    answer = await call(deps.clients(request).community.Like, pb.LikeRequest(principal=principal, repo=info.facts))
    return JSON({"likes": answer.likes})


@paths.repo_api(router, "/like", ["DELETE"])
async def unlike(request: Request):
    principal = await deps.require_user(await deps.current_principal(request))
    info = await open_repo(request, _no_tail(paths.api_target(request)), "read")
    answer = await call(deps.clients(request).community.Unlike, pb.LikeRequest(principal=principal, repo=info.facts))
    return JSON({"likes": answer.likes})


@paths.repo_api(router, "/likers", ["GET"])
async def likers(request: Request):
    principal = await deps.current_principal(request)
    info = await open_repo(request, _no_tail(paths.api_target(request)), "read")
    answer = await call(deps.clients(request).community.ListLikers,
                        pb.LikeRequest(principal=principal, repo=info.facts))
    return JSON([{"user": u.username, "fullname": u.fullname or u.username, "avatarUrl": "", "type": "user",
                  "likedAt": u.liked_at} for u in answer.likers])


@router.get("/api/users/{username}/likes")
async def user_likes(username: str, request: Request):
    principal = await deps.current_principal(request)
    answer = await call(deps.clients(request).community.ListUserLikes, pb.ListUserLikesRequest(
        principal=principal, username=username))
    return JSON([{"createdAt": item.liked_at,
                  "repo": {"name": f"{item.repo.namespace}/{item.repo.name}", "type": item.repo.type}}
                 for item in answer.likes])

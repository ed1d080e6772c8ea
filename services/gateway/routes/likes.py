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
async def like(request: Request, services: deps.Services, target: deps.ApiTarget, principal: deps.CurrentUser):
    if request.headers.get("authorization") or principal.token_id:
        raise errors.Forbidden("Liking a repository is only possible from the web interface",
                               code="LikeFromWebOnly")
    info = await open_repo(request, _no_tail(target), "read")
    answer = await call(services.community.Like, pb.LikeRequest(principal=principal, repo=info.facts))
    return JSON({"likes": answer.likes})


@paths.repo_api(router, "/like", ["DELETE"])
async def unlike(request: Request, services: deps.Services, target: deps.ApiTarget, principal: deps.CurrentUser):
    info = await open_repo(request, _no_tail(target), "read")
    answer = await call(services.community.Unlike, pb.LikeRequest(principal=principal, repo=info.facts))
    return JSON({"likes": answer.likes})


@paths.repo_api(router, "/likers", ["GET"])
async def likers(request: Request, services: deps.Services, principal: deps.CurrentPrincipal, target: deps.ApiTarget):
    info = await open_repo(request, _no_tail(target), "read")
    answer = await call(services.community.ListLikers,
                        pb.LikeRequest(principal=principal, repo=info.facts))
    return JSON([{"user": u.username, "fullname": u.fullname or u.username, "avatarUrl": "", "type": "user",
                  "likedAt": u.liked_at} for u in answer.likers])


@router.get("/api/users/{username}/likes")
async def user_likes(username: str, services: deps.Services, principal: deps.CurrentPrincipal):
    answer = await call(services.community.ListUserLikes, pb.ListUserLikesRequest(
        principal=principal, username=username))
    return JSON([{"createdAt": item.liked_at,
                  "repo": {"name": f"{item.repo.namespace}/{item.repo.name}", "type": item.repo.type}}
                 for item in answer.likes])

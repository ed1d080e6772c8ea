"""Repository info and listings: `GET /api/{type}s/{id}[/revision/{rev}]`, `GET /api/models|datasets|
spaces`, `GET /api/users/{name}/repos`.

repo_info's `sha` is the commit the revision resolves to (the same id resolve answers in
X-Repo-Commit); `siblings` lists every file at that commit, with size, blobId and lfs when
`blobs=true` (huggingface_hub's `files_metadata=True`). The body is streamed: a repo may hold 100k
files and memory must not grow with it (docs/architecture.md "Streaming and speed").
"""
from __future__ import annotations

from collections.abc import Callable

import orjson
from fastapi import APIRouter, Request
from starlette.responses import Response, StreamingResponse

from hangar_common import errors
from hangar_common.grpcio import call
from hangar_common.hotcache import MISSING
from hangar_common.hotreads import SMALL_LISTING
from hangar_protos import auth_pb2, common_pb2, metadata_pb2

from .. import contents, deps, paths, urls
from ..bodies import truthy
from ..repo_access import open_repo
from ..shapes import JSON, repo_summary, sibling

router = APIRouter()

SORTS = {"lastModified": "lastModified", "last_modified": "lastModified", "createdAt": "createdAt",
         "created_at": "createdAt", "id": "id", "likes": "likes"}
MAX_PAGE = 1000


@paths.repo_api(router, "", ["GET", "HEAD"])
async def repo_info(request: Request, target: deps.ApiTarget, services: deps.Services):
    return await _info(request, services, target, None)


@paths.repo_api(router, "/revision/{rest:path}", ["GET", "HEAD"])
async def repo_info_at_revision(request: Request, target: deps.ApiTarget, services: deps.Services):
    if len(target.tail) != 2 or not target.tail[1]:
        raise errors.RevisionNotFound("Invalid revision")
    return await _info(request, services, target, target.tail[1])


async def _info(request: Request, services: deps.Clients, target: paths.RepoTarget, revision: str | None):
    info = await open_repo(request, target, "read")
    commit = info.sha
    if revision is not None:
        commit = (await contents.resolve(services, info.facts.repo, revision)).commit
    blobs = truthy(request.query_params.get("blobs", "false"))
    head = orjson.dumps(repo_summary(info, commit))[:-1] + b',"siblings":['
    headers = {"X-Repo-Commit": commit}
    hot = services.hot
    key = ("siblings", commit, blobs)   # the files at a commit id never change
    listed = hot.at_commit.get(key) if commit else MISSING
    if listed is not MISSING:
        return Response(head + listed + b"]}", media_type="application/json", headers=headers)
    pages = contents.tree_pages(services, metadata_pb2.ListTreeRequest(
        repo=info.facts.repo, revision=commit, recursive=True))
    first, rest = await contents.first_and_rest(pages)

    def keep(listed: bytes) -> None:
        if commit:
            hot.at_commit.put(key, listed)
    return StreamingResponse(_siblings_body(head, first, rest, blobs, keep), media_type="application/json",
                             headers=headers)


async def _siblings_body(head: bytes, first, rest, blobs: bool, keep: Callable[[bytes], None]):
    """Streams the body; a listing that stays small is handed to `keep` once complete."""
    yield head
    separator, kept, size = b"", [], 0
    pages = [first] if first is not None else []
    while True:
        for page in pages:
            files = [sibling(e, blobs) for e in page.entries if e.type == "file"]
            if files:
                part = separator + orjson.dumps(files)[1:-1]
                size += len(part)
                if size <= SMALL_LISTING:
                    kept.append(part)
                yield part
                separator = b","
        try:
            pages = [await rest.__anext__()]
        except StopAsyncIteration:
            break
    if size <= SMALL_LISTING:
        keep(b"".join(kept))
    yield b"]}"


def _listing_handler(repo_type: str):
    async def list_repos(request: Request, services: deps.Services, principal: deps.CurrentPrincipal):
        return await _list(request, services, principal, repo_type, request.query_params.get("author", ""))
    list_repos.__name__ = f"list_{repo_type}s"
    return list_repos


for _type in paths.TYPES:
    router.add_api_route(f"/api/{_type}s", _listing_handler(_type), methods=["GET", "HEAD"],
                         include_in_schema=False)


async def _private_namespaces(services: deps.Clients, principal: common_pb2.Principal) -> list[str]:
    """Where the caller may see private repos: its own namespace and its organizations'."""
    if principal.anonymous:
        return []
    namespaces = [principal.username]
    whoami = getattr(services.auth, "WhoAmI", None)
    if whoami is not None and hasattr(auth_pb2, "PrincipalRequest"):
        me = await call(whoami, auth_pb2.PrincipalRequest(principal=principal))
        namespaces += [org.name for org in me.orgs]
    return namespaces


def _limit(request: Request) -> int:
    raw = request.query_params.get("limit")
    if raw is None:
        return MAX_PAGE
    if not raw.isdigit() or int(raw) < 1:
        raise errors.BadRequest("limit must be a positive integer", code="InvalidParameter")
    return min(int(raw), MAX_PAGE)


async def _list(request: Request, services: deps.Clients, principal: common_pb2.Principal, repo_type: str,
                author: str):
    params = request.query_params
    direction = params.get("direction", "-1")
    if direction not in ("-1", "1"):
        raise errors.BadRequest("direction must be -1 or 1", code="InvalidParameter")
    page = await call(services.metadata.ListRepos, metadata_pb2.ListReposRequest(
        type=repo_type, author=author, search=params.get("search", ""),
        sort=SORTS.get(params.get("sort", ""), "lastModified"), direction=int(direction),
        limit=_limit(request), cursor=params.get("cursor", ""),
        private_namespaces=await _private_namespaces(services, principal),
        include_all_private=principal.is_site_admin))
    body = [repo_summary(info) for info in page.repos]
    headers = {"Link": urls.next_link(request, cursor=page.next_cursor)} if page.next_cursor else {}
    return JSON(body, headers=headers)


@router.api_route("/api/users/{username}/repos", methods=["GET", "HEAD"], include_in_schema=False)
async def user_repos(username: str, services: deps.Services, principal: deps.CurrentPrincipal):
    """Every repo of a user or organization the caller may see, all types, newest first."""
    out, private_namespaces = [], await _private_namespaces(services, principal)
    for repo_type in paths.TYPES:
        page = await call(services.metadata.ListRepos, metadata_pb2.ListReposRequest(
            type=repo_type, author=username, sort="lastModified", direction=-1, limit=MAX_PAGE,
            private_namespaces=private_namespaces))
        out += [{**repo_summary(info), "type": repo_type} for info in page.repos]
    out.sort(key=lambda item: item["lastModified"], reverse=True)
    return JSON(out)


@paths.repo_api(router, "/auth-check", ["GET", "HEAD"])
async def auth_check(request: Request, target: deps.ApiTarget):
    """`HfApi.auth_check`: 200 when the caller may download (gated repos included), else its error."""
    info = await open_repo(request, target, "download")
    return JSON({"id": f"{info.facts.repo.namespace}/{info.facts.repo.name}", "access": "download"})


@paths.repo_api(router, "/auth-check/write", ["GET", "HEAD"])
async def auth_check_write(request: Request, target: deps.ApiTarget):
    info = await open_repo(request, target, "write")
    return JSON({"id": f"{info.facts.repo.namespace}/{info.facts.repo.name}", "access": "write"})

"""Finding repositories: `/` (search box, recently updated) and `/models`, `/datasets`, `/spaces`
(search, sort, cursor pagination). Listings ask metadata with the same private-namespace filter the
API's listings use, so a visitor sees exactly the repos `list_models()` would show them."""
from __future__ import annotations

import asyncio
from urllib.parse import urlencode

from fastapi import APIRouter
from starlette.requests import Request

from hangar_common import edge, errors
from hangar_common.grpcio import call
from hangar_protos import metadata_pb2

from .. import access, pages

router = APIRouter()

PAGE = 30
SORTS = {"updated": "lastModified", "created": "createdAt", "likes": "likes", "name": "id"}
PLURALS = edge.TYPE_OF_PLURAL


async def _list(request: Request, repo_type: str, *, search: str = "", sort: str = "updated",
                author: str = "", cursor: str = "", limit: int = PAGE) -> metadata_pb2.ListReposResponse:
    who = await access.principal(request)
    try:
        return await call(access.clients(request).metadata.ListRepos, metadata_pb2.ListReposRequest(
            type=repo_type, search=search[:200], author=author[:100], sort=SORTS.get(sort, "lastModified"),
            direction=1 if sort == "name" else -1, limit=limit, cursor=cursor,
            private_namespaces=await access.private_namespaces(request, who),
            include_all_private=who.is_site_admin))
    except errors.BadRequest:  # a stale or forged cursor: start over
        if not cursor:
            raise
        return await _list(request, repo_type, search=search, sort=sort, author=author, limit=limit)


@router.get("/", include_in_schema=False)
async def home(request: Request):
    search = request.query_params.get("q", "").strip()
    models, datasets, spaces = await asyncio.gather(*(
        _list(request, t, search=search, limit=8) for t in edge.REPO_TYPES))
    return pages.render(request, "home.html", search=search, models=models.repos, datasets=datasets.repos,
                        spaces=spaces.repos)


def _listing(plural: str):
    repo_type = PLURALS[plural]

    async def listing(request: Request):
        params = request.query_params
        search, sort = params.get("search", "").strip(), params.get("sort", "updated")
        sort = sort if sort in SORTS else "updated"
        author = params.get("author", "").strip()
        answer = await _list(request, repo_type, search=search, sort=sort, author=author,
                             cursor=params.get("cursor", ""))
        keep = {k: v for k, v in (("search", search), ("sort", sort), ("author", author)) if v}
        next_url = f"/{plural}?{urlencode({**keep, 'cursor': answer.next_cursor})}" if answer.next_cursor else ""
        first_url = f"/{plural}?{urlencode(keep)}" if params.get("cursor") else ""
        return pages.render(request, "listing.html", plural=plural, repo_type=repo_type, repos=answer.repos,
                            search=search, sort=sort, author=author, next_url=next_url, first_url=first_url,
                            sorts=[("updated", "Recently updated"), ("created", "Recently created"),
                                   ("likes", "Most liked"), ("name", "Name")])
    listing.__name__ = f"list_{plural}"
    return listing


for _plural in PLURALS:
    router.add_api_route(f"/{_plural}", _listing(_plural), methods=["GET", "HEAD"], include_in_schema=False)

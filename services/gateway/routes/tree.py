"""Tree listings: `GET /api/{type}s/{id}/tree/{rev}[/{path}]` and `POST .../paths-info/{rev}`.

The listing is cursor-paginated like the Hub's (1000 entries a page, 50 with `expand`, which adds
`lastCommit`), with an absolute `Link: <...>; rel="next"` (huggingface_hub `_paginate_pages`).
Revision and path arrive `%2F`-encoded, hence the raw-path parsing.
"""
from __future__ import annotations

from fastapi import APIRouter, Request

from hangar_common import errors
from hangar_protos import metadata_pb2

from .. import contents, deps, paths, urls
from ..bodies import form_items, truthy
from ..repo_access import open_repo
from ..shapes import JSON, tree_entry

router = APIRouter()

PAGE = 1000
PAGE_EXPANDED = 50
MAX_PATHS_INFO = 10_000


def _revision(target: paths.RepoTarget) -> str:
    if len(target.tail) < 2 or not target.tail[1]:
        raise errors.RevisionNotFound("Missing revision")
    return target.tail[1]


def _sub_path(segments: list[str]) -> str:
    path = "/".join(segments).strip("/")
    return paths.file_path(path) if path else ""


@paths.repo_api(router, "/tree/{rest:path}", ["GET", "HEAD"])
async def list_tree(request: Request, target: deps.ApiTarget, services: deps.Services):
    revision, path = _revision(target), _sub_path(target.tail[2:])
    params = request.query_params
    expand = truthy(params.get("expand", "false"))
    info = await open_repo(request, target, "read")
    page_size = PAGE_EXPANDED if expand else PAGE
    if params.get("limit", "").isdigit():
        page_size = max(1, min(int(params["limit"]), page_size))
    found, commit, cursor = [], "", ""
    async for page in contents.tree_pages(services, metadata_pb2.ListTreeRequest(
            repo=info.facts.repo, revision=revision, path=path,
            recursive=truthy(params.get("recursive", "false")), expand=expand,
            cursor=params.get("cursor", ""), limit=page_size)):
        commit = commit or page.commit
        found.extend(page.entries)
        cursor = page.next_cursor or cursor
    entries = await _with_xet_hashes(services, found)
    headers = {"X-Repo-Commit": commit} if commit else {}
    if cursor:
        headers["Link"] = urls.next_link(request, cursor=cursor)
    return JSON(entries, headers=headers)


@paths.repo_api(router, "/paths-info/{rest:path}", ["POST"])
async def paths_info(request: Request, target: deps.ApiTarget, services: deps.Services):
    revision = _revision(target)
    if len(target.tail) > 2:
        raise errors.NotFound("Not found")
    items = await form_items(request)
    wanted = [v for k, v in items if k in ("paths", "paths[]")]
    if len(wanted) > MAX_PATHS_INFO:
        raise errors.BadRequest(f"At most {MAX_PATHS_INFO} paths per request", code="TooManyPaths")
    wanted = [p.strip("/") for p in wanted]
    for p in wanted:
        if p:
            paths.file_path(p)
    expand = any(k == "expand" and truthy(v) for k, v in items)
    info = await open_repo(request, target, "read")
    commit = (await contents.resolve(services, info.facts.repo, revision)).commit
    found = await services.hot.paths_info(info.facts.repo, commit, [p for p in wanted if p], expand)
    entries = await _with_xet_hashes(services, found)
    return JSON(entries, headers={"X-Repo-Commit": commit})


async def _with_xet_hashes(services: deps.Clients, found: list[metadata_pb2.TreeEntry]) -> list[dict]:
    """Tree entries as JSON; LFS files uploaded through Xet also carry `xetHash` (one lookup a page)."""
    hashes = await contents.xet_hashes(services, [e.lfs.oid for e in found if e.HasField("lfs") and e.lfs.oid])
    entries = []
    for entry in found:
        item = tree_entry(entry)
        if hashes and entry.HasField("lfs") and entry.lfs.oid in hashes:
            item["xetHash"] = hashes[entry.lfs.oid]
        entries.append(item)
    return entries

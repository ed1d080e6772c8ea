"""Repository pages at the Hub's URLs (`/{ns}/{name}`, `/datasets/...`, `/spaces/...`):

    /{repo}                         card (README rendered, metadata, snippets)
    /{repo}/tree/{rev}/{path}       folder listing, cursor-paged
    /{repo}/blob/{rev}/{path}       one file: text, image, Markdown, safetensors/table previews
    /{repo}/commits/{rev}/{path}    history, paged
    /{repo}/commit/{sha}            one commit and its diff
    /{repo}/discussions/...         discussions and pull requests (discussions.py)
and the profile page `/{user}` or `/{org}`. Writes (upload, edit, settings...) are in write.py; this
module only dispatches them. Every page opens the repo through access.open_repo (auth decides)."""
from __future__ import annotations

import asyncio
from collections import OrderedDict

from fastapi import APIRouter
from starlette.requests import Request

from hangar_common import edge, errors
from hangar_common.grpcio import call, stream
from hangar_protos import auth_pb2, community_pb2, lfs_pb2, metadata_pb2

from .. import access, diffs, pages, previews
from ..access import PageNotFound
from ..markdown import RepoLinks, highlight_code, render_markdown, split_front_matter
from ..reads import FileBytes, entry_at
from . import common, discussions, write
from .common import RepoUrl

router = APIRouter()

TREE_PAGE = 50  # as the API's expanded tree page (entries with their last commit)
COMMITS_PAGE = 30
MAX_CARD = 1024 * 1024
MAX_TEXT = 128 * 1024  # highlighted text: more is slow to render and to read; download the rest
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".gif", ".webp", ".bmp", ".ico", ".avif")
MARKDOWN_SUFFIXES = (".md", ".markdown")
CARD_KEYS = ("license", "library_name", "pipeline_tag", "base_model", "datasets", "language", "tags",
             "metrics", "task_categories", "size_categories", "sdk")


@router.api_route("/{rest:path}", methods=["GET", "HEAD", "POST"], include_in_schema=False)
async def dispatch(request: Request):
    url = common.repo_url(request)
    if url is None:
        seg = [s for s in common.raw_segments(request) if s]
        if len(seg) == 1 and seg[0] not in common.PAGE_NAMESPACES and request.method != "POST":
            return await profile(request, common.decode(seg[0]))
        if len(seg) == 2 and seg[0] in common.PLURAL_TYPES and request.method != "POST":
            return pages.redirect(f"/{seg[0]}?author={seg[1]}")
        raise PageNotFound("Not found")
    head = url.tail[0] if url.tail else ""
    handler = (READ_PAGES if request.method != "POST" else WRITE_ACTIONS).get(head)
    if handler is None:
        raise PageNotFound("Not found")
    return await handler(request, url)


# --- card ------------------------------------------------------------------------------------------

async def card(request: Request, url: RepoUrl):
    if url.tail:
        raise PageNotFound("Not found")
    opened = await access.open_repo(request, url.ref)
    c = access.clients(request)
    info = opened.info
    refs_task = asyncio.create_task(common.refs_of(request, info.facts.repo))
    last_task = asyncio.create_task(_commits(request, info.facts.repo, info.sha, 0, 1))
    meta, html, has_readme = common.card_data(info), "", False
    if opened.can_download:
        has_readme, front, html = await _rendered_card(c, info, url.base)
        meta = front or meta
    refs, last = await refs_task, await last_task
    liked = await _liked(request, opened)
    return pages.render(request, "repo_card.html", liked=liked, **common.repo_context(
        opened, url, "card", card_html=pages.markup(html), has_readme=has_readme,
        meta=_card_facts(meta), last=last.commits[0] if last.commits else None,
        branches=refs.branches, tags=refs.tags, snippets=_snippets(request, opened),
        requested=request.query_params.get("requested", "")))


class RenderedCards:
    """README.md of a commit, rendered: a commit id names its content for good, so a rendering is
    kept (a bounded LRU; only cards under 256 kB of HTML) and repeat visits skip the reads and the
    Markdown work. Consulted only after auth allowed the download."""

    def __init__(self, entries: int = 128, max_html: int = 256 * 1024) -> None:
        self.entries, self.max_html = entries, max_html
        self._items: OrderedDict[tuple[str, str], tuple[bool, dict, str]] = OrderedDict()

    def get(self, key: tuple[str, str]) -> tuple[bool, dict, str] | None:
        found = self._items.get(key)
        if found is not None:
            self._items.move_to_end(key)
        return found

    def put(self, key: tuple[str, str], value: tuple[bool, dict, str]) -> None:
        if len(value[2]) > self.max_html:
            return
        self._items[key] = value
        while len(self._items) > self.entries:
            self._items.popitem(last=False)


CARDS = RenderedCards()


async def _rendered_card(c: access.Clients, info, base: str) -> tuple[bool, dict, str]:
    """(has a README, its front matter, its HTML) at the repo's current commit."""
    key = (base, info.sha)  # links in the HTML point under `base` at this commit
    cached = CARDS.get(key)
    if cached is not None:
        return cached
    try:
        commit, entry = await entry_at(c, info.facts.repo, info.sha, "README.md")
    except errors.NotFound:
        found: tuple[bool, dict, str] = (False, {}, "")
    else:
        try:
            data = await FileBytes(c, info.facts.repo, commit, entry).read(0, min(entry.size, MAX_CARD))
        except errors.NotFound:  # an LFS README whose bytes lfs does not hold (yet): not cached
            return True, {}, ""
        # Markdown, highlighting and sanitizing are CPU work: off the event loop.
        found = await asyncio.to_thread(_render_card, data, base, info.sha)
    CARDS.put(key, found)
    return found


def _render_card(data: bytes, base: str, sha: str) -> tuple[bool, dict, str]:
    front, body = split_front_matter(data.decode("utf-8", errors="replace"))
    return True, front, render_markdown(body, RepoLinks(base, sha, "README.md"))


async def _liked(request: Request, opened: access.OpenRepo) -> bool:
    """Whether the signed-in visitor likes the repo (community's likers; None when unavailable)."""
    if opened.who.anonymous or not opened.info.likes:
        return False
    try:
        answer = await call(access.clients(request).community.ListLikers, community_pb2.LikeRequest(
            principal=opened.who, repo=opened.info.facts))
    except errors.HangarError:
        return False
    return any(liker.username == opened.who.username for liker in answer.likers)


def _card_facts(meta: dict) -> list[tuple[str, list[str]]]:
    """The front matter keys a card's side panel shows, as lists of strings."""
    facts = []
    for key in CARD_KEYS:
        value = meta.get(key)
        if value in (None, "", []):
            continue
        values = value if isinstance(value, list) else [value]
        facts.append((key.replace("_", " ").capitalize(), [str(v)[:100] for v in values[:30]]))
    return facts


def _snippets(request: Request, opened: access.OpenRepo) -> list[tuple[str, str, str]]:
    """(title, language, code) with this hub's real URL."""
    ref = opened.info.facts.repo
    hub = request.app.state.settings.public_url
    repo_id = f"{ref.namespace}/{ref.name}"
    type_arg = "" if ref.type == "model" else f', repo_type="{ref.type}"'
    clone = f"{hub}{pages.repo_path(ref.type, ref.namespace, ref.name)}"
    python = (f'import os\nos.environ["HF_ENDPOINT"] = "{hub}"\n\n'
              f'from huggingface_hub import snapshot_download\n'
              f'path = snapshot_download("{repo_id}"{type_arg})')
    cli = f"export HF_ENDPOINT={hub}\nhf download {repo_id}"
    cli += "" if ref.type == "model" else f" --repo-type {ref.type}"
    git = f"git lfs install\ngit clone {clone}"
    return [("huggingface_hub", "python", python), ("hf CLI", "bash", cli), ("git", "bash", git)]


# --- tree ------------------------------------------------------------------------------------------

def _rev_and_path(url: RepoUrl, opened: access.OpenRepo) -> tuple[str, str]:
    revision = url.tail[1] if len(url.tail) > 1 and url.tail[1] else opened.info.default_branch
    path = "/".join(s for s in url.tail[2:] if s)
    if any(part in (".", "..") for part in path.split("/")):
        raise PageNotFound("Not found")
    return revision, path


async def tree(request: Request, url: RepoUrl):
    opened = await access.open_repo(request, url.ref)
    revision, path = _rev_and_path(url, opened)
    if not opened.can_download:
        return _gate(request, opened, url, "files", revision)
    c = access.clients(request)
    cursor = request.query_params.get("cursor", "")
    entries, commit, next_cursor = [], "", ""
    refs_task = asyncio.create_task(common.refs_of(request, opened.ref))
    try:
        async for page in stream(c.metadata.ListTree(metadata_pb2.ListTreeRequest(
                repo=opened.ref, revision=revision, path=path, expand=True, cursor=cursor,
                limit=TREE_PAGE), timeout=60)):
            commit = commit or page.commit
            entries.extend(page.entries)
            next_cursor = page.next_cursor or next_cursor
    except errors.NotFound:
        refs_task.cancel()
        if path:  # a file's URL under /tree/ shows the file
            await entry_at(c, opened.ref, revision, path)
            return pages.redirect(f"{url.base}/blob/{pages.url_segment(revision)}/{pages.url_path(path)}")
        raise
    except errors.BadRequest:
        refs_task.cancel()
        raise PageNotFound("Not found") from None
    if path and len(entries) == 1 and entries[0].type == "file" and entries[0].path == path:
        refs_task.cancel()
        return pages.redirect(f"{url.base}/blob/{pages.url_segment(revision)}/{pages.url_path(path)}")
    xet = await _xet_hashes(c, [e.lfs.oid for e in entries if e.HasField("lfs") and e.lfs.oid])
    refs = await refs_task
    return pages.render(request, "repo_tree.html", **common.repo_context(
        opened, url, "files", revision, path=path, crumbs=common.breadcrumbs(path), entries=entries,
        commit=commit, next_cursor=next_cursor, first_page=not cursor, xet=xet,
        branches=refs.branches, tags=refs.tags))


async def _xet_hashes(c: access.Clients, oids: list[str]) -> set[str]:
    if not oids:
        return set()
    try:
        answer = await call(c.lfs.XetHashes, lfs_pb2.XetHashesRequest(oids=sorted(set(oids))))
    except errors.HangarError:
        return set()
    return set(answer.xet_hashes)


# --- blob ------------------------------------------------------------------------------------------

async def blob(request: Request, url: RepoUrl):
    opened = await access.open_repo(request, url.ref)
    revision, path = _rev_and_path(url, opened)
    if not path:
        raise PageNotFound("Not found")
    if not opened.can_download:
        return _gate(request, opened, url, "files", revision)
    c = access.clients(request)
    try:
        commit, entry = await entry_at(c, opened.ref, revision, path)
    except errors.BadRequest:
        raise PageNotFound("Not found") from None
    if entry.type == "directory":
        return pages.redirect(f"{url.base}/tree/{pages.url_segment(revision)}/{pages.url_path(path)}")
    data = FileBytes(c, opened.ref, commit, entry)
    try:
        view = await _file_view(request, url, data, revision, path)
    except errors.NotFound:
        if not data.lfs:
            raise
        # lfs does not hold the bytes (yet): an upstream cache fetches them on the first download.
        view = {"kind": "note", "note": "A preview needs the file's bytes, which this hub does not hold yet"
                + (": downloading the file fetches them from the upstream Hub." if opened.mirrored else ".")}
    history = await _commits(request, opened.ref, commit, 0, 5, path)
    return pages.render(request, "repo_blob.html", **common.repo_context(
        opened, url, "files", revision, path=path, crumbs=common.breadcrumbs(path), entry=entry,
        commit=commit, lfs=data.lfs, view=view, history=history.commits, history_total=history.total))


async def _file_view(request: Request, url: RepoUrl, data: FileBytes, revision: str, path: str) -> dict:
    """What the page shows for this file: {"kind": ..., ...}."""
    lower = path.lower()
    if lower.endswith(IMAGE_SUFFIXES) or lower.endswith(".svg"):
        return {"kind": "image"}
    kind = previews.kind_of(path)
    if data.size == 0:
        return {"kind": "empty"}
    if kind == "safetensors":
        summary = await previews.safetensors_summary(data)
        return {"kind": "safetensors", "summary": summary} if not isinstance(summary, str) else \
            {"kind": "note", "note": summary}
    if kind == "parquet":
        return {"kind": "table", "table": await previews.parquet_rows(data)}
    if kind in ("csv", "tsv"):
        return {"kind": "table", "table": await previews.delimited_rows(data, "," if kind == "csv" else "\t")}
    if kind == "jsonl":
        table = await previews.jsonl_rows(data)
        if table.columns:
            return {"kind": "table", "table": table}
    raw, truncated = await data.head(MAX_TEXT)
    if b"\0" in raw[:8192]:
        return {"kind": "binary"}
    text = raw.decode("utf-8", errors="replace")
    if truncated and "\n" in text:
        text = text[:text.rindex("\n") + 1]
    if lower.endswith(MARKDOWN_SUFFIXES) and request.query_params.get("plain") != "1":
        front, body = split_front_matter(text)
        html = await asyncio.to_thread(render_markdown, body, RepoLinks(url.base, revision, path))
        return {"kind": "markdown", "html": pages.markup(html), "front": _card_facts(front),
                "truncated": truncated}
    lines = text.count("\n") + (0 if text.endswith("\n") else 1)
    # Highlighting up to MAX_TEXT is CPU work: off the event loop.
    code = await asyncio.to_thread(highlight_code, text, filename=path.rsplit("/", 1)[-1])
    return {"kind": "text", "html": pages.markup(code),
            "truncated": truncated, "lines": lines, "markdown": lower.endswith(MARKDOWN_SUFFIXES)}


# --- history -------------------------------------------------------------------------------------

async def _commits(request: Request, repo, revision: str, offset: int, limit: int, path: str = ""):
    return await call(access.clients(request).metadata.ListCommits, metadata_pb2.ListCommitsRequest(
        repo=repo, revision=revision, offset=offset, limit=limit, path=path))


async def commits(request: Request, url: RepoUrl):
    opened = await access.open_repo(request, url.ref)
    revision, path = _rev_and_path(url, opened)
    page = common.int_param(request, "p", 0, 1_000_000)
    refs_task = asyncio.create_task(common.refs_of(request, opened.ref))
    try:
        answer = await _commits(request, opened.ref, revision, page * COMMITS_PAGE, COMMITS_PAGE, path)
    except errors.BadRequest:
        refs_task.cancel()
        raise PageNotFound("Not found") from None
    refs = await refs_task
    pages_total = max(1, -(-answer.total // COMMITS_PAGE))
    return pages.render(request, "repo_commits.html", **common.repo_context(
        opened, url, "files", revision, path=path, commits=answer.commits, total=answer.total, page=page,
        pages_total=pages_total, branches=refs.branches, tags=refs.tags))


async def commit(request: Request, url: RepoUrl):
    if len(url.tail) != 2 or not url.tail[1]:
        raise PageNotFound("Not found")
    opened = await access.open_repo(request, url.ref)
    c = access.clients(request)
    try:
        answer = await _commits(request, opened.ref, url.tail[1], 0, 1)
    except errors.BadRequest:
        raise PageNotFound("Not found") from None
    if not answer.commits:
        raise PageNotFound("Not found")
    info = answer.commits[0]
    parent = info.parents[0] if info.parents else ""
    changes: list[diffs.Change] = []
    truncated = False
    if opened.can_download:
        changes, truncated = await diffs.changed_paths(c, opened.ref, parent, info.id)
        await diffs.render_text_diffs(c, opened.ref, parent, info.id, changes)
    return pages.render(request, "repo_commit.html", **common.repo_context(
        opened, url, "files", info.id, commit=info, parent=parent, changes=changes, truncated=truncated,
        added=sum(ch.added for ch in changes), removed=sum(ch.removed for ch in changes)))


# --- gated repos -----------------------------------------------------------------------------------

def _gate(request: Request, opened: access.OpenRepo, url: RepoUrl, tab: str, revision: str = ""):
    return pages.render(request, "repo_gate.html", status=403, **common.repo_context(
        opened, url, tab, revision, requested=request.query_params.get("requested", "")))


# --- profiles --------------------------------------------------------------------------------------

async def profile(request: Request, name: str):
    """A user's or an organization's page: the repos the visitor may see, by type."""
    c = access.clients(request)
    who = await access.principal(request)
    try:
        account = await call(c.auth.GetAccount, auth_pb2.NameRequest(name=name, principal=who))
    except errors.HangarError as exc:
        if exc.status in (400, 404):
            raise PageNotFound("Not found") from None
        raise
    private = await access.private_namespaces(request, who)
    lists = await asyncio.gather(*(call(c.metadata.ListRepos, metadata_pb2.ListReposRequest(
        type=t, author=account.name, limit=30, private_namespaces=private,
        include_all_private=who.is_site_admin)) for t in edge.REPO_TYPES))
    members, my_role = [], ""
    if account.kind == "org":
        answer = await call(c.auth.ListOrgMembers, auth_pb2.ListOrgMembersRequest(org=account.name, limit=100))
        members = answer.members
        my_role = next((m.role for m in members if not who.anonymous and m.username == who.username), "")
    orgs = []
    if account.kind == "user":
        orgs = (await call(c.auth.ListUserOrgs, auth_pb2.NameRequest(name=account.name, principal=who))).orgs
    return pages.render(request, "profile.html", account=account, models=lists[0].repos,
                        datasets=lists[1].repos, spaces=lists[2].repos, members=members, orgs=orgs,
                        my_role=my_role)


READ_PAGES = {"": card, "tree": tree, "blob": blob, "commits": commits, "commit": commit,
              "edit": write.edit_form, "upload": write.upload_form, "settings": write.settings_form,
              "access-requests": write.access_requests_page, "discussions": discussions.page}
WRITE_ACTIONS = {**write.REPO_ACTIONS, "discussions": discussions.action}

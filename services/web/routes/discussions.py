"""Discussions and pull requests, at the Hub's URLs:

    /{repo}/discussions                  the list (status and kind filters, paged)
    /{repo}/discussions/new              start a discussion (title, first comment)
    /{repo}/discussions/{num}            the thread: comments, status and title changes, PR commits
    /{repo}/discussions/{num}/files      a pull request's changes against its merge base
and the forms that post to `/{repo}/discussions/{num}/{comment,status,title,merge}`.

The community service keeps the threads, checks titles and comments and asks auth for every change
(community.proto), exactly as for the API's discussion routes; the PR's refs and changed files are
metadata's (PullRefChanges). Pages only ask auth which buttons to show (discuss, moderate with the
thread's author, write): a button is never shown to someone community would refuse, and a forged
form is refused by community.
"""
from __future__ import annotations

import asyncio
from urllib.parse import urlencode

from starlette.requests import Request

from hangar_common import errors
from hangar_common.grpcio import call
from hangar_protos import community_pb2 as cpb
from hangar_protos import metadata_pb2

from .. import access, diffs, pages
from ..access import PageNotFound
from ..markdown import sanitize
from . import common
from .common import RepoUrl

PAGE = 30
MAX_FORM_FIELD = 256 * 1024  # bounds what the form parser holds; community checks the lengths
STATUSES = ("open", "closed", "all")
KINDS = {"": "", "discussion": "discussion", "pull_request": "pull_request"}


def _number(segment: str) -> int:
    if not segment.isdigit() or len(segment) > 9 or int(segment) <= 0:
        raise PageNotFound("Not found")
    return int(segment)


async def _opened(request: Request, url: RepoUrl, form=None) -> access.OpenRepo:
    return await access.open_repo(request, url.ref, form=form)


async def _may(request: Request, opened: access.OpenRepo, *actions: tuple[str, str]) -> dict[str, bool]:
    """{action: allowed} for (action, owner_user_id) pairs, asked of auth in one round."""
    if opened.who.anonymous:
        return {a: False for a, _ in actions}
    answers = await asyncio.gather(*(access.decide(request, opened.info.facts, a, opened.who, owner)
                                     for a, owner in actions))
    return {a: d.allowed for (a, _), d in zip(actions, answers)}


def _comment_html(event: cpb.DiscussionEvent) -> str:
    """Community renders comments (markdown-it, raw HTML off, nh3); sanitized again with the pages'
    own allow-list before it is marked safe."""
    return pages.markup(sanitize(event.html))


# --- reading ---------------------------------------------------------------------------------------

async def page(request: Request, url: RepoUrl):
    tail = url.tail[1:]
    if not tail:
        return await _list(request, url)
    if tail == ["new"]:
        return await _new_form(request, url)
    number = _number(tail[0])
    if len(tail) == 1:
        return await _thread(request, url, number)
    if tail[1:] == ["files"]:
        return await _files(request, url, number)
    raise PageNotFound("Not found")


async def _list(request: Request, url: RepoUrl):
    opened = await _opened(request, url)
    params = request.query_params
    status = params.get("status", "open")
    status = status if status in STATUSES else "open"
    kind = KINDS.get(params.get("type", ""), "")
    number = common.int_param(request, "p", 0, 100_000)
    answer = await call(access.clients(request).community.ListDiscussions, cpb.ListDiscussionsRequest(
        principal=opened.who, repo=opened.info.facts, type=kind or "all", status=status, page=number,
        page_size=PAGE))
    keep = {k: v for k, v in (("status", status), ("type", kind)) if v}
    pages_total = max(1, -(-answer.count // PAGE))
    may = await _may(request, opened, ("discuss", ""))

    def link(**change) -> str:
        return "?" + urlencode({**keep, **change})

    return pages.render(request, "discussions.html", discussions=answer.discussions, total=answer.count,
                        num_closed=answer.num_closed, shown_status=status, kind=kind, page=number,
                        pages_total=pages_total, link=link, may_discuss=may["discuss"],
                        **common.repo_context(opened, url, "community"))


async def _details(request: Request, opened: access.OpenRepo, number: int) -> cpb.DiscussionDetails:
    try:
        return await call(access.clients(request).community.GetDiscussion, cpb.GetDiscussionRequest(
            principal=opened.who, repo=opened.info.facts, number=number))
    except errors.NotFound:
        raise PageNotFound("Not found") from None


async def _thread(request: Request, url: RepoUrl, number: int, status: int = 200, error: str = "",
                  draft: str = ""):
    opened = await _opened(request, url)
    details = await _details(request, opened, number)
    thread = details.discussion
    may = await _may(request, opened, ("discuss", ""), ("moderate", thread.author.user_id), ("write", ""))
    events = [(e, _comment_html(e) if e.type == "comment" and not e.hidden else "") for e in details.events]
    return pages.render(request, "discussion.html", status=status, error=error, draft=draft, thread=thread,
                        details=details, events=events, may_comment=may["discuss"],
                        may_moderate=may["moderate"], may_merge=may["write"] and thread.is_pull_request
                        and thread.status == "open", subtab="conversation",
                        **common.repo_context(opened, url, "community"))


async def _files(request: Request, url: RepoUrl, number: int):
    opened = await _opened(request, url)
    details = await _details(request, opened, number)
    if not details.discussion.is_pull_request:
        raise PageNotFound("Not found")
    context = common.repo_context(opened, url, "community")
    if not opened.can_download:  # the changes are repository content: the gate's rule
        return pages.render(request, "discussion_files.html", status=403, thread=details.discussion,
                            details=details, subtab="files", changes=[], **context)
    c = access.clients(request)
    pull = await call(c.metadata.PullRefChanges, metadata_pb2.PullRefRequest(
        repo=opened.ref, number=number, with_diff=False))
    changes, truncated = await diffs.changed_paths(c, opened.ref, pull.merge_base, pull.pull.tip)
    await diffs.render_text_diffs(c, opened.ref, pull.merge_base, pull.pull.tip, changes)
    return pages.render(request, "discussion_files.html", thread=details.discussion, details=details,
                        subtab="files", pull=pull.pull, merge_base=pull.merge_base, changes=changes,
                        truncated=truncated, blob_rev=pull.pull.tip,
                        added=sum(ch.added for ch in changes), removed=sum(ch.removed for ch in changes),
                        **context)


async def _new_form(request: Request, url: RepoUrl, status: int = 200, error: str = "", values=None):
    opened = await _opened(request, url)
    if opened.who.anonymous:
        raise access.SignInRequired("Sign in to start a discussion")
    return pages.render(request, "discussion_new.html", status=status, error=error, values=values or {},
                        **common.repo_context(opened, url, "community"))


# --- writing ---------------------------------------------------------------------------------------

async def action(request: Request, url: RepoUrl):
    form = await request.form(max_files=0, max_part_size=MAX_FORM_FIELD)
    opened = await _opened(request, url, form)
    if opened.who.anonymous:
        raise access.SignInRequired("Sign in to take part in discussions")
    tail = url.tail[1:]
    community = access.clients(request).community
    if tail == ["new"]:
        values = {"title": str(form.get("title", "")).strip(), "description": str(form.get("description", ""))}
        try:
            created = await call(community.CreateDiscussion, cpb.CreateDiscussionRequest(
                principal=opened.who, repo=opened.info.facts, title=values["title"],
                description=values["description"]))
        except errors.HangarError as exc:
            if exc.status >= 500 or exc.code == "CSRFTokenInvalid":
                raise
            return await _new_form(request, url, exc.status, exc.message, values)
        return pages.redirect(f"{url.base}/discussions/{created.discussion.number}")
    if len(tail) != 2:
        raise PageNotFound("Not found")
    number, verb = _number(tail[0]), tail[1]
    target = cpb.DiscussionTarget(principal=opened.who, repo=opened.info.facts, number=number)
    comment = str(form.get("comment", "")).replace("\r\n", "\n")
    try:
        if verb == "comment":
            await call(community.CommentDiscussion, cpb.CommentRequest(target=target, comment=comment))
        elif verb == "status":
            await call(community.ChangeDiscussionStatus, cpb.ChangeStatusRequest(
                target=target, status=str(form.get("status", ""))[:20], comment=comment))
        elif verb == "title":
            await call(community.RenameDiscussion, cpb.RenameRequest(
                target=target, title=str(form.get("title", "")).strip()))
        elif verb == "merge":
            await call(community.MergePullRequest, cpb.MergeRequest(target=target, comment=comment), timeout=600)
        else:
            raise PageNotFound("Not found")
    except errors.HangarError as exc:
        if exc.status >= 500 or exc.code == "CSRFTokenInvalid" or isinstance(exc, PageNotFound):
            raise
        if exc.code in ("DiscussionNotFound",) or exc.status == 404:
            raise PageNotFound("Not found") from None
        return await _thread(request, url, number, exc.status, exc.message, draft=comment)
    return pages.redirect(f"{url.base}/discussions/{number}")


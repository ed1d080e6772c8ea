"""Discussions and pull requests, in the shapes huggingface_hub 2.4 parses (`hf_api.py`:
get_repo_discussions, get_discussion_details, create_discussion / create_pull_request,
comment_discussion, edit_discussion_comment, hide_discussion_comment, rename_discussion,
change_discussion_status, merge_pull_request; `community.py`: deserialize_event):

    GET  /api/{type}s/{id}/discussions?p=&type=&status=&author=
    POST /api/{type}s/{id}/discussions                    {title, description, pullRequest}
    GET  /api/{type}s/{id}/discussions/{num}?diff=1
    GET  /api/{type}s/{id}/discussions/{num}/files        changed files (for the web UI)
    POST /api/{type}s/{id}/discussions/{num}/comment      {comment}
    POST /api/{type}s/{id}/discussions/{num}/title        {title}
    POST /api/{type}s/{id}/discussions/{num}/status       {status, comment?}
    POST /api/{type}s/{id}/discussions/{num}/merge        {comment?}
    POST /api/{type}s/{id}/discussions/{num}/comment/{id}/edit   {content}
    POST /api/{type}s/{id}/discussions/{num}/comment/{id}/hide

The community service stores threads and asks auth for every decision; pull request refs are
metadata's. This module only checks the request's form and shapes the answers.
"""
from __future__ import annotations

import re

from fastapi import APIRouter, Request

from hangar_common import errors
from hangar_common.grpcio import call
from hangar_protos import community_pb2 as cpb
from hangar_protos import metadata_pb2

from .. import deps, paths, urls
from ..bodies import json_object, string_field, truthy
from ..community_shapes import details_json, discussion_json, event_json
from ..repo_access import open_repo, repo_id_of
from ..shapes import JSON

router = APIRouter()

BODY_LIMIT = 1024 * 1024
_NUMBER = re.compile(r"^[1-9][0-9]{0,8}$")
_EVENT_ID = re.compile(r"^[0-9a-fA-F]{24}$")


def _repo_url(request: Request, info) -> str:
    return urls.repo_url(request, info.facts.repo.type, repo_id_of(info))


def _number(segment: str) -> int:
    if not _NUMBER.match(segment):
        raise errors.BadRequest(f"Invalid discussion number '{segment[:40]}'", code="InvalidDiscussionNumber")
    return int(segment)


async def _open(request: Request, target: paths.RepoTarget):
    """The repo's info: the repo must be visible to the caller (auth decides the rest in the community
    service)."""
    return await open_repo(request, target, "read")


def _target(principal, info, number: int) -> cpb.DiscussionTarget:
    return cpb.DiscussionTarget(principal=principal, repo=info.facts, number=number)


@paths.repo_api(router, "/discussions", ["GET"])
async def list_discussions(request: Request, target: deps.ApiTarget, services: deps.Services,
                           principal: deps.CurrentPrincipal):
    info = await _open(request, target)
    q = request.query_params
    page = q.get("p", "0")
    if not page.isdigit() or len(page) > 6:
        raise errors.BadRequest("'p' must be a page number", code="InvalidPage")
    answer = await call(services.community.ListDiscussions, cpb.ListDiscussionsRequest(
        principal=principal, repo=info.facts, author=q.get("author", ""), type=q.get("type", ""),
        status=q.get("status", ""), page=int(page)))
    return JSON({"discussions": [discussion_json(info, _repo_url(request, info), item) for item in answer.discussions],
                 "count": answer.count, "start": answer.start, "numClosedDiscussions": answer.num_closed})


@paths.repo_api(router, "/discussions", ["POST"])
async def create_discussion(request: Request, target: deps.ApiTarget, services: deps.Services,
                            principal: deps.CurrentPrincipal):
    info = await _open(request, target)
    body = await json_object(request, limit=BODY_LIMIT)
    title = string_field(body, "title", required=True)
    description = string_field(body, "description") or ""
    details = await call(services.community.CreateDiscussion, cpb.CreateDiscussionRequest(
        principal=principal, repo=info.facts, title=title, description=description,
        pull_request=truthy(body.get("pullRequest", False))))
    return JSON(details_json(info, _repo_url(request, info), details))


@paths.repo_api(router, "/discussions/{rest:path}", ["GET"])
async def discussion_get(request: Request, target: deps.ApiTarget, services: deps.Services,
                         principal: deps.CurrentPrincipal):
    info = await _open(request, target)
    tail = target.tail[1:]
    number = _number(tail[0]) if tail else 0
    if len(tail) == 1:
        details = await call(services.community.GetDiscussion, cpb.GetDiscussionRequest(
            principal=principal, repo=info.facts, number=number,
            with_diff=truthy(request.query_params.get("diff", "0"))))
        return JSON(details_json(info, _repo_url(request, info), details))
    if len(tail) == 2 and tail[1] == "files":
        return await _files(request, services, info, principal, number)
    raise errors.NotFound("Not found")


async def _files(request: Request, services: deps.Clients, info, principal, number: int):
    """The files a pull request changes and their diff, for the web UI's "Files changed" tab."""
    details = await call(services.community.GetDiscussion, cpb.GetDiscussionRequest(
        principal=principal, repo=info.facts, number=number))
    if not details.discussion.is_pull_request:
        raise errors.BadRequest(f"#{number} is a discussion, not a pull request", code="NotAPullRequest")
    await deps.authorize(request, info.facts, "download")
    changes = await call(services.metadata.PullRefChanges, metadata_pb2.PullRefRequest(
        repo=info.facts.repo, number=number, with_diff=True))

    def lfs(info_):
        return {"oid": info_.oid, "size": info_.size} if info_.oid else None

    return JSON({"base": changes.pull.base_ref, "head": changes.pull.ref, "headCommit": changes.pull.tip,
                 "mergeBase": changes.merge_base, "mergeCommitId": changes.pull.merged_commit or None,
                 "filesWithConflicts": list(changes.pull.conflicting_files),
                 "files": [{"path": f.path, "status": f.status, "oldOid": f.old_oid or None,
                            "newOid": f.new_oid or None, "oldLfs": lfs(f.old_lfs), "newLfs": lfs(f.new_lfs),
                            "binary": f.binary}
                           for f in changes.files],
                 "diff": changes.diff, "diffTruncated": changes.diff_truncated})


@paths.repo_api(router, "/discussions/{rest:path}", ["POST"])
async def discussion_post(request: Request, target: deps.ApiTarget, services: deps.Services,
                          principal: deps.CurrentPrincipal):
    info = await _open(request, target)
    tail = target.tail[1:]
    if not tail:
        raise errors.NotFound("Not found")
    number = _number(tail[0])
    action = "/".join(tail[1:])
    community = services.community
    t = _target(principal, info, number)
    if len(tail) == 4 and tail[1] == "comment" and tail[3] in ("edit", "hide"):
        if not _EVENT_ID.match(tail[2]):
            raise errors.NotFound(f"Comment {tail[2][:40]} not found", code="CommentNotFound")
        if tail[3] == "edit":
            body = await json_object(request, limit=BODY_LIMIT)
            event = await call(community.EditComment, cpb.EditCommentRequest(
                target=t, comment_id=tail[2].lower(), content=string_field(body, "content", required=True)))
        else:
            event = await call(community.HideComment, cpb.CommentTarget(target=t, comment_id=tail[2].lower()))
        return JSON({"updatedComment": event_json(event)})
    body = await json_object(request, optional=True, limit=BODY_LIMIT)
    if action == "comment":
        event = await call(community.CommentDiscussion, cpb.CommentRequest(
            target=t, comment=string_field(body, "comment", required=True)))
        return JSON({"newMessage": event_json(event)})
    if action == "title":
        event = await call(community.RenameDiscussion, cpb.RenameRequest(
            target=t, title=string_field(body, "title", required=True)))
        return JSON({"newTitle": event_json(event)})
    if action == "status":
        event = await call(community.ChangeDiscussionStatus, cpb.ChangeStatusRequest(
            target=t, status=string_field(body, "status", required=True),
            comment=string_field(body, "comment") or ""))
        return JSON({"newStatus": event_json(event)})
    if action == "merge":
        details = await call(community.MergePullRequest, cpb.MergeRequest(
            target=t, comment=string_field(body, "comment") or ""), timeout=600)
        return JSON(details_json(info, _repo_url(request, info), details))
    raise errors.NotFound("Not found")

"""Discussions and pull requests (community.proto, issue 13).

Every call asks auth first (read, discuss, contribute, moderate, edit-comment, write, with the
author of what it touches as `owner_user_id`), validates everything it was given, and only then
changes anything. A pull request's ref is metadata's: opening a draft asks metadata for
`refs/pr/N` before the thread is recorded (and takes the ref back if recording fails), merging asks
metadata's MergePullRef (one compare-and-swap on the base branch) before the thread shows merged.
Webhook events are written in the transaction of each change (events.discussion_event).
"""
from __future__ import annotations

import logging

from hangar_common import edge, errors
from hangar_common.errors import BadRequest, Conflict, Forbidden
from hangar_common.grpcio import call
from hangar_protos import auth_pb2, metadata_pb2
from hangar_protos import community_pb2 as pb

from . import discussions as d
from . import events
from .rpc_base import ServicerBase

logger = logging.getLogger("hangar.community.discussions")

DEFAULT_PAGE = d.PAGE_SIZE
MAX_PAGE = 100
COMMIT_EVENTS = 200          # commits of a pull request listed as events


def _hook(thread: d.Thread, *, status: str | None = None, title: str | None = None, merge_commit: str = "") -> dict:
    """The `discussion` member of webhook events (events.discussion_event)."""
    body = {"id": f"{thread.repo_id}-{thread.number}", "num": thread.number, "title": title or thread.title,
            "status": status or thread.status, "isPullRequest": thread.is_pull_request,
            "author": {"id": thread.author_id}}
    if thread.is_pull_request:
        body["changes"] = {"base": thread.base_ref, **({"mergeCommitId": merge_commit} if merge_commit else {})}
    return body


def _comment(event_id: str, author_id: str, content: str, hidden: bool = False) -> dict:
    return {"id": event_id, "author": {"id": author_id}, "content": content, "hidden": hidden}


class DiscussionsRpc(ServicerBase):

    async def _allow(self, principal, facts, action: str, owner: str = "") -> bool:
        decision = await call(self.ctx.auth.Authorize, auth_pb2.AuthorizeRequest(
            principal=principal, repo=facts, action=action, owner_user_id=owner))
        edge.enforce(principal, decision)
        return True

    async def _may(self, principal, facts, action: str) -> bool:
        decision = await call(self.ctx.auth.Authorize, auth_pb2.AuthorizeRequest(
            principal=principal, repo=facts, action=action))
        return decision.allowed

    @staticmethod
    def _repo_request(facts, number: int) -> metadata_pb2.PullRefRequest:
        return metadata_pb2.PullRefRequest(repo=facts.repo, number=number)

    # --- reading -------------------------------------------------------------------------------
    async def ListDiscussions(self, request, context):
        await self._allow(request.principal, request.repo, "read")
        kind = request.type if request.type not in ("", "all") else ""
        status = request.status if request.status not in ("", "all") else ""
        if kind not in ("", "discussion", "pull_request"):
            raise BadRequest("type must be all, discussion or pull_request", code="InvalidDiscussionType")
        if status not in ("", "open", "closed"):
            raise BadRequest("status must be all, open or closed", code="InvalidDiscussionStatus")
        if request.page < 0:
            raise BadRequest("The page must be 0 or more", code="InvalidPage")
        size = request.page_size or DEFAULT_PAGE
        if not 0 < size <= MAX_PAGE:
            raise BadRequest(f"The page size must be 1 to {MAX_PAGE}", code="InvalidPage")
        async with self.ctx.pool.acquire() as conn:
            threads, total, closed = await d.list_threads(
                conn, repo_id=request.repo.repo_id, author=request.author, kind=kind, status=status,
                page=request.page, page_size=size)
        return pb.ListDiscussionsResponse(discussions=[t.message() for t in threads], count=total,
                                          start=request.page * size, num_closed=closed)

    async def GetDiscussion(self, request, context):
        await self._allow(request.principal, request.repo, "read")
        return await self._details(request.principal, request.repo, request.number, with_diff=request.with_diff)

    async def _details(self, principal, facts, number: int, *, with_diff: bool) -> pb.DiscussionDetails:
        async with self.ctx.pool.acquire() as conn:
            thread = await d.get_thread(conn, repo_id=facts.repo_id, number=number)
            items = await d.events(conn, repo_id=facts.repo_id, number=number)
        out = pb.DiscussionDetails(discussion=thread.message())
        if thread.is_pull_request:
            opened = items[0].created_at if items else thread.message().created_at
            for commit in await self._pull_details(principal, facts, thread, out, with_diff):
                # A commit dated (to the second) before its PR was recorded shows after the opening.
                commit.created_at = max(commit.created_at, opened)
                items.append(commit)
        out.events.extend(sorted(items, key=lambda e: e.created_at))   # stable: stored events first on ties
        return out

    async def _pull_details(self, principal, facts, thread: d.Thread, out: pb.DiscussionDetails,
                            with_diff: bool) -> list[pb.DiscussionEvent]:
        """Base, merge commit, conflicts and diff from metadata; the PR's commits as events."""
        pull = await call(self.ctx.metadata.GetPullRef, self._repo_request(facts, thread.number))
        out.base_ref, out.merge_commit, out.pr_ref = pull.base_ref, pull.merged_commit, pull.ref
        # The diff shows repository content: only for those who may download it.
        if await self._may(principal, facts, "download"):
            changes = await call(self.ctx.metadata.PullRefChanges, metadata_pb2.PullRefRequest(
                repo=facts.repo, number=thread.number, with_diff=with_diff))
            out.conflicting_files.extend(changes.pull.conflicting_files)
            out.diff = changes.diff
        history = await call(self.ctx.metadata.ListCommits, metadata_pb2.ListCommitsRequest(
            repo=facts.repo, revision=pull.ref, limit=COMMIT_EVENTS))
        commits = []
        for c in history.commits:
            if c.id == pull.start_commit:
                break
            author = c.authors[0].user if c.authors else ""
            commits.append(pb.DiscussionEvent(id=c.id[:24], type="commit", created_at=c.date,
                                              author=pb.Author(name=author), oid=c.id, subject=c.title))
        # ListCommits answers newest first; events read oldest first, and commits of one second
        # (a push of several) keep their history order through the stable sort by date.
        return commits[::-1]

    # --- opening -------------------------------------------------------------------------------
    async def CreateDiscussion(self, request, context):
        principal, facts = request.principal, request.repo
        await self._allow(principal, facts, "contribute" if request.pull_request else "discuss")
        title = d.clean_title(request.title)
        description = d.clean_comment(request.description, what="description") if request.description.strip() else ""
        if not request.pull_request:
            async with self.ctx.pool.acquire() as conn, conn.transaction():
                number = await d.next_number(conn, repo_id=facts.repo_id)
                await self._open(conn, facts, number, False, title, "open", principal, description)
            return await self._details(principal, facts, number, with_diff=False)
        async with self.ctx.pool.acquire() as conn:
            number = await d.next_number(conn, repo_id=facts.repo_id)
        # A draft's ref starts at the default branch's tip; commits then go to refs/pr/N.
        pull = await call(self.ctx.metadata.CreatePullRef, metadata_pb2.CreatePullRefRequest(
            repo=facts.repo, number=number, owner=principal))
        await self._record(facts, number, title, "draft", principal, description, pull.base_ref)
        return await self._details(principal, facts, number, with_diff=False)

    async def ReservePullRequest(self, request, context):
        await self._allow(request.principal, request.repo, "contribute")
        async with self.ctx.pool.acquire() as conn:
            return pb.ReservedNumber(number=await d.next_number(conn, repo_id=request.repo.repo_id))

    async def RecordPullRequest(self, request, context):
        """The thread of a PR a create_pr commit just opened (metadata holds its ref and owner)."""
        principal, facts = request.principal, request.repo
        await self._allow(principal, facts, "contribute")
        title = d.clean_title(request.title)
        description = request.description.strip()[:d.MAX_COMMENT]
        pull = await call(self.ctx.metadata.GetPullRef, self._repo_request(facts, request.number))
        if pull.owner_user_id != principal.user_id:
            raise Forbidden("This pull request was opened by someone else")
        await self._record(facts, request.number, title, "open", principal, description, pull.base_ref)
        return await self._details(principal, facts, request.number, with_diff=False)

    async def _record(self, facts, number: int, title: str, status: str, principal, description: str,
                      base_ref: str) -> None:
        """Record a PR thread whose ref exists; if that fails, take the ref back (nothing half-made)."""
        try:
            async with self.ctx.pool.acquire() as conn, conn.transaction():
                await self._open(conn, facts, number, True, title, status, principal, description, base_ref)
        except BaseException:
            try:
                await call(self.ctx.metadata.DeletePullRef, self._repo_request(facts, number))
            except errors.HangarError as exc:
                logger.warning("could not undo a pull request ref", extra={"fields": {"error": exc.message}})
            raise

    async def _open(self, conn, facts, number: int, is_pr: bool, title: str, status: str, principal,
                    description: str, base_ref: str = "") -> None:
        await d.insert_thread(conn, repo_id=facts.repo_id, number=number, is_pull_request=is_pr, title=title,
                              status=status, author=principal, description=description, base_ref=base_ref)
        thread = await d.get_thread(conn, repo_id=facts.repo_id, number=number)
        first = await d.events(conn, repo_id=facts.repo_id, number=number)
        comment = _comment(first[0].id, principal.user_id, description) if first else None
        await events.discussion_event(conn, action="create", repo=facts, discussion=_hook(thread), comment=comment)

    # --- comments ------------------------------------------------------------------------------
    async def CommentDiscussion(self, request, context):
        t = request.target
        await self._allow(t.principal, t.repo, "discuss")
        text = d.clean_comment(request.comment)
        async with self.ctx.pool.acquire() as conn, conn.transaction():
            thread = await d.get_thread(conn, repo_id=t.repo.repo_id, number=t.number, lock=True)
            event_id = await d.add_comment(conn, repo_id=t.repo.repo_id, number=t.number, author=t.principal, raw=text)
            await events.discussion_event(conn, action="create", repo=t.repo, discussion=_hook(thread),
                                          comment=_comment(event_id, t.principal.user_id, text),
                                          scope="discussion.comment")
            return (await d.events(conn, repo_id=t.repo.repo_id, number=t.number, ids=[event_id]))[0]

    async def EditComment(self, request, context):
        t = request.target
        await self._allow(t.principal, t.repo, "read")
        async with self.ctx.pool.acquire() as conn:
            row = await d.get_comment(conn, repo_id=t.repo.repo_id, number=t.number, comment_id=request.comment_id)
        await self._allow(t.principal, t.repo, "edit-comment", owner=row["author_id"])
        text = d.clean_comment(request.content)
        async with self.ctx.pool.acquire() as conn, conn.transaction():
            thread = await d.get_thread(conn, repo_id=t.repo.repo_id, number=t.number, lock=True)
            row = await d.get_comment(conn, repo_id=t.repo.repo_id, number=t.number, comment_id=request.comment_id,
                                      lock=True)
            await d.edit_comment(conn, row=row, editor=t.principal, raw=text)
            await events.discussion_event(conn, action="update", repo=t.repo, discussion=_hook(thread),
                                          comment=_comment(row["id"], row["author_id"], text),
                                          scope="discussion.comment")
            return (await d.events(conn, repo_id=t.repo.repo_id, number=t.number, ids=[row["id"]]))[0]

    async def HideComment(self, request, context):
        t = request.target
        await self._allow(t.principal, t.repo, "write")
        async with self.ctx.pool.acquire() as conn, conn.transaction():
            thread = await d.get_thread(conn, repo_id=t.repo.repo_id, number=t.number, lock=True)
            row = await d.get_comment(conn, repo_id=t.repo.repo_id, number=t.number, comment_id=request.comment_id,
                                      lock=True)
            if not row["hidden"]:
                await d.hide_comment(conn, row=row, editor=t.principal)
                await events.discussion_event(conn, action="update", repo=t.repo, discussion=_hook(thread),
                                              comment=_comment(row["id"], row["author_id"], "", hidden=True),
                                              scope="discussion.comment")
            return (await d.events(conn, repo_id=t.repo.repo_id, number=t.number, ids=[row["id"]]))[0]

    # --- title and status ----------------------------------------------------------------------
    async def _thread(self, t) -> d.Thread:
        async with self.ctx.pool.acquire() as conn:
            return await d.get_thread(conn, repo_id=t.repo.repo_id, number=t.number)

    async def RenameDiscussion(self, request, context):
        t = request.target
        await self._allow(t.principal, t.repo, "read")
        thread = await self._thread(t)
        await self._allow(t.principal, t.repo, "moderate", owner=thread.author_id)
        title = d.clean_title(request.title)
        async with self.ctx.pool.acquire() as conn, conn.transaction():
            thread = await d.get_thread(conn, repo_id=t.repo.repo_id, number=t.number, lock=True)
            if title == thread.title:
                raise BadRequest("The discussion already has this title", code="TitleUnchanged")
            event_id = await d.add_title(conn, repo_id=t.repo.repo_id, number=t.number, author=t.principal,
                                         old=thread.title, new=title)
            await events.discussion_event(conn, action="update", repo=t.repo, discussion=_hook(thread, title=title))
            return (await d.events(conn, repo_id=t.repo.repo_id, number=t.number, ids=[event_id]))[0]

    async def ChangeDiscussionStatus(self, request, context):
        t = request.target
        if request.status not in ("open", "closed"):
            raise BadRequest("The status must be 'open' or 'closed'", code="InvalidDiscussionStatus")
        await self._allow(t.principal, t.repo, "read")
        thread = await self._thread(t)
        await self._allow(t.principal, t.repo, "moderate", owner=thread.author_id)
        comment = d.clean_comment(request.comment) if request.comment.strip() else ""
        async with self.ctx.pool.acquire() as conn, conn.transaction():
            thread = await d.get_thread(conn, repo_id=t.repo.repo_id, number=t.number, lock=True)
            if thread.status == "merged":
                raise Conflict(f"Pull request #{t.number} is merged", code="PullRequestMerged")
            if thread.status == request.status:
                raise Conflict(f"Discussion #{t.number} is already {request.status}", code="StatusUnchanged")
            if comment:
                await d.add_comment(conn, repo_id=t.repo.repo_id, number=t.number, author=t.principal, raw=comment)
            event_id = await d.add_status(conn, repo_id=t.repo.repo_id, number=t.number, author=t.principal,
                                          status=request.status)
            await events.discussion_event(conn, action="update", repo=t.repo,
                                          discussion=_hook(thread, status=request.status))
            return (await d.events(conn, repo_id=t.repo.repo_id, number=t.number, ids=[event_id]))[0]

    # --- merge ---------------------------------------------------------------------------------
    async def MergePullRequest(self, request, context):
        t = request.target
        await self._allow(t.principal, t.repo, "write")
        comment = d.clean_comment(request.comment) if request.comment.strip() else ""
        thread = await self._thread(t)
        if not thread.is_pull_request:
            raise BadRequest(f"#{t.number} is a discussion, not a pull request", code="NotAPullRequest")
        refusals = {"draft": ("is a draft: open it before merging", "PullRequestIsDraft"),
                    "closed": ("is closed", "PullRequestClosed"),
                    "merged": ("is already merged", "PullRequestAlreadyMerged")}
        if thread.status in refusals:
            why, code = refusals[thread.status]
            raise Conflict(f"Pull request #{t.number} {why}", code=code)
        message = f"{thread.title} (#{t.number})\n\nMerge refs/pr/{t.number} into the base branch\n"
        try:
            merged = await call(self.ctx.metadata.MergePullRef, metadata_pb2.MergePullRefRequest(
                repo=t.repo.repo, number=t.number, merger=t.principal, message=message))
        except errors.HangarError as exc:
            if exc.code == "PullRequestAlreadyMerged":   # merged by a racing call: the thread follows
                pull = await call(self.ctx.metadata.GetPullRef, self._repo_request(t.repo, t.number))
                await self._mark_merged(t, thread, "", pull.merged_commit)
            raise
        await self._mark_merged(t, thread, comment, merged.merged_commit)
        return await self._details(t.principal, t.repo, t.number, with_diff=False)

    async def _mark_merged(self, t, thread: d.Thread, comment: str, merge_commit: str = "") -> None:
        async with self.ctx.pool.acquire() as conn, conn.transaction():
            current = await d.get_thread(conn, repo_id=t.repo.repo_id, number=t.number, lock=True)
            if current.status == "merged":
                return
            if comment:
                await d.add_comment(conn, repo_id=t.repo.repo_id, number=t.number, author=t.principal, raw=comment)
            await d.add_status(conn, repo_id=t.repo.repo_id, number=t.number, author=t.principal, status="merged")
            await events.discussion_event(conn, action="update", repo=t.repo,
                                          discussion=_hook(thread, status="merged", merge_commit=merge_commit))

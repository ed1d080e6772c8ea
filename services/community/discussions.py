"""Discussion threads and their events in the `community` schema (migrations d0001_discussions).

Keyword-only functions over an asyncpg connection; the rules of who may do what are auth's
(rpc_discussions asks it), the rules of what a thread may become are here: numbers come from one
counter per repository, titles are 3-200 characters, comments are non-empty and bounded, a merged
pull request's status no longer changes, a hidden comment keeps no content.
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

import orjson

from hangar_common.errors import BadRequest, Conflict, NotFound, PayloadTooLarge
from hangar_protos import community_pb2 as pb

from . import markdown

MIN_TITLE, MAX_TITLE = 3, 200
MAX_COMMENT = 65_536                 # characters of one comment
PAGE_SIZE = 50
STATUSES = ("open", "closed", "merged", "draft")


class DiscussionNotFound(NotFound):
    code = "DiscussionNotFound"


class CommentNotFound(NotFound):
    code = "CommentNotFound"


def rfc3339(when: datetime | None) -> str:
    if when is None:
        return ""
    when = when.astimezone(UTC)
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"


def clean_title(title: str) -> str:
    title = " ".join((title or "").split())
    if not MIN_TITLE <= len(title) <= MAX_TITLE:
        raise BadRequest(f"A title must be {MIN_TITLE} to {MAX_TITLE} characters long", code="InvalidTitle")
    return title


def clean_comment(text: str, *, what: str = "comment") -> str:
    if not isinstance(text, str) or not text.strip():
        raise BadRequest(f"The {what} is empty", code="EmptyComment")
    if len(text) > MAX_COMMENT:
        raise PayloadTooLarge(f"The {what} is longer than {MAX_COMMENT} characters", code="CommentTooLong")
    if "\x00" in text:
        raise BadRequest(f"The {what} contains a NUL character", code="InvalidComment")
    return text


def new_id() -> str:
    return secrets.token_hex(12)


@dataclass(frozen=True, slots=True)
class Thread:
    repo_id: str
    number: int
    is_pull_request: bool
    title: str
    status: str
    author_id: str
    author_name: str
    created_at: datetime
    num_comments: int = 0
    base_ref: str = ""

    def message(self) -> pb.Discussion:
        return pb.Discussion(number=self.number, title=self.title, status=self.status,
                             author=pb.Author(user_id=self.author_id, name=self.author_name),
                             created_at=rfc3339(self.created_at), is_pull_request=self.is_pull_request,
                             num_comments=self.num_comments, repo_id=self.repo_id)


_THREAD = """SELECT d.*, (SELECT count(*) FROM discussion_events e WHERE e.repo_id = d.repo_id AND e.num = d.num
                            AND e.type = 'comment') AS num_comments FROM discussions d"""


def _thread(row) -> Thread:
    return Thread(row["repo_id"], row["num"], row["is_pull_request"], row["title"], row["status"],
                  row["author_id"], row["author_name"], row["created_at"], row["num_comments"], row["base_ref"])


async def next_number(conn, *, repo_id: str) -> int:
    """The next number of the repository's one sequence (discussions and pull requests)."""
    return await conn.fetchval(
        "INSERT INTO discussion_counters (repo_id, last_number) VALUES ($1, 1) ON CONFLICT (repo_id) "
        "DO UPDATE SET last_number = discussion_counters.last_number + 1 RETURNING last_number", repo_id)


async def insert_thread(conn, *, repo_id: str, number: int, is_pull_request: bool, title: str, status: str,
                        author, description: str, base_ref: str = "") -> None:
    await conn.execute(
        "INSERT INTO discussions (repo_id, num, is_pull_request, title, status, author_id, author_name, base_ref) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7, $8)", repo_id, number, is_pull_request, title, status,
        author.user_id, author.username, base_ref)
    if description:
        await add_comment(conn, repo_id=repo_id, number=number, author=author, raw=description)


async def get_thread(conn, *, repo_id: str, number: int, lock: bool = False) -> Thread:
    if number <= 0:
        raise DiscussionNotFound(f"Discussion #{number} not found")
    if lock:   # FOR UPDATE cannot combine with the aggregate of _THREAD
        await conn.execute("SELECT 1 FROM discussions WHERE repo_id = $1 AND num = $2 FOR UPDATE", repo_id, number)
    row = await conn.fetchrow(f"{_THREAD} WHERE d.repo_id = $1 AND d.num = $2", repo_id, number)
    if row is None:
        raise DiscussionNotFound(f"Discussion #{number} not found")
    return _thread(row)


async def list_threads(conn, *, repo_id: str, author: str, kind: str, status: str, page: int,
                       page_size: int) -> tuple[list[Thread], int, int]:
    """(threads of the page, total matching, closed among the repo's threads), newest first."""
    where, args = ["d.repo_id = $1"], [repo_id]
    if author:
        args.append(author.lower())
        where.append(f"lower(d.author_name) = ${len(args)}")
    if kind == "pull_request":
        where.append("d.is_pull_request")
    elif kind == "discussion":
        where.append("NOT d.is_pull_request")
    if status == "open":
        where.append("d.status IN ('open', 'draft')")
    elif status == "closed":
        where.append("d.status IN ('closed', 'merged')")
    condition = " AND ".join(where)
    total = await conn.fetchval(f"SELECT count(*) FROM discussions d WHERE {condition}", *args)
    closed = await conn.fetchval(
        "SELECT count(*) FROM discussions WHERE repo_id = $1 AND status IN ('closed', 'merged')", repo_id)
    rows = await conn.fetch(f"{_THREAD} WHERE {condition} ORDER BY d.num DESC LIMIT {int(page_size)} "
                            f"OFFSET {int(page) * int(page_size)}", *args)
    return [_thread(r) for r in rows], total, closed


async def add_comment(conn, *, repo_id: str, number: int, author, raw: str) -> str:
    event_id = new_id()
    await conn.execute(
        "INSERT INTO discussion_events (id, repo_id, num, type, author_id, author_name, raw, html, updated_at, "
        "editor_id, editor_name) VALUES ($1, $2, $3, 'comment', $4, $5, $6, $7, clock_timestamp(), $4, $5)",
        event_id, repo_id, number, author.user_id, author.username, raw, markdown.render(raw))
    return event_id


async def add_status(conn, *, repo_id: str, number: int, author, status: str) -> str:
    event_id = new_id()
    await conn.execute(
        "INSERT INTO discussion_events (id, repo_id, num, type, author_id, author_name, status) "
        "VALUES ($1, $2, $3, 'status-change', $4, $5, $6)", event_id, repo_id, number, author.user_id,
        author.username, status)
    await conn.execute("UPDATE discussions SET status = $3 WHERE repo_id = $1 AND num = $2", repo_id, number, status)
    return event_id


async def add_title(conn, *, repo_id: str, number: int, author, old: str, new: str) -> str:
    event_id = new_id()
    await conn.execute(
        "INSERT INTO discussion_events (id, repo_id, num, type, author_id, author_name, old_title, new_title) "
        "VALUES ($1, $2, $3, 'title-change', $4, $5, $6, $7)", event_id, repo_id, number, author.user_id,
        author.username, old, new)
    await conn.execute("UPDATE discussions SET title = $3 WHERE repo_id = $1 AND num = $2", repo_id, number, new)
    return event_id


async def get_comment(conn, *, repo_id: str, number: int, comment_id: str, lock: bool = False):
    row = await conn.fetchrow(
        "SELECT * FROM discussion_events WHERE id = $1 AND repo_id = $2 AND num = $3 AND type = 'comment'"
        + (" FOR UPDATE" if lock else ""), comment_id.lower(), repo_id, number)
    if row is None:
        raise CommentNotFound(f"Comment {comment_id[:40]} not found in discussion #{number}")
    return row


async def edit_comment(conn, *, row, editor, raw: str) -> None:
    if row["hidden"]:
        raise Conflict("A hidden comment cannot be edited", code="CommentHidden")
    previous = {"raw": row["raw"], "html": row["html"], "updatedAt": rfc3339(row["updated_at"]),
                "author": {"name": row["editor_name"] or row["author_name"]}}
    history = [previous, *orjson.loads(row["history"])]
    await conn.execute(
        "UPDATE discussion_events SET raw = $2, html = $3, edited = true, updated_at = clock_timestamp(), "
        "editor_id = $4, editor_name = $5, history = $6::jsonb WHERE id = $1",
        row["id"], raw, markdown.render(raw), editor.user_id, editor.username, orjson.dumps(history).decode())


async def hide_comment(conn, *, row, editor) -> None:
    """Irreversible: the content and its history are dropped (as on the Hub)."""
    await conn.execute(
        "UPDATE discussion_events SET hidden = true, raw = '', html = '', history = '[]'::jsonb, "
        "updated_at = clock_timestamp(), editor_id = $2, editor_name = $3 WHERE id = $1",
        row["id"], editor.user_id, editor.username)


async def events(conn, *, repo_id: str, number: int, ids: list[str] | None = None) -> list[pb.DiscussionEvent]:
    if ids is not None:
        rows = await conn.fetch("SELECT * FROM discussion_events WHERE id = ANY($1) ORDER BY created_at, id", ids)
    else:
        rows = await conn.fetch("SELECT * FROM discussion_events WHERE repo_id = $1 AND num = $2 "
                                "ORDER BY created_at, id", repo_id, number)
    return [event_message(r) for r in rows]


def event_message(row) -> pb.DiscussionEvent:
    event = pb.DiscussionEvent(id=row["id"], type=row["type"], created_at=rfc3339(row["created_at"]),
                               author=pb.Author(user_id=row["author_id"], name=row["author_name"]))
    if row["type"] == "comment":
        event.raw, event.html = row["raw"] or "", row["html"] or ""
        event.edited, event.hidden = row["edited"], row["hidden"]
        event.updated_at = rfc3339(row["updated_at"] or row["created_at"])
        event.editor.CopyFrom(pb.Author(user_id=row["editor_id"] or row["author_id"],
                                        name=row["editor_name"] or row["author_name"]))
        for item in orjson.loads(row["history"]):
            event.history.append(pb.CommentRevision(raw=item.get("raw", ""), html=item.get("html", ""),
                                                    updated_at=item.get("updatedAt", ""),
                                                    author=pb.Author(name=item.get("author", {}).get("name", ""))))
    elif row["type"] == "status-change":
        event.status = row["status"]
    elif row["type"] == "title-change":
        event.old_title, event.new_title = row["old_title"], row["new_title"]
    return event

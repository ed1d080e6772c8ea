"""The community outbox: `record()` writes an event inside the caller's transaction
(docs/architecture.md "Who owns what"), so it is delivered exactly when the change that caused it
committed. Scopes and actions are the
Hub's webhook v3 ones (huggingface.co/docs/hub/webhooks): `repo` (create/delete/update/move),
`repo.content` and `repo.config` (update), `discussion` (create/delete/update) and
`discussion.comment` (create/update). `body` holds the payload's other members, e.g. `discussion`
and `comment` for discussion events; the webhook worker adds `event`, `repo` and `webhook`."""
from __future__ import annotations

import json

from hangar_common.errors import BadRequest
from hangar_protos import common_pb2

SCOPES = ("repo", "repo.content", "repo.config", "discussion", "discussion.comment")
ACTIONS = ("create", "delete", "update", "move")
NOTIFY_CHANNEL = "community_events"


def repo_snapshot(facts: common_pb2.RepoFacts) -> dict:
    return {"type": facts.repo.type, "namespace": facts.repo.namespace, "name": facts.repo.name,
            "id": facts.repo_id, "private": facts.private, "gated": facts.gated}


async def record(conn, *, scope: str, action: str, repo: common_pb2.RepoFacts | dict, body: dict | None = None,
                 source_key: str | None = None, occurred_at: str | None = None) -> int | None:
    """Insert one event in the caller's transaction (asyncpg connection). Returns its id, or None
    when `source_key` was already recorded (an imported event seen twice). `occurred_at` (RFC 3339)
    is when an imported change happened; webhooks created after it do not get it."""
    if scope not in SCOPES or action not in ACTIONS:
        raise BadRequest(f"Unknown event {scope}/{action}")
    snapshot = repo if isinstance(repo, dict) else repo_snapshot(repo)
    event_id = await conn.fetchval(
        "INSERT INTO events (source_key, scope, action, repo, body, created_at) "
        "VALUES ($1, $2, $3, $4::jsonb, $5::jsonb, coalesce($6::text::timestamptz, now())) "
        "ON CONFLICT (source_key) DO NOTHING RETURNING id",
        source_key, scope, action, json.dumps(snapshot), json.dumps(body or {}), occurred_at)
    if event_id is not None:
        await conn.execute("SELECT pg_notify($1, $2)", NOTIFY_CHANNEL, str(event_id))  # sent at commit
    return event_id


async def discussion_event(conn, *, action: str, repo: common_pb2.RepoFacts, discussion: dict,
                           comment: dict | None = None, scope: str = "discussion") -> int | None:
    """A `discussion` or `discussion.comment` event in the Hub's shape, in the caller's transaction.

    `discussion`: {"id", "num", "title", "status", "isPullRequest", "author": {"id"}} plus, for pull
    requests, "changes": {"base": "refs/heads/main", "mergeCommitId"?}; `comment` (on creation of a
    thread or a comment, and comment updates): {"id", "author": {"id"}, "content", "hidden"}. The
    worker adds the `url`s (web and api) from the hub's public URL when it sends them."""
    body = {"discussion": discussion}
    if comment is not None:
        body["comment"] = comment
    return await record(conn, scope=scope, action=action, repo=repo, body=body)

"""JSON shapes of the community service's records as huggingface_hub 2.4 parses them: discussions and
their events (`community.py`: deserialize_event, DiscussionWithDetails), collections
(`Collection`, `CollectionItem`) and webhooks (`WebhookInfo`), plus the delivery log Hangar adds."""
from __future__ import annotations

import html

import orjson

from hangar_protos import community_pb2 as pb
from hangar_protos import metadata_pb2


def author_json(author: pb.Author) -> dict:
    name = author.name or "deleted"
    return {"_id": author.user_id, "name": name, "fullname": name, "type": "user",
            "avatarUrl": "", "isPro": False, "isHf": False}


def event_json(e: pb.DiscussionEvent) -> dict:
    body = {"id": e.id, "type": e.type, "createdAt": e.created_at, "author": author_json(e.author)}
    if e.type == "comment":
        latest = {"raw": e.raw, "html": e.html, "updatedAt": e.updated_at, "author": author_json(e.editor)}
        history = [latest] + [{"raw": h.raw, "html": h.html, "updatedAt": h.updated_at,
                               "author": author_json(h.author)} for h in e.history]
        body["data"] = {"edited": e.edited, "hidden": e.hidden, "latest": latest, "numEdits": len(e.history),
                        "editors": sorted({h["author"]["name"] for h in history}), "reactions": [],
                        "history": history if not e.hidden else []}
    elif e.type == "status-change":
        body["data"] = {"status": e.status}
    elif e.type == "title-change":
        body["data"] = {"from": e.old_title, "to": e.new_title}
    elif e.type == "commit":
        body["data"] = {"subject": e.subject, "oid": e.oid}
    return body


def discussion_json(info: metadata_pb2.RepoInfo, repo_url: str, item: pb.Discussion) -> dict:
    """`repo_url`: the repo's absolute URL (the discussion's `url` is under it)."""
    repo = info.facts.repo
    return {"num": item.number, "title": item.title, "status": item.status, "author": author_json(item.author),
            "createdAt": item.created_at, "isPullRequest": item.is_pull_request, "numComments": item.num_comments,
            "repo": {"name": f"{repo.namespace}/{repo.name}", "type": repo.type}, "pinned": False,
            "topReactions": [], "url": f"{repo_url}/discussions/{item.number}"}


def details_json(info: metadata_pb2.RepoInfo, repo_url: str, details: pb.DiscussionDetails) -> dict:
    body = discussion_json(info, repo_url, details.discussion)
    body["events"] = [event_json(e) for e in details.events]
    if details.discussion.is_pull_request:
        body["changes"] = {"base": details.base_ref, "mergeCommitId": details.merge_commit or None,
                           "head": details.pr_ref}
        body["filesWithConflicts"] = list(details.conflicting_files)
        body["diff"] = details.diff or None
    return body


def collection_item_json(item: pb.CollectionItem) -> dict:
    body: dict = {"_id": item.id, "id": item.item_id, "type": item.type, "position": item.position,
                  "lastModified": item.last_modified or None}
    if item.type == "collection":
        body["slug"] = item.item_id
    else:
        body["author"] = item.repo.repo.namespace
        body["private"] = item.repo.private
    if item.note:
        body["note"] = {"text": item.note, "html": html.escape(item.note)}
    return body


def collection_json(c: pb.Collection, endpoint: str) -> dict:
    return {"_id": c.id, "slug": c.slug, "title": c.title, "description": c.description or None,
            "owner": {"name": c.owner, "type": c.owner_kind, "fullname": c.owner, "avatarUrl": ""},
            "private": c.private, "theme": c.theme, "position": c.position, "upvotes": c.upvotes,
            "isUpvotedByUser": False, "lastUpdated": c.last_updated, "url": f"{endpoint}/collections/{c.slug}",
            "items": [collection_item_json(i) for i in c.items]}


def webhook_json(hook: pb.Webhook) -> dict:
    return {"id": hook.id, "url": hook.url, "job": None,
            "watched": [{"type": w.type, "name": w.name} for w in hook.watched],
            "domains": list(hook.domains), "secret": hook.secret or None, "disabled": hook.disabled,
            "createdAt": hook.created_at, "updatedAt": hook.updated_at}


def delivery_json(d: pb.Delivery) -> dict:
    return {"id": d.id, "webhookId": d.webhook_id, "event": {"scope": d.scope, "action": d.action},
            "status": d.status, "attempts": d.attempts, "lastStatusCode": d.last_status_code or None,
            "lastError": d.last_error or None, "createdAt": d.created_at,
            "nextAttemptAt": d.next_attempt_at or None, "replayOf": d.replay_of or None,
            "payload": orjson.loads(d.payload_json),
            "log": [{"at": a.at, "statusCode": a.status_code or None, "error": a.error or None} for a in d.log]}

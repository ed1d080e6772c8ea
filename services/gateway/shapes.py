"""JSON shapes of the Hub API, built from metadata's messages as plain dicts (no per-item models:
a tree can hold 100k entries, docs/architecture.md "Streaming and speed"). Field names are the ones
huggingface_hub parses (`hf_api.py`: ModelInfo, RepoSibling, RepoFile, RepoFolder, GitRefInfo, GitCommitInfo)."""
from __future__ import annotations

import html

import orjson
from starlette.responses import Response

from hangar_protos import metadata_pb2


class JSON(Response):
    """orjson-encoded JSON response (fast on large lists)."""

    media_type = "application/json"

    def render(self, content) -> bytes:
        return orjson.dumps(content)


def gated_value(gated: str):
    return gated if gated in ("auto", "manual") else False


def card_data(info: metadata_pb2.RepoInfo) -> dict | None:
    if not info.card_data_json:
        return None
    try:
        data = orjson.loads(info.card_data_json)
    except orjson.JSONDecodeError:
        return None
    return data if isinstance(data, dict) else None


def repo_summary(info: metadata_pb2.RepoInfo, sha: str | None = None) -> dict:
    """What listings and repo_info share: id, sha, dates, visibility."""
    repo = info.facts.repo
    repo_id = f"{repo.namespace}/{repo.name}"
    body = {
        "_id": info.facts.repo_id or repo_id, "id": repo_id, "author": repo.namespace,
        "sha": sha or info.sha, "lastModified": info.last_modified, "createdAt": info.created_at,
        "private": info.facts.private, "gated": gated_value(info.facts.gated), "disabled": False,
        "downloads": 0, "likes": info.likes, "tags": [],
    }
    if repo.type == "model":
        body["modelId"] = repo_id
    card = card_data(info)
    if card is not None:
        body["cardData"] = card
        if repo.type == "space" and isinstance(card.get("sdk"), str):
            body["sdk"] = card["sdk"]
    return body


def sibling(entry: metadata_pb2.TreeEntry, blobs: bool) -> dict:
    item: dict[str, object] = {"rfilename": entry.path}
    if blobs:
        item["size"] = entry.size
        item["blobId"] = entry.oid
        if entry.HasField("lfs") and entry.lfs.oid:
            item["lfs"] = {"sha256": entry.lfs.oid, "size": entry.lfs.size,
                           "pointerSize": entry.lfs.pointer_size}
    return item


def tree_entry(entry: metadata_pb2.TreeEntry) -> dict:
    if entry.type == "directory":
        item = {"type": "directory", "oid": entry.oid, "size": 0, "path": entry.path}
    else:
        item = {"type": "file", "oid": entry.oid, "size": entry.size, "path": entry.path}
        if entry.HasField("lfs") and entry.lfs.oid:
            item["lfs"] = {"oid": entry.lfs.oid, "size": entry.lfs.size,
                           "pointerSize": entry.lfs.pointer_size}
    if entry.HasField("last_commit") and entry.last_commit.id:
        item["lastCommit"] = {"id": entry.last_commit.id, "title": entry.last_commit.title,
                              "date": entry.last_commit.date}
    return item


def ref(item: metadata_pb2.Ref) -> dict:
    return {"name": item.name, "ref": item.ref, "targetCommit": item.target_commit}


def commit(item: metadata_pb2.CommitInfo, *, formatted: bool = False) -> dict:
    body: dict = {"id": item.id, "title": item.title, "message": item.message,
            "authors": [{"user": a.user, "avatar": None} for a in item.authors] or [{"user": "unknown"}],
            "date": item.date, "parents": list(item.parents)}
    if formatted:   # `expand[]=formatted` (list_repo_commits(formatted=True)): inert HTML of the text
        body["formatted"] = {"title": html.escape(item.title), "message": html.escape(item.message)}
    return body

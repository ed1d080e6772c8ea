"""The repository event outbox (docs/architecture.md "Who owns what"). `ref_moved` is called by `refs.compare_and_swap`,
the one place refs move (commits, pushes, branches, tags, merges); `repo_changed` by the repository
lifecycle (create, delete, move, settings). Both run in the caller's transaction, so an event exists
exactly when its change committed. The community service claims events with `claim` and removes
them with `ack` once it holds them (its import is idempotent on the event key)."""
from __future__ import annotations

import json

from hangar_common import hotcache
from hangar_protos import common_pb2
from hangar_protos import metadata_pb2 as pb

from . import gitformat as gf

_SNAPSHOT = """jsonb_build_object('type', r.type, 'namespace', r.namespace, 'name', r.name,
                                   'id', r.id::text, 'private', r.private, 'gated', r.gated)"""
_HEAD = """(SELECT target FROM refs f WHERE f.repo_id = r.id AND f.name = 'refs/heads/' || r.default_branch)"""


async def ref_moved(conn, repo_id: int, ref: str, old: str | None, new: str | None) -> None:
    hotcache.note(hotcache.REPOS, str(repo_id))   # every replica's (repo, rev) -> commit goes
    await conn.execute(
        f"""INSERT INTO outbox (repo_id, repo, scope, action, ref, old_oid, new_oid, head_sha)
            SELECT r.id, {_SNAPSHOT}, 'repo.content', 'update', $2, $3, $4, {_HEAD} FROM repos r WHERE r.id = $1""",
        repo_id, ref, old, new)


async def repo_changed(conn, repo_id: int, scope: str, action: str, body: dict | None = None) -> None:
    hotcache.note(hotcache.REPOS, str(repo_id))   # settings, name, existence: cached facts go
    await conn.execute(
        f"""INSERT INTO outbox (repo_id, repo, scope, action, head_sha, body)
            SELECT r.id, {_SNAPSHOT}, $2, $3, {_HEAD}, $4::jsonb FROM repos r WHERE r.id = $1""",
        repo_id, scope, action, json.dumps(body or {}))


async def claim(conn, limit: int) -> list:
    """Rows of the oldest `limit` committed transactions (whole transactions, so one event is never
    split across two claims). Rows stay until acknowledged."""
    return await conn.fetch(
        """SELECT * FROM outbox WHERE txid IN (
               SELECT txid FROM outbox GROUP BY txid ORDER BY min(id) LIMIT $1)
           ORDER BY id""", limit)


async def ack(conn, ids: list[int]) -> None:
    await conn.execute("DELETE FROM outbox WHERE id = ANY($1::bigint[])", ids)


def event_pb(row) -> pb.RepoEvent:
    repo = json.loads(row["repo"]) if isinstance(row["repo"], str) else row["repo"]
    return pb.RepoEvent(
        id=row["id"], txid=row["txid"], scope=row["scope"], action=row["action"], ref=row["ref"] or "",
        old_oid=row["old_oid"] or "", new_oid=row["new_oid"] or "", head_sha=row["head_sha"] or "",
        body_json=row["body"] if isinstance(row["body"], str) else json.dumps(row["body"]),
        created_at=gf.rfc3339(row["created_at"]),
        repo=common_pb2.RepoFacts(
            repo=common_pb2.RepoRef(type=repo["type"], namespace=repo["namespace"], name=repo["name"]),
            repo_id=repo["id"], private=repo["private"], gated=repo["gated"]))

"""Git LFS file locking (git-lfs docs/api/locking.md): create, list, verify, unlock.

Locks are per repository (the `ref` is recorded, not used to partition). `git push` calls
`locks/verify`; a clean answer keeps it from warning. Listing needs read access; everything else
needs write access; unlocking someone else's lock needs `force` and admin rights.
"""
from __future__ import annotations

import uuid

from sqlalchemy import text

from hangar_common import errors

from .access import open_repo

DEFAULT_LIMIT, MAX_LIMIT = 100, 1000


def _lock(row) -> dict:
    return {"id": row["id"], "path": row["path"],
            "locked_at": row["locked_at"].strftime("%Y-%m-%dT%H:%M:%SZ"),
            "owner": {"name": row["owner_name"]}}


def _ref(body) -> str:
    ref = body.get("ref") if isinstance(body, dict) else None
    return ref.get("name", "") if isinstance(ref, dict) and isinstance(ref.get("name", ""), str) else ""


def _page(cursor, limit) -> tuple[int, int]:
    try:
        offset = int(cursor or 0)
        size = int(limit or DEFAULT_LIMIT)
    except (TypeError, ValueError):
        raise errors.UnprocessableEntity("cursor and limit must be integers", code="InvalidRequest") from None
    if offset < 0 or size <= 0:
        raise errors.UnprocessableEntity("cursor and limit must be positive", code="InvalidRequest")
    return offset, min(size, MAX_LIMIT)


_SELECT = "SELECT id::text, path, locked_at, owner_id, owner_name FROM locks WHERE repo_id = :repo"


async def create(ctx, lfs_path, body, authorization: str) -> tuple[int, dict]:
    principal, facts = await open_repo(ctx.peers, lfs_path.ref, authorization, "write")
    path = body.get("path") if isinstance(body, dict) else None
    if not isinstance(path, str) or not path or len(path) > 4096 or "\x00" in path:
        raise errors.UnprocessableEntity("path is required", code="InvalidRequest")
    async with ctx.engine.begin() as conn:
        row = (await conn.execute(text(
            "INSERT INTO locks (id, repo_id, path, ref, owner_id, owner_name) "
            "VALUES (:id, :repo, :path, :ref, :uid, :name) ON CONFLICT (repo_id, path) DO NOTHING "
            "RETURNING id::text, path, locked_at, owner_id, owner_name"),
            {"id": str(uuid.uuid4()), "repo": facts.repo_id, "path": path, "ref": _ref(body),
             "uid": principal.user_id, "name": principal.username})).mappings().first()
        if row is not None:
            return 201, {"lock": _lock(row)}
        existing = (await conn.execute(text(_SELECT + " AND path = :path"),
                                       {"repo": facts.repo_id, "path": path})).mappings().first()
    return 409, {"lock": _lock(existing), "message": "already created lock"}


async def list_locks(ctx, lfs_path, params, authorization: str) -> dict:
    _, facts = await open_repo(ctx.peers, lfs_path.ref, authorization, "read")
    offset, limit = _page(params.get("cursor"), params.get("limit"))
    sql, args = _SELECT, {"repo": facts.repo_id, "limit": limit + 1, "offset": offset}
    if params.get("path"):
        sql, args["path"] = sql + " AND path = :path", params["path"]
    if params.get("id"):
        try:
            args["id"] = str(uuid.UUID(params["id"]))
        except ValueError:
            return {"locks": []}
        sql += " AND id = :id"
    async with ctx.engine.connect() as conn:
        rows = list((await conn.execute(text(sql + " ORDER BY locked_at, id LIMIT :limit OFFSET :offset"),
                                        args)).mappings())
    answer: dict[str, object] = {"locks": [_lock(r) for r in rows[:limit]]}
    if len(rows) > limit:
        answer["next_cursor"] = str(offset + limit)
    return answer


async def verify(ctx, lfs_path, body, authorization: str) -> dict:
    principal, facts = await open_repo(ctx.peers, lfs_path.ref, authorization, "write")
    body = body if isinstance(body, dict) else {}
    offset, limit = _page(body.get("cursor"), body.get("limit"))
    async with ctx.engine.connect() as conn:
        rows = list((await conn.execute(text(_SELECT + " ORDER BY locked_at, id LIMIT :limit OFFSET :offset"),
                                        {"repo": facts.repo_id, "limit": limit + 1, "offset": offset})).mappings())
    answer: dict[str, object] = {"ours": [_lock(r) for r in rows[:limit] if r["owner_id"] == principal.user_id],
              "theirs": [_lock(r) for r in rows[:limit] if r["owner_id"] != principal.user_id]}
    if len(rows) > limit:
        answer["next_cursor"] = str(offset + limit)
    return answer


async def unlock(ctx, lfs_path, lock_id: str, body, authorization: str) -> dict:
    principal, facts = await open_repo(ctx.peers, lfs_path.ref, authorization, "write")
    force = bool(body.get("force")) if isinstance(body, dict) else False
    try:
        lock_id = str(uuid.UUID(lock_id))
    except ValueError:
        raise errors.NotFound("Lock not found", code="LockNotFound") from None
    async with ctx.engine.begin() as conn:
        row = (await conn.execute(text(_SELECT + " AND id = :id FOR UPDATE"),
                                  {"repo": facts.repo_id, "id": lock_id})).mappings().first()
        if row is None:
            raise errors.NotFound("Lock not found", code="LockNotFound")
        if row["owner_id"] != principal.user_id:
            if not force:
                raise errors.Forbidden(f"Lock is owned by {row['owner_name']}; use --force", code="Forbidden")
            decision = await ctx.peers.authorize(principal, facts, "admin")
            if not decision.allowed:
                raise errors.Forbidden("Only repository admins may force-unlock", code="Forbidden")
        await conn.execute(text("DELETE FROM locks WHERE id = :id"), {"id": lock_id})
    return {"lock": _lock(row)}

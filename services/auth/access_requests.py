"""Gated repos: users' requests for access, per repository (metadata's repo id), in the
access_requests table. A request is pending, accepted or rejected; only accepted ones let a
stranger download from a gated repo (policy.decide). A user's e-mail is shown to the repo's managers
only if the user asked (the gate's form says the contact details are shared); someone granted access
by hand never agreed to that."""
from __future__ import annotations

import json

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from hangar_common import hotcache
from hangar_common.errors import BadRequest
from hangar_protos import auth_pb2

from .accounts import iso

STATUSES = ("pending", "accepted", "rejected")
_SELECT = ("SELECT r.id, r.status, r.fields, r.reason, r.updated_at, r.asked, a.id AS user_id, a.name, a.fullname, "
           "a.email "
           "FROM access_requests r JOIN accounts a ON a.id = r.user_id")


def status(value: str) -> str:
    if value not in STATUSES:
        raise BadRequest("Status must be one of pending, accepted, rejected", code="InvalidStatus")
    return value


def info(row) -> auth_pb2.AccessRequestInfo:
    return auth_pb2.AccessRequestInfo(
        request_id=str(row.id), username=row.name, fullname=row.fullname or row.name,
        email=(row.email or "") if row.asked else "",
        status=row.status, timestamp=iso(row.updated_at), fields_json=json.dumps(row.fields or {}),
        reason=row.reason or "")


async def ask(conn: AsyncConnection, *, repo_id: str, user_id: int, initial: str, fields: dict):
    """Record a request; asking again changes nothing (a rejected request stays rejected)."""
    hotcache.note(hotcache.DECISIONS, str(user_id))   # an automatic approval grants at once
    await conn.execute(text(
        "INSERT INTO access_requests (repo_id, user_id, status, fields) "
        "VALUES (:repo, :user, :status, CAST(:fields AS jsonb)) "
        "ON CONFLICT (repo_id, user_id) DO NOTHING"),
        {"repo": repo_id, "user": user_id, "status": initial, "fields": json.dumps(fields)})
    return await get(conn, repo_id=repo_id, user_id=user_id)


async def get(conn: AsyncConnection, *, repo_id: str, user_id: int | None = None, request_id: int | None = None):
    where, params = ("r.user_id = :user", {"user": user_id}) if user_id is not None else \
        ("r.id = :id", {"id": request_id})
    return (await conn.execute(text(f"{_SELECT} WHERE r.repo_id = :repo AND {where}"),
                               {"repo": repo_id, **params})).first()


async def listing(conn: AsyncConnection, *, repo_id: str, wanted: str, offset: int, limit: int) -> list:
    result = await conn.execute(text(
        f"{_SELECT} WHERE r.repo_id = :repo AND r.status = :status ORDER BY r.updated_at, r.id "
        "OFFSET :offset LIMIT :limit"), {"repo": repo_id, "status": wanted, "offset": offset, "limit": limit})
    return list(result)


async def set_status(conn: AsyncConnection, *, repo_id: str, user_id: int, new: str, reason: str):
    """Move an existing request to `new`; None when the user has no request for this repo."""
    hotcache.note(hotcache.DECISIONS, str(user_id))
    found = (await conn.execute(text(
        "UPDATE access_requests SET status = :status, reason = :reason, updated_at = now() "
        "WHERE repo_id = :repo AND user_id = :user RETURNING id"),
        {"repo": repo_id, "user": user_id, "status": new, "reason": reason})).first()
    return None if found is None else await get(conn, repo_id=repo_id, user_id=user_id)


async def grant(conn: AsyncConnection, *, repo_id: str, user_id: int):
    """Accept a user whether or not they asked; a request made by hand does not share their e-mail."""
    hotcache.note(hotcache.DECISIONS, str(user_id))
    await conn.execute(text(
        "INSERT INTO access_requests (repo_id, user_id, status, asked) VALUES (:repo, :user, 'accepted', false) "
        "ON CONFLICT (repo_id, user_id) DO UPDATE SET status = 'accepted', reason = '', updated_at = now()"),
        {"repo": repo_id, "user": user_id})
    return await get(conn, repo_id=repo_id, user_id=user_id)


async def is_accepted(conn: AsyncConnection, *, repo_id: str, user_id: int) -> bool:
    found = (await conn.execute(text(
        "SELECT status FROM access_requests WHERE repo_id = :repo AND user_id = :user"),
        {"repo": repo_id, "user": user_id})).scalar()
    return found == "accepted"

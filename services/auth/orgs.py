"""Organizations and their members (accounts of kind 'org' and the org_members table).

Roles (issue 5): read (sees the organization's private repos), member (reads and writes all its
repos), admin (also manages members, settings and repos), super-admin (also renames or deletes the
organization). Only a super-admin grants or takes away super-admin, and an organization always
keeps at least one super-admin.
"""
from __future__ import annotations

import json

from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from hangar_common.errors import BadRequest, Conflict, Forbidden, NotFound
from hangar_protos import auth_pb2

from .accounts import iso
from .policy import ORG_ROLES, rank

ROLE_ALIASES = {"contributor": "member", "write": "member"}
DEFAULT_PAGE = 500


def canonical_role(role: str) -> str:
    role = ROLE_ALIASES.get(role, role)
    if role not in ORG_ROLES:
        raise BadRequest(f"Role must be one of {', '.join(ORG_ROLES)}", code="InvalidRole")
    return role


def org_info(row, num_members: int = 0) -> auth_pb2.OrgInfo:
    return auth_pb2.OrgInfo(id=str(row.id), name=row.name, fullname=row.fullname or row.name,
                            created_at=iso(row.created_at), settings_json=json.dumps(row.settings or {}),
                            num_members=num_members)


async def create(conn: AsyncConnection, *, name: str, fullname: str, creator_id: int):
    try:
        async with conn.begin_nested():
            row = (await conn.execute(text(
                "INSERT INTO accounts (kind, name, fullname) VALUES ('org', :name, :fullname) "
                "RETURNING id, name, fullname, settings, created_at"),
                {"name": name, "fullname": fullname})).one()
    except IntegrityError:
        raise Conflict(f"The name {name} is already taken", code="AccountExists") from None
    await conn.execute(text(
        "INSERT INTO org_members (org_id, user_id, role) VALUES (:org, :user, 'super-admin')"),
        {"org": row.id, "user": creator_id})
    return row


async def get(conn: AsyncConnection, name: str, *, lock: bool = False):
    """The organization named `name` (case-insensitive) or NotFound."""
    row = (await conn.execute(text(
        "SELECT id, name, fullname, settings, created_at FROM accounts "
        f"WHERE kind = 'org' AND lower(name) = lower(:name){' FOR UPDATE' if lock else ''}"),
        {"name": name})).first()
    if row is None:
        raise NotFound(f"Organization {name} not found", code="OrgNotFound")
    return row


async def count_members(conn: AsyncConnection, org_id: int) -> int:
    return (await conn.execute(text("SELECT count(*) FROM org_members WHERE org_id = :org"),
                               {"org": org_id})).scalar()


async def members(conn: AsyncConnection, org_id: int, *, offset: int, limit: int) -> list:
    result = await conn.execute(text(
        "SELECT a.name AS username, a.fullname, m.role, m.created_at FROM org_members m "
        "JOIN accounts a ON a.id = m.user_id WHERE m.org_id = :org ORDER BY lower(a.name) "
        "OFFSET :offset LIMIT :limit"), {"org": org_id, "offset": offset, "limit": limit})
    return list(result)


async def role_of(conn: AsyncConnection, org_id: int, user_id: int) -> str:
    role = (await conn.execute(text(
        "SELECT role FROM org_members WHERE org_id = :org AND user_id = :user"),
        {"org": org_id, "user": user_id})).scalar()
    return role or ""


async def super_admins(conn: AsyncConnection, org_id: int) -> int:
    return (await conn.execute(text(
        "SELECT count(*) FROM org_members WHERE org_id = :org AND role = 'super-admin'"),
        {"org": org_id})).scalar()


def check_can_manage(actor_role: str, old_role: str, new_role: str, *, site_admin: bool) -> None:
    """Admins manage members; only super-admins touch super-admin memberships."""
    if site_admin:
        return
    if rank(actor_role) < rank("admin"):
        raise Forbidden("Only the organization's admins can manage its members")
    if "super-admin" in (old_role, new_role) and actor_role != "super-admin":
        raise Forbidden("Only a super-admin can grant or take away the super-admin role")


async def keep_a_super_admin(conn: AsyncConnection, org_id: int, old_role: str, new_role: str) -> None:
    if old_role == "super-admin" and new_role != "super-admin" and await super_admins(conn, org_id) <= 1:
        raise Conflict("An organization must keep at least one super-admin", code="LastSuperAdmin")


async def upsert_member(conn: AsyncConnection, *, org_id: int, user_id: int, role: str):
    return (await conn.execute(text(
        "INSERT INTO org_members (org_id, user_id, role) VALUES (:org, :user, :role) "
        "ON CONFLICT (org_id, user_id) DO UPDATE SET role = EXCLUDED.role RETURNING role, created_at"),
        {"org": org_id, "user": user_id, "role": role})).one()


async def delete_member(conn: AsyncConnection, *, org_id: int, user_id: int) -> None:
    await conn.execute(text("DELETE FROM org_members WHERE org_id = :org AND user_id = :user"),
                       {"org": org_id, "user": user_id})


async def of_user(conn: AsyncConnection, user_id: int) -> list:
    result = await conn.execute(text(
        "SELECT o.name, o.fullname, m.role FROM org_members m JOIN accounts o ON o.id = m.org_id "
        "WHERE m.user_id = :user ORDER BY lower(o.name)"), {"user": user_id})
    return list(result)


async def member_ids(conn: AsyncConnection, org_id: int) -> list[int]:
    result = await conn.execute(text("SELECT user_id FROM org_members WHERE org_id = :org"), {"org": org_id})
    return [row.user_id for row in result]


async def check_super_admin(conn: AsyncConnection, org, principal) -> None:
    if principal.is_site_admin:
        return
    if await role_of(conn, org.id, int(principal.user_id)) != "super-admin":
        raise Forbidden("Only a super-admin can rename or delete the organization")


async def rename(conn: AsyncConnection, org_id: int, new_name: str):
    try:
        async with conn.begin_nested():
            return (await conn.execute(text(
                "UPDATE accounts SET name = :name WHERE id = :id RETURNING id, name, fullname, settings, created_at"),
                {"name": new_name, "id": org_id})).one()
    except IntegrityError:
        raise Conflict(f"The name {new_name} is already taken", code="AccountExists") from None


async def delete(conn: AsyncConnection, org_id: int) -> None:
    await conn.execute(text("DELETE FROM accounts WHERE id = :id AND kind = 'org'"), {"id": org_id})

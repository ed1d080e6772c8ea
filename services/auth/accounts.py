"""User accounts in the `accounts` table (kind 'user'); organizations share the table and its
case-insensitive name index, so a user can never take an organization's name or vice versa."""
from __future__ import annotations

import json

from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from hangar_common.errors import Conflict
from hangar_protos import auth_pb2

_USER_COLUMNS = "id, name, fullname, email, password_hash, is_site_admin, settings, created_at"


def iso(ts) -> str:
    return ts.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ts.microsecond // 1000:03d}Z" if ts else ""


def user_info(row) -> auth_pb2.UserInfo:
    return auth_pb2.UserInfo(
        id=str(row.id), username=row.name, email=row.email or "", fullname=row.fullname,
        is_site_admin=row.is_site_admin, created_at=iso(row.created_at),
        settings_json=json.dumps(row.settings or {}))


async def create_user(conn: AsyncConnection, *, username: str, email: str, password_hash: str,
                      fullname: str = "", is_site_admin: bool = False):
    """Insert a user; a taken name (of a user or an organization) or email is a Conflict."""
    try:
        async with conn.begin_nested():
            result = await conn.execute(text(
                f"INSERT INTO accounts (kind, name, fullname, email, password_hash, is_site_admin) "
                f"VALUES ('user', :name, :fullname, :email, :hash, :admin) RETURNING {_USER_COLUMNS}"),
                {"name": username, "fullname": fullname, "email": email, "hash": password_hash,
                 "admin": is_site_admin})
            return result.one()
    except IntegrityError as exc:
        what = "email" if "accounts_email_key" in str(exc.orig) else "name"
        raise Conflict(f"This {what} is already taken", code="AccountExists") from None


async def find_login(conn: AsyncConnection, login: str):
    """The user whose name or email is `login` (case-insensitive), or None."""
    result = await conn.execute(text(
        f"SELECT {_USER_COLUMNS} FROM accounts WHERE kind = 'user' "
        "AND (lower(name) = lower(:login) OR lower(email) = lower(:login)) "
        "ORDER BY lower(name) = lower(:login) DESC LIMIT 1"),
        {"login": login})
    return result.first()


async def get_user(conn: AsyncConnection, user_id: int):
    result = await conn.execute(text(
        f"SELECT {_USER_COLUMNS} FROM accounts WHERE kind = 'user' AND id = :id"), {"id": user_id})
    return result.first()


async def get_user_by_name(conn: AsyncConnection, name: str):
    result = await conn.execute(text(
        f"SELECT {_USER_COLUMNS} FROM accounts WHERE kind = 'user' AND lower(name) = lower(:name)"),
        {"name": name})
    return result.first()


async def set_password(conn: AsyncConnection, user_id: int, password_hash: str) -> None:
    await conn.execute(text("UPDATE accounts SET password_hash = :hash WHERE id = :id AND kind = 'user'"),
                       {"hash": password_hash, "id": user_id})

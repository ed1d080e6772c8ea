"""Access tokens: `hf_` + random, scoped read or write, stored only as an HMAC digest."""
from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from hangar_protos import auth_pb2

from .accounts import iso

_COLUMNS = "id, user_id, name, role, digest, created_at, last_used_at"


def token_info(row) -> auth_pb2.TokenInfo:
    return auth_pb2.TokenInfo(id=str(row.id), name=row.name, role=row.role,
                              created_at=iso(row.created_at), last_used_at=iso(row.last_used_at))


async def insert(conn: AsyncConnection, *, user_id: int, name: str, role: str, digest: bytes):
    result = await conn.execute(text(
        f"INSERT INTO access_tokens (user_id, name, role, digest) VALUES (:user_id, :name, :role, :digest) "
        f"RETURNING {_COLUMNS}"), {"user_id": user_id, "name": name, "role": role, "digest": digest})
    return result.one()


async def list_active(conn: AsyncConnection, user_id: int) -> list:
    result = await conn.execute(text(
        f"SELECT {_COLUMNS} FROM access_tokens WHERE user_id = :user_id AND revoked_at IS NULL ORDER BY id"),
        {"user_id": user_id})
    return list(result)


async def get_active(conn: AsyncConnection, token_id: int):
    result = await conn.execute(text(
        f"SELECT {_COLUMNS} FROM access_tokens WHERE id = :id AND revoked_at IS NULL"), {"id": token_id})
    return result.first()


async def revoke(conn: AsyncConnection, *, user_id: int, token_id: int):
    """Mark the user's token revoked; returns its row (for cache invalidation) or None."""
    result = await conn.execute(text(
        f"UPDATE access_tokens SET revoked_at = now() WHERE id = :id AND user_id = :user_id "
        f"AND revoked_at IS NULL RETURNING {_COLUMNS}"), {"id": token_id, "user_id": user_id})
    return result.first()


async def lookup(conn: AsyncConnection, digest: bytes):
    """The active token with this digest joined with its owner, or None."""
    result = await conn.execute(text(
        "UPDATE access_tokens t SET last_used_at = now() FROM accounts a "
        "WHERE t.digest = :digest AND t.revoked_at IS NULL AND a.id = t.user_id "
        "RETURNING t.id, t.role, a.id AS user_id, a.name AS username, a.is_site_admin"),
        {"digest": digest})
    return result.first()

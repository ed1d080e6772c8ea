"""Login sessions: the cookie holds a random secret; the table holds its HMAC digest and expiry."""
from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection


async def insert(conn: AsyncConnection, *, user_id: int, digest: bytes, max_age: int) -> None:
    await conn.execute(text(
        "INSERT INTO sessions (user_id, digest, expires_at) "
        "VALUES (:user_id, :digest, now() + make_interval(secs => :max_age))"),
        {"user_id": user_id, "digest": digest, "max_age": max_age})
    # Expired sessions of this user are of no use to anyone.
    await conn.execute(text("DELETE FROM sessions WHERE user_id = :user_id AND expires_at < now()"),
                       {"user_id": user_id})


async def delete(conn: AsyncConnection, digest: bytes) -> None:
    await conn.execute(text("DELETE FROM sessions WHERE digest = :digest"), {"digest": digest})


async def lookup(conn: AsyncConnection, digest: bytes):
    """The live session with this digest joined with its user, or None."""
    result = await conn.execute(text(
        "SELECT a.id AS user_id, a.name AS username, a.is_site_admin, "
        "extract(epoch FROM s.expires_at - now())::int AS ttl "
        "FROM sessions s JOIN accounts a ON a.id = s.user_id "
        "WHERE s.digest = :digest AND s.expires_at > now()"), {"digest": digest})
    return result.first()


async def delete_others(conn: AsyncConnection, *, user_id: int, keep: bytes | None) -> list[bytes]:
    """End every session of the user except `keep`; returns the ended sessions' digests."""
    result = await conn.execute(text(
        "DELETE FROM sessions WHERE user_id = :user_id AND digest IS DISTINCT FROM :keep RETURNING digest"),
        {"user_id": user_id, "keep": keep})
    return [bytes(row.digest) for row in result]

"""The mirror's cache tables (schema `mirror`): revalidation times of cached repos and the LFS
objects fetched from the upstream."""
from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import text


def _key(repo_type: str, repo_id: str) -> dict:
    return {"type": repo_type or "model", "repo": repo_id.lower()}


async def checked_at(engine, repo_type: str, repo_id: str) -> datetime | None:
    async with engine.connect() as conn:
        row = await conn.execute(text("SELECT checked_at FROM cached_repos WHERE type = :type AND repo_lower = :repo"),
                                 _key(repo_type, repo_id))
        return row.scalar()


async def mark_checked(engine, repo_type: str, repo_id: str) -> None:
    async with engine.begin() as conn:
        await conn.execute(text(
            "INSERT INTO cached_repos (type, repo_lower, checked_at) VALUES (:type, :repo, :now) "
            "ON CONFLICT (type, repo_lower) DO UPDATE SET checked_at = EXCLUDED.checked_at"),
            {**_key(repo_type, repo_id), "now": datetime.now(UTC)})


async def record_object(engine, oid: str, size: int, repo_type: str, repo_id: str) -> None:
    async with engine.begin() as conn:
        await conn.execute(text(
            "INSERT INTO cached_objects (oid, size, repo_type, repo_id) VALUES (:oid, :size, :type, :repo) "
            "ON CONFLICT (oid) DO UPDATE SET last_access = now()"),
            {"oid": oid, "size": size, "type": repo_type, "repo": repo_id})


async def touch_object(engine, oid: str) -> None:
    async with engine.begin() as conn:
        await conn.execute(text("UPDATE cached_objects SET last_access = now() WHERE oid = :oid"), {"oid": oid})

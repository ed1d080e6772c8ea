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


# Cached content is what the mirror fetched for upstream caches; objects an import fetched (or
# found fetched before) are an import's, never evicted, and do not count against the limit.
_CACHED_ONLY = "NOT EXISTS (SELECT 1 FROM import_objects i WHERE i.oid = c.oid)"


async def cached_bytes(engine) -> int:
    async with engine.connect() as conn:
        total = await conn.execute(text(f"SELECT coalesce(sum(size), 0) FROM cached_objects c WHERE {_CACHED_ONLY}"))
        return int(total.scalar() or 0)


async def eviction_candidates(engine, limit: int, keep: str) -> list[tuple[str, int]]:
    """Least recently used cached objects whose removal brings the cache under `limit` bytes
    (`keep`, the object just fetched, stays even when it alone is larger)."""
    async with engine.connect() as conn:
        total = int((await conn.execute(text(
            f"SELECT coalesce(sum(size), 0) FROM cached_objects c WHERE {_CACHED_ONLY}"))).scalar() or 0)
        if total <= limit:
            return []
        rows = await conn.execute(text(
            f"SELECT oid, size FROM cached_objects c WHERE {_CACHED_ONLY} AND oid <> :keep "
            "ORDER BY last_access, fetched_at LIMIT 1000"), {"keep": keep})
        picked = []
        for oid, size in rows:
            if total <= limit:
                break
            picked.append((oid, int(size)))
            total -= int(size)
        return picked


async def forget_object(engine, oid: str) -> None:
    async with engine.begin() as conn:
        await conn.execute(text("DELETE FROM cached_objects WHERE oid = :oid"), {"oid": oid})

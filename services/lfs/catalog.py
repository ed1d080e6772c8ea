"""The lfs schema's tables (migrations/versions/0001_lfs_objects.py): verified objects, grants
(who uploaded an object for which repo), upload attempts. Keyword-only functions over a connection."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from .blobstore import canonical_key


async def verified(conn: AsyncConnection, oids: list[str]) -> dict[str, int]:
    """oid -> size of the verified objects among `oids`."""
    if not oids:
        return {}
    rows = await conn.execute(text("SELECT oid, size FROM objects WHERE oid = ANY(:oids)"), {"oids": oids})
    return {oid: size for oid, size in rows}


async def locations(conn: AsyncConnection, oids: list[str]) -> dict[str, tuple[int, str]]:
    """oid -> (size, S3 key of its bytes) of the verified objects among `oids`."""
    if not oids:
        return {}
    rows = await conn.execute(text("SELECT oid, size, key FROM objects WHERE oid = ANY(:oids)"), {"oids": oids})
    return {oid: (size, key or canonical_key(oid)) for oid, size, key in rows}


async def touch_referenced(conn: AsyncConnection, oids: list[str]) -> dict[str, int]:
    """Mark objects as just referenced (a commit is about to use them) and return the verified ones.
    Waits for a collector holding the row; a row the collector deleted is simply absent."""
    if not oids:
        return {}
    # Rows are locked in oid order so two commits touching the same objects cannot deadlock.
    rows = await conn.execute(text(
        "UPDATE objects SET last_referenced_at = now() WHERE oid IN "
        "(SELECT oid FROM objects WHERE oid = ANY(:oids) ORDER BY oid FOR UPDATE) RETURNING oid, size"),
        {"oids": oids})
    return {oid: size for oid, size in rows}


async def granted(conn: AsyncConnection, *, oids: list[str], repo_id: str, user_id: str | None = None) -> set[str]:
    """Oids uploaded for `repo_id` (by `user_id`, or by anyone when it is None)."""
    if not oids or not repo_id:
        return set()
    sql = "SELECT DISTINCT oid FROM grants WHERE repo_id = :repo AND oid = ANY(:oids)"
    params = {"repo": repo_id, "oids": oids}
    if user_id is not None:
        sql += " AND user_id = :user"
        params["user"] = user_id
    return {row[0] for row in await conn.execute(text(sql), params)}


async def mirrored(conn: AsyncConnection, oids: list[str]) -> dict[str, list[str]]:
    """oid -> the repositories the mirror service fetched it for (grants without a user: AdoptObject)."""
    if not oids:
        return {}
    rows = await conn.execute(text(
        "SELECT oid, repo_id FROM grants WHERE user_id = '' AND oid = ANY(:oids) ORDER BY oid, repo_id"),
        {"oids": oids})
    found: dict[str, list[str]] = {}
    for oid, repo_id in rows:
        found.setdefault(oid, []).append(repo_id)
    return found


async def lock_oid(conn: AsyncConnection, oid: str) -> None:
    """Serialize writers of one oid's canonical key (verification vs. collection) for this transaction."""
    await conn.execute(text("SELECT pg_advisory_xact_lock(hashtext('lfs-oid:' || :oid))"), {"oid": oid})


async def grant(conn: AsyncConnection, *, oid: str, repo_id: str, user_id: str) -> None:
    """`user_id` may use the (verified) object in `repo_id`, as if they had uploaded it there."""
    await conn.execute(text(
        "INSERT INTO grants (oid, repo_id, user_id) VALUES (:oid, :repo, :user) ON CONFLICT DO NOTHING"),
        {"oid": oid, "repo": repo_id, "user": user_id})


async def revoke(conn: AsyncConnection, *, oids: list[str], repo_id: str) -> None:
    """The repository no longer has the use of these objects through uploads made for it."""
    await conn.execute(text("DELETE FROM grants WHERE repo_id = :repo AND oid = ANY(:oids)"),
                       {"repo": repo_id, "oids": oids})


async def record_verified(conn: AsyncConnection, *, oid: str, size: int, user_id: str, repo_id: str,
                          key: str | None = None, replace: bool = True) -> None:
    """The oid is verified (its bytes at `key`; None: the canonical key) and granted to the uploader
    for the repo. An existing object keeps its key unless `key` is given with `replace`: the caller,
    holding the oid's lock, found the old key's bytes gone and points the row at bytes it just
    verified."""
    await conn.execute(text(
        "INSERT INTO objects (oid, size, uploaded_by, key) VALUES (:oid, :size, :user, :key) "
        "ON CONFLICT (oid) DO UPDATE SET last_referenced_at = now(), "
        "key = CASE WHEN :replace THEN COALESCE(:key, objects.key) ELSE objects.key END"),
        {"oid": oid, "size": size, "user": user_id, "key": key, "replace": replace})
    await grant(conn, oid=oid, repo_id=repo_id, user_id=user_id)


async def create_upload(conn: AsyncConnection, *, upload_id: str, oid: str, size: int, repo_id: str,
                        user_id: str, staging_key: str, expires_at: datetime,
                        multipart_id: str | None = None, part_count: int | None = None) -> None:
    await conn.execute(text(
        "INSERT INTO uploads (id, oid, size, repo_id, user_id, staging_key, multipart_id, part_count, expires_at) "
        "VALUES (:id, :oid, :size, :repo, :user, :key, :mp, :parts, :exp)"),
        {"id": upload_id, "oid": oid, "size": size, "repo": repo_id, "user": user_id, "key": staging_key,
         "mp": multipart_id, "parts": part_count, "exp": expires_at})


async def upload_for_update(conn: AsyncConnection, upload_id: str):
    row = await conn.execute(text(
        "SELECT id::text, oid, size, repo_id, user_id, staging_key, multipart_id, part_count, state, expires_at "
        "FROM uploads WHERE id = :id FOR UPDATE"), {"id": upload_id})
    return row.mappings().first()


async def set_upload_state(conn: AsyncConnection, upload_id: str, state: str) -> None:
    await conn.execute(text("UPDATE uploads SET state = :state WHERE id = :id"), {"id": upload_id, "state": state})


async def expired_uploads(conn: AsyncConnection, before: datetime, limit: int = 500):
    """Upload attempts started before `before` (abandoned or finished), locked for removal."""
    rows = await conn.execute(text(
        "SELECT id::text, staging_key, multipart_id, state FROM uploads WHERE created_at < :before "
        "ORDER BY created_at LIMIT :limit FOR UPDATE SKIP LOCKED"), {"before": before, "limit": limit})
    return list(rows.mappings())


async def delete_upload(conn: AsyncConnection, upload_id: str) -> None:
    await conn.execute(text("DELETE FROM uploads WHERE id = :id"), {"id": upload_id})

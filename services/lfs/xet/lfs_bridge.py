"""Where Xet meets the LFS side of this service (both own schema lfs).

A Xet file becomes an LFS object once the server rebuilt its bytes and they hashed to the sha256
(materialize.py). From then on the LFS rules hold unchanged: the object is a row of `objects`
(verified bytes at lfs/<aa>/<bb>/<sha256>) and the uploader's proof of possession is a row of
`grants` (oid, repo_id, user_id) — exactly what CheckObjects consults for a commit's lfsFile
operations, and what DownloadUrl serves to git-lfs and non-Xet clients. This module is the only
place Xet code writes to those two tables (migrations/versions/0001_lfs_objects.py).

`xet_hashes_for_oids` is the lookup the resolve and tree routes need (X-Xet-Hash, xetHash).
"""
from __future__ import annotations

from sqlalchemy import text

from hangar_common import errors


async def register_lfs_object(engine, objects, *, sha256: str, size: int, repo_id: str, user_id: str) -> None:
    """Record the verified object and the uploader's grant under the oid's lock, the one garbage
    collection takes: a collection that deleted the bytes meanwhile makes this refuse (retryable)
    instead of leaving a row without bytes; afterwards the fresh last-referenced time protects it."""
    from .. import catalog
    from . import store

    async with engine.begin() as conn:
        await catalog.lock_oid(conn, sha256)
        if not await store.exists(objects, store.lfs_key(sha256)):
            raise errors.Unavailable("The object was collected while this upload was verified; retry",
                                     code="RetryUpload")
        await catalog.record_verified(conn, oid=sha256, size=size, user_id=user_id, repo_id=repo_id)


async def xet_hashes_for_oids(engine, oids: list[str]) -> dict[str, str]:
    """sha256 -> Xet file hash for the oids that have a verified Xet file (one per oid)."""
    if not oids:
        return {}
    async with engine.connect() as conn:
        rows = await conn.execute(text(
            "SELECT DISTINCT ON (sha256) sha256, file_hash FROM xet_files WHERE sha256 = ANY(:oids) "
            "ORDER BY sha256, verified_at"), {"oids": list(set(oids))})
        return {row.sha256: row.file_hash for row in rows}

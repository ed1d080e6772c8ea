"""Where Xet meets the LFS side of this service (both own schema lfs).

A Xet file becomes an LFS object once the server rebuilt its bytes and they hashed to the sha256
(materialize.py). From then on the LFS rules hold unchanged: the object is a row of `objects` and
the uploader's proof of possession is a row of `grants` (oid, repo_id, user_id) — exactly what
CheckObjects consults for a commit's lfsFile operations, and what DownloadUrl and the batch API
serve to git-lfs and non-Xet clients. The object's bytes are the xorbs': its key is the marker
`xet-file:<file hash>` (XET_KEY), which downloads turn into a URL of file_stream.py, never an S3
key. This module is the only place Xet code writes to those two tables
(migrations/versions/0001_lfs_objects.py).

`xet_hashes_for_oids` is the lookup the resolve and tree routes need (X-Xet-Hash, xetHash).
"""
from __future__ import annotations

from sqlalchemy import text

XET_KEY = "xet-file:"


def xet_key(file_hash: str) -> str:
    return XET_KEY + file_hash


def is_xet_key(key: str) -> bool:
    return key.startswith(XET_KEY)


async def xet_file_exists(conn, key: str) -> bool:
    row = await conn.execute(text("SELECT 1 FROM xet_files WHERE file_hash = :f"), {"f": key[len(XET_KEY):]})
    return row.first() is not None


async def register_lfs_object(engine, *, sha256: str, size: int, file_hash: str, repo_id: str,
                              user_id: str) -> None:
    """Record the verified object (stored as the Xet file `file_hash`, unless the oid already has an
    object, which keeps its bytes) and the uploader's grant, under the oid's lock (the one garbage
    collection takes)."""
    from .. import catalog

    async with engine.begin() as conn:
        await catalog.lock_oid(conn, sha256)
        await catalog.record_verified(conn, oid=sha256, size=size, user_id=user_id, repo_id=repo_id,
                                      key=xet_key(file_hash), replace=False)


async def xet_hashes_for_oids(engine, oids: list[str]) -> dict[str, str]:
    """sha256 -> Xet file hash for the oids that have a verified Xet file (one per oid)."""
    if not oids:
        return {}
    async with engine.connect() as conn:
        rows = await conn.execute(text(
            "SELECT DISTINCT ON (sha256) sha256, file_hash FROM xet_files WHERE sha256 = ANY(:oids) "
            "ORDER BY sha256, verified_at"), {"oids": list(set(oids))})
        return {row.sha256: row.file_hash for row in rows}

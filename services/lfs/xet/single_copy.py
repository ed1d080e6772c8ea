"""`python -m services.lfs xet-single-copy [--dry-run]`: objects stored twice — as a Xet file's
xorbs and as an LFS object in S3 (what the server rebuilt from the xorbs before, or the same bytes
uploaded over plain LFS) — keep only the xorbs: the object's key becomes the Xet file and the S3
copy is deleted (docs/storage.md). A dry run reports what would be freed and changes nothing.

Per object, under the oid's lock (the one verification and garbage collection take): the Xet file
and all its xorbs must still be registered, and the row still point at the copy, or nothing happens;
the Xet collector's lock is held shared meanwhile, so the file cannot be collected under the move.
S3 bytes are deleted only after the row moved. A presigned GET of the copy handed out before the run
stops working; run it when downloads may be retried (every client retries a failed download).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field

from sqlalchemy import text

from .. import catalog, linked
from ..blobstore import canonical_key
from . import file_stream, gc, lfs_bridge

logger = logging.getLogger("hangar.lfs.xet.single_copy")
BATCH = 500


@dataclass
class Report:
    dry_run: bool
    objects: list[str] = field(default_factory=list)
    bytes: int = 0

    def as_dict(self) -> dict:
        return {"dry_run": self.dry_run, "objects": len(self.objects), "bytes_freed": self.bytes,
                "oids": self.objects}


async def _doubles(conn, after: str) -> list[tuple[str, int, str | None, str]]:
    rows = await conn.execute(text(
        "SELECT o.oid, o.size, o.key, f.file_hash FROM objects o JOIN LATERAL (SELECT file_hash FROM xet_files "
        "WHERE sha256 = o.oid AND size = o.size ORDER BY verified_at, file_hash LIMIT 1) f ON true "
        "WHERE o.oid > :after AND (o.key IS NULL OR o.key NOT LIKE :xet) "
        "AND NOT EXISTS (SELECT 1 FROM linked_keys l WHERE l.oid = o.oid) ORDER BY o.oid LIMIT :n"),
        {"after": after, "xet": lfs_bridge.XET_KEY + "%", "n": BATCH})
    return [(r.oid, r.size, r.key, r.file_hash) for r in rows]


async def _move(ctx, oid: str, size: int, key: str | None, file_hash: str) -> bool:
    # The Xet collector may delete a file no object is stored as: not while this one is pointed at it.
    async with gc.shared_lock(ctx.engine), ctx.engine.begin() as conn:
        await catalog.lock_oid(conn, oid)
        if await file_stream.open_file(ctx.engine, oid) is None or await linked.is_linked(conn, oid):
            return False  # lakeFS commits link these bytes where they are (linked.py)
        moved = await conn.execute(text(
            "UPDATE objects SET key = :new WHERE oid = :oid AND size = :size AND key IS NOT DISTINCT FROM :old "
            "RETURNING oid"), {"new": lfs_bridge.xet_key(file_hash), "oid": oid, "size": size, "old": key})
        if moved.first() is None:
            return False
    await ctx.blobs.delete(key or canonical_key(oid))
    return True


async def run(ctx, *, dry_run: bool) -> Report:
    report = Report(dry_run=dry_run)
    after = ""
    while True:
        async with ctx.engine.connect() as conn:
            batch = await _doubles(conn, after)
        if not batch:
            break
        after = batch[-1][0]
        for oid, size, key, file_hash in batch:
            if dry_run or await _move(ctx, oid, size, key, file_hash):
                report.objects.append(oid)
                report.bytes += size
    logger.info("xet single copy", extra={"fields": {"dry_run": dry_run, "objects": len(report.objects),
                                                     "bytes": report.bytes}})
    return report

"""Garbage collection of LFS objects and of abandoned uploads (docs/data-safety.md).

An object is deleted only when (1) it was verified and last referenced longer ago than the grace
period, and (2) the metadata service's reference index says no revision of any repository (any
branch, tag or past commit) references it, asked again while the collector holds the object's row
lock and its oid lock. Racing writers:

- a commit calls CheckObjects, which bumps `last_referenced_at` under the row lock: either it runs
  first (the collector's locked re-read sees a recent reference and keeps the object) or after (the
  row is gone, the commit is refused as "missing" and the client uploads again);
- a verification takes the oid lock before recording an object (and checking that an existing
  object's bytes are there), so it never relies on bytes the collector is about to delete.

Objects are deleted at the key the catalog names (an upload's own key, or the canonical key). An
object stored as a Xet file loses only its row here; the Xet collection that follows (xet/gc.py)
deletes the Xet files no object and no revision uses any more, then their xorbs and shards.

Upload rows, their bytes (unless they became an object: state `stored`) and S3 multipart uploads
older than the staging TTL are removed, as are leftovers under the old `lfs-staging/` prefix.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import text

from . import catalog, linked
from .blobstore import STAGING_PREFIX, canonical_key
from .xet import gc as xet_gc
from .xet import lfs_bridge

logger = logging.getLogger("hangar.lfs.gc")
BATCH = 200


@dataclass
class Report:
    dry_run: bool
    collected: list[str] = field(default_factory=list)   # oids deleted (or that would be)
    bytes: int = 0
    staging_removed: int = 0
    multipart_aborted: int = 0
    xet: xet_gc.XetGcReport | None = None

    def as_dict(self) -> dict:
        return {"dry_run": self.dry_run, "objects": len(self.collected), "bytes": self.bytes,
                "oids": self.collected, "staging_removed": self.staging_removed,
                "multipart_aborted": self.multipart_aborted,
                "xet": self.xet.as_dict() if self.xet is not None else None}


async def _candidates(conn, cutoff: datetime, after: str) -> list[tuple[str, int]]:
    rows = await conn.execute(text(
        "SELECT oid, size FROM objects WHERE verified_at < :cutoff AND last_referenced_at < :cutoff "
        "AND oid > :after ORDER BY oid LIMIT :limit"), {"cutoff": cutoff, "after": after, "limit": BATCH})
    return [(oid, size) for oid, size in rows]


async def _collect_one(ctx, oid: str, cutoff: datetime) -> bool:
    """Delete one object if it is still old, unreferenced and unused; under its locks."""
    async def still_collectable(conn):
        row = (await conn.execute(text(
            "SELECT oid, key FROM objects WHERE oid = :oid AND verified_at < :cutoff "
            "AND last_referenced_at < :cutoff FOR UPDATE"), {"oid": oid, "cutoff": cutoff})).first()
        return row if row is not None and oid in await ctx.peers.unreferenced([oid]) else None
    return await _delete_locked(ctx, oid, still_collectable)


async def evict_cached(ctx, oid: str) -> bool:
    """The mirror's eviction of an object it cached: deleted only when no repository other than an
    upstream cache references it and no user uploaded it (grants of the mirror have no user)."""
    async def evictable(conn):
        row = (await conn.execute(text("SELECT oid, key FROM objects WHERE oid = :oid FOR UPDATE"),
                                  {"oid": oid})).first()
        if row is None:
            return None
        uploaded = (await conn.execute(text(
            "SELECT 1 FROM grants WHERE oid = :oid AND user_id <> '' LIMIT 1"), {"oid": oid})).first()
        return row if uploaded is None and not (await ctx.peers.holders([oid])).get(oid) else None
    return await _delete_locked(ctx, oid, evictable)


async def _delete_locked(ctx, oid: str, deletable) -> bool:
    """Delete the object (row, grants, bytes) if `deletable(conn)` returns its locked row (else
    None), inside the transaction that holds the row lock, all under the oid's lock."""
    key = {"k": f"lfs-oid:{oid}"}
    async with ctx.engine.connect() as conn:
        await conn.execute(text("SELECT pg_advisory_lock(hashtext(:k))"), key)
        await conn.commit()
        try:
            async with conn.begin():
                row = await deletable(conn)
                if row is None:
                    return False
                await conn.execute(text("DELETE FROM objects WHERE oid = :oid"), {"oid": oid})
                keys = set(await linked.forget(conn, oid))
            # After the commit nobody can use the row; the oid lock keeps verifications from
            # relying on these bytes until they are gone.
            if not lfs_bridge.is_xet_key(row.key or ""):   # Xet files' xorbs are the Xet collector's
                keys.add(row.key or canonical_key(oid))
            for stored in sorted(keys):
                await ctx.blobs.delete(stored)
            return True
        finally:
            await conn.execute(text("SELECT pg_advisory_unlock(hashtext(:k))"), key)
            await conn.commit()


async def collect_objects(ctx, *, grace: int, dry_run: bool, report: Report) -> None:
    cutoff = datetime.now(UTC) - timedelta(seconds=grace)
    after = ""
    while True:
        async with ctx.engine.connect() as conn:
            batch = await _candidates(conn, cutoff, after)
        if not batch:
            return
        after = batch[-1][0]
        unreferenced = await ctx.peers.unreferenced([oid for oid, _ in batch])
        for oid, size in batch:
            if oid not in unreferenced:
                continue
            if dry_run or await _collect_one(ctx, oid, cutoff):
                report.collected.append(oid)
                report.bytes += size


async def sweep_uploads(ctx, *, staging_ttl: int, dry_run: bool, report: Report) -> None:
    """Abandoned uploads: rows past their deadline, staging objects and multipart uploads older than the TTL."""
    now = datetime.now(UTC)
    while not dry_run:
        async with ctx.engine.begin() as conn:
            rows = await catalog.expired_uploads(conn, now - timedelta(seconds=staging_ttl))
            for row in rows:
                if row["multipart_id"] and row["state"] == "pending":
                    await ctx.blobs.abort_multipart(row["staging_key"], row["multipart_id"])
                    report.multipart_aborted += 1
                if row["state"] != "stored":  # a stored upload's key holds an object's bytes
                    await ctx.blobs.delete(row["staging_key"])
                await catalog.delete_upload(conn, row["id"])
        if not rows:
            break
    cutoff = now - timedelta(seconds=staging_ttl)
    for key in await ctx.blobs.list_staging(cutoff):
        if not dry_run:
            await ctx.blobs.delete(key)
        report.staging_removed += 1
    report.multipart_aborted += await _abort_stale_multipart(ctx, cutoff, dry_run)


async def _abort_stale_multipart(ctx, cutoff: datetime, dry_run: bool) -> int:
    """Multipart uploads older than the TTL that no row tracks any more (e.g. after a crash)."""
    import asyncio

    def listing():
        stale = []
        # Old staging uploads, uploads and mirror copies a crash left incomplete (all under lfs/).
        for prefix in (STAGING_PREFIX, "lfs/"):
            result = ctx.blobs.client._list_multipart_uploads(ctx.blobs.bucket, prefix=prefix, max_uploads=1000)
            stale += [(u.object_name, u.upload_id) for u in result.uploads
                      if u.initiated_time is not None and u.initiated_time < cutoff]
        return stale
    try:
        stale = await asyncio.to_thread(listing)
    except Exception:  # not every S3 implementation lists multipart uploads
        logger.info("multipart listing unavailable", exc_info=True)
        return 0
    for key, upload_id in stale:
        if not dry_run:
            await ctx.blobs.abort_multipart(key, upload_id)
    return len(stale)


async def run(ctx, *, grace: int, staging_ttl: int, dry_run: bool) -> Report:
    report = Report(dry_run=dry_run)
    await collect_objects(ctx, grace=grace, dry_run=dry_run, report=report)
    # After the objects: a Xet file is collectable once no object is stored as it.
    report.xet = await xet_gc.collect(ctx.engine, ctx.blobs.store, ctx.peers.metadata, grace=grace,
                                      dry_run=dry_run, gone_oids=frozenset(report.collected if dry_run else ()))
    await sweep_uploads(ctx, staging_ttl=staging_ttl, dry_run=dry_run, report=report)
    fields = {k: v for k, v in report.as_dict().items() if k not in ("oids", "xet")}
    logger.info("gc finished", extra={"fields": {**fields, **report.xet.counts()}})
    return report


async def run_exclusive(ctx, **kwargs) -> Report | None:
    """One collector at a time across replicas (a scheduled run skips when another is running)."""
    async with ctx.engine.connect() as conn:
        got = (await conn.execute(text("SELECT pg_try_advisory_lock(hashtext('lfs-gc'))"))).scalar()
        await conn.commit()
        if not got:
            return None
        try:
            return await run(ctx, **kwargs)
        finally:
            await conn.execute(text("SELECT pg_advisory_unlock(hashtext('lfs-gc'))"))
            await conn.commit()

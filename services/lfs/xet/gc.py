"""Garbage collection of Xet storage (docs/data-safety.md): delete only what nothing references and what
is older than the grace period; a dry run reports without deleting.

- A Xet file is dead when no revision of any repository references its sha256 (metadata
  UnreferencedOids) and it was verified before the cutoff. Its LFS object is the LFS collector's.
- A xorb is dead when no live Xet file has a segment in it and it was uploaded before the cutoff
  (xorbs of an upload whose shard has not arrived yet are young, so they stay).

Shard uploads hold the `xet-gc` advisory lock shared for their whole run (validation, the read
pass, registration); a collection holds it exclusively, so a xorb a shard is being checked
against is never deleted under it, and a file registered meanwhile is never missed.
"""
from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import orjson
from sqlalchemy import text

from hangar_common.grpcio import call
from hangar_protos import metadata_pb2

from . import store

LOCK_KEY = "xet-gc"
BATCH = 1000


@dataclass
class XetGcReport:
    dry_run: bool
    files: list[str] = field(default_factory=list)
    xorbs: list[str] = field(default_factory=list)
    xorb_bytes: int = 0
    keys: list[str] = field(default_factory=list, repr=False)   # S3 objects of the dead xorbs


@contextlib.asynccontextmanager
async def shared_lock(engine):
    """Held by shard uploads: collections wait until no shard is being processed."""
    async with engine.connect() as conn:
        await conn.execute(text("SELECT pg_advisory_lock_shared(hashtext(:k))"), {"k": LOCK_KEY})
        await conn.commit()
        try:
            yield
        finally:
            await conn.execute(text("SELECT pg_advisory_unlock_shared(hashtext(:k))"), {"k": LOCK_KEY})
            await conn.commit()


async def _unreferenced(metadata, oids: list[str]) -> set[str]:
    dead: set[str] = set()
    for i in range(0, len(oids), BATCH):
        answer = await call(metadata.UnreferencedOids, metadata_pb2.OidsRequest(oids=oids[i:i + BATCH]))
        dead |= set(answer.oids)
    return dead


async def collect(engine, object_store, metadata, *, grace: int, dry_run: bool) -> XetGcReport:
    """One collection; `metadata` is a Metadata stub (UnreferencedOids)."""
    report = XetGcReport(dry_run=dry_run)
    cutoff = datetime.now(UTC) - timedelta(seconds=grace)
    async with engine.connect() as conn:
        await conn.execute(text("SELECT pg_advisory_lock(hashtext(:k))"), {"k": LOCK_KEY})
        await conn.commit()
        try:
            await _collect(conn, object_store, metadata, cutoff, report)
            if not dry_run:
                await conn.commit()
            else:
                await conn.rollback()
        finally:
            await conn.execute(text("SELECT pg_advisory_unlock(hashtext(:k))"), {"k": LOCK_KEY})
            await conn.commit()
    if not dry_run:
        for key in report.keys:
            await store.delete(object_store, key)
    return report


async def _collect(conn, object_store, metadata, cutoff, report: XetGcReport) -> None:
    old = (await conn.execute(text("SELECT file_hash, sha256 FROM xet_files WHERE verified_at < :c"),
                              {"c": cutoff})).all()
    dead_oids = await _unreferenced(metadata, sorted({r.sha256 for r in old}))
    report.files = sorted(r.file_hash for r in old if r.sha256 in dead_oids)
    live = set()
    for row in await conn.execute(text("SELECT segments FROM xet_files WHERE NOT (file_hash = ANY(:dead))"),
                                  {"dead": report.files}):
        segments = row.segments if isinstance(row.segments, list) else orjson.loads(row.segments)
        live |= {s[0] for s in segments}
    candidates = (await conn.execute(text(
        "SELECT hash, s3_key, stored_bytes FROM xet_xorbs WHERE created_at < :c"), {"c": cutoff})).all()
    dead_xorbs = [r for r in candidates if r.hash not in live]
    report.xorbs = sorted(r.hash for r in dead_xorbs)
    report.xorb_bytes = sum(r.stored_bytes for r in dead_xorbs)
    report.keys = [r.s3_key for r in dead_xorbs]
    # Rows go first (in this transaction); S3 objects only after it committed.
    await conn.execute(text("DELETE FROM xet_files WHERE file_hash = ANY(:f)"), {"f": report.files})
    await conn.execute(text("DELETE FROM xet_xorbs WHERE hash = ANY(:x)"), {"x": report.xorbs})

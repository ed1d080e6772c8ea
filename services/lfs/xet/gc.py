"""Garbage collection of Xet storage (docs/data-safety.md): delete only what nothing references and what
is older than the grace period; a dry run reports without deleting. It runs after the LFS collection
(services/lfs/gc.py: `run`), in the `gc` command and the in-service schedule.

- A Xet file is dead when it was verified before the cutoff, no LFS object is stored as it (an
  `objects` row with its `xet-file:` key: the LFS collector removes such a row only under the oid's
  and the row's locks, after which no commit can use the oid) and no revision of any repository
  references its sha256 (metadata UnreferencedOids).
- A xorb is dead when no live Xet file has a segment in it and it was uploaded before the cutoff
  (xorbs of an upload whose shard has not arrived yet are young, so they stay).
- A shard is dead when it was uploaded before the cutoff and none of the xorbs it listed nor the
  files it named is left (their rows cascade away with the dead xorbs and files). Shards uploaded
  before their files were indexed (migration x0003) are read once from S3 to index them first.

Shard uploads hold the `xet-gc` advisory lock shared for their whole run (validation, the read
pass, registration); a collection holds it exclusively, so a xorb a shard is being checked
against is never deleted under it, and a file registered meanwhile is never missed.
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import orjson
from minio.error import S3Error
from sqlalchemy import text

from hangar_common.grpcio import call
from hangar_protos import metadata_pb2

from . import lfs_bridge, store
from .hashing import hash_hex
from .shard import ShardError, parse_shard

logger = logging.getLogger("hangar.lfs.xet.gc")
LOCK_KEY = "xet-gc"
BATCH = 1000


@dataclass
class XetGcReport:
    dry_run: bool
    files: list[str] = field(default_factory=list)
    xorbs: list[str] = field(default_factory=list)
    xorb_bytes: int = 0
    shards: list[str] = field(default_factory=list)
    shard_bytes: int = 0
    shards_indexed: int = 0                                       # older shards whose files were indexed
    keys: list[str] = field(default_factory=list, repr=False)   # S3 objects of the dead xorbs and shards

    def as_dict(self) -> dict:
        return {"files": self.files, "xorbs": self.xorbs, "xorb_bytes": self.xorb_bytes,
                "shards": self.shards, "shard_bytes": self.shard_bytes, "shards_indexed": self.shards_indexed}

    def counts(self) -> dict:
        return {"xet_files": len(self.files), "xet_xorbs": len(self.xorbs), "xet_xorb_bytes": self.xorb_bytes,
                "xet_shards": len(self.shards), "xet_shard_bytes": self.shard_bytes}


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


async def index_older_shards(engine, object_store) -> int:
    """Shards recorded before their files were indexed: read each from S3 once and record the
    registered files it names (a fact about the past upload, so a dry run records it too). A shard
    that cannot be read stays unindexed, and so is never collected."""
    async with engine.connect() as conn:
        keys = [r.key for r in await conn.execute(text("SELECT key FROM xet_shards WHERE NOT files_indexed"))]
    done = 0
    for key in keys:
        try:
            body = await store.read_all(object_store, key)
            files = [hash_hex(f.file_hash) for f in (await asyncio.to_thread(parse_shard, body)).files]
        except (ShardError, OSError, S3Error):
            logger.warning("shard not indexed", extra={"fields": {"key": key}}, exc_info=True)
            continue
        async with engine.begin() as conn:
            await store.index_shard_files(conn, key, files)
            await conn.execute(text("UPDATE xet_shards SET files_indexed = true WHERE key = :k"), {"k": key})
        done += 1
    return done


async def collect(engine, object_store, metadata, *, grace: int, dry_run: bool,
                  gone_oids: frozenset[str] = frozenset()) -> XetGcReport:
    """One collection; `metadata` is a Metadata stub (UnreferencedOids). `gone_oids`: LFS objects
    the LFS collector's dry run would delete (their rows count as gone)."""
    report = XetGcReport(dry_run=dry_run)
    report.shards_indexed = await index_older_shards(engine, object_store)
    cutoff = datetime.now(UTC) - timedelta(seconds=grace)
    async with engine.connect() as conn:
        await conn.execute(text("SELECT pg_advisory_lock(hashtext(:k))"), {"k": LOCK_KEY})
        await conn.commit()
        try:
            await _collect(conn, metadata, cutoff, report, gone_oids)
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


async def _collect(conn, metadata, cutoff, report: XetGcReport, gone_oids: frozenset[str]) -> None:
    # Old files that no LFS object is stored as (rows the LFS collector's dry run would delete aside).
    old = (await conn.execute(text(
        "SELECT f.file_hash, f.sha256, o.oid AS object FROM xet_files f LEFT JOIN objects o "
        "ON o.key = :prefix || f.file_hash WHERE f.verified_at < :c"),
        {"c": cutoff, "prefix": lfs_bridge.XET_KEY})).all()
    unstored = [r for r in old if r.object is None or r.object in gone_oids]
    dead_oids = await _unreferenced(metadata, sorted({r.sha256 for r in unstored}))
    report.files = sorted(r.file_hash for r in unstored if r.sha256 in dead_oids)
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
    dead_shards = (await conn.execute(text(
        "SELECT s.key, s.size FROM xet_shards s WHERE s.created_at < :c AND s.files_indexed "
        "AND NOT EXISTS (SELECT 1 FROM xet_shard_xorbs x WHERE x.shard_key = s.key "
        "                AND NOT (x.xorb_hash = ANY(:dx))) "
        "AND NOT EXISTS (SELECT 1 FROM xet_shard_files f WHERE f.shard_key = s.key "
        "                AND NOT (f.file_hash = ANY(:df)))"),
        {"c": cutoff, "dx": report.xorbs, "df": report.files})).all()
    report.shards = sorted(r.key for r in dead_shards)
    report.shard_bytes = sum(r.size for r in dead_shards)
    report.keys = [r.s3_key for r in dead_xorbs] + report.shards
    # Rows go first (in this transaction; the shards' xorb and file rows cascade, or go with them);
    # S3 objects only after it committed.
    await conn.execute(text("DELETE FROM xet_files WHERE file_hash = ANY(:f)"), {"f": report.files})
    await conn.execute(text("DELETE FROM xet_xorbs WHERE hash = ANY(:x)"), {"x": report.xorbs})
    await conn.execute(text("DELETE FROM xet_shard_files WHERE shard_key = ANY(:s)"), {"s": report.shards})
    await conn.execute(text("DELETE FROM xet_shard_xorbs WHERE shard_key = ANY(:s)"), {"s": report.shards})
    await conn.execute(text("UPDATE xet_dedup_chunks SET shard_key = NULL WHERE shard_key = ANY(:s)"),
                       {"s": report.shards})
    await conn.execute(text("DELETE FROM xet_shards WHERE key = ANY(:s)"), {"s": report.shards})

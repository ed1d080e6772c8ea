"""Storage accounting per namespace (user or organization) and the optional quota.

Bytes are dedup-aware: the metadata service's reference index counts each oid once per namespace
(NamespaceUsage; for a commit, metadata sends the figure with CheckObjects). A commit's new bytes
are those of its oids that no repository of the namespace
references yet; the quota (HANGAR_LFS_QUOTA_BYTES) refuses a commit that would cross it, never one
that only reuses or removes objects. The usage also reports what those objects occupy in S3
(`stored`): for Xet-uploaded files, the xorbs and shards rather than the files' sizes.
"""
from __future__ import annotations

from sqlalchemy import text

from hangar_common import errors
from hangar_protos import lfs_pb2

from .xet import lfs_bridge
from .xet import store as xet_store


async def usage(ctx, namespace: str) -> lfs_pb2.UsageResponse:
    used = await ctx.peers.namespace_usage(namespace)
    plain, xorbs, shards = await stored(ctx, namespace)
    return lfs_pb2.UsageResponse(namespace=namespace, public_bytes=used.public_bytes,
                                 private_bytes=used.private_bytes, quota_bytes=ctx.config.quota_bytes,
                                 stored_bytes=plain + xorbs + shards, lfs_object_bytes=plain,
                                 xorb_bytes=xorbs, shard_bytes=shards)


async def stored(ctx, namespace: str) -> tuple[int, int, int]:
    """(LFS object bytes, xorb bytes, shard bytes) the namespace's referenced objects occupy in S3:
    a plain object at its size; an object stored as a Xet file (docs/storage.md) as the xorbs its
    file uses and the shards that named the file, each xorb and shard counted once however many of
    the namespace's files share it."""
    plain = 0
    files: set[str] = set()
    async for oids in ctx.peers.namespace_oids(namespace):
        async with ctx.engine.connect() as conn:
            rows = await conn.execute(text("SELECT size, key FROM objects WHERE oid = ANY(:oids)"), {"oids": oids})
            for row in rows:
                if lfs_bridge.is_xet_key(row.key or ""):
                    files.add(row.key[len(lfs_bridge.XET_KEY):])
                else:
                    plain += row.size
    xorbs, shards = await xet_store.footprint(ctx.engine, sorted(files))
    return plain, xorbs, shards


def quota_exceeded(ctx, namespace: str, objects: dict[str, int], *, holders: dict, namespace_bytes: int | None) -> str:
    """A message when adding `objects` (oid -> size) would take `namespace` over its quota, else "".
    `holders` (oid -> referencing repositories) and `namespace_bytes` (what the namespace's
    repositories reference now; None when no oid is new to it) are metadata's facts, sent with the
    commit's CheckObjects."""
    quota = ctx.config.quota_bytes
    if not quota or not objects:
        return ""
    ns = namespace.lower()
    new = sum(size for oid, size in objects.items()
              if not any(r.repo.namespace.lower() == ns for r in holders.get(oid, [])))
    if not new:
        return ""
    if namespace_bytes is None:   # metadata sends it whenever an oid is new to the namespace
        raise errors.BadRequest("CheckObjects: objects new to the namespace need its referenced bytes "
                                "(namespace_bytes)", code="InvalidRequest")
    if namespace_bytes + new <= quota:
        return ""
    return (f"Storage quota exceeded for {namespace}: {namespace_bytes} bytes used, {new} new, "
            f"quota {quota} bytes")

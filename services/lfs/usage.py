"""Storage accounting per namespace (user or organization) and the optional quota.

Bytes are dedup-aware: the metadata service's reference index counts each oid once per namespace
(NamespaceUsage). A commit's new bytes are those of its oids that no repository of the namespace
references yet; the quota (HANGAR_LFS_QUOTA_BYTES) refuses a commit that would cross it, never one
that only reuses or removes objects.
"""
from __future__ import annotations

from hangar_protos import lfs_pb2


async def usage(ctx, namespace: str) -> lfs_pb2.UsageResponse:
    used = await ctx.peers.namespace_usage(namespace)
    return lfs_pb2.UsageResponse(namespace=namespace, public_bytes=used.public_bytes,
                                 private_bytes=used.private_bytes, quota_bytes=ctx.config.quota_bytes)


async def quota_exceeded(ctx, namespace: str, objects: dict[str, int]) -> str:
    """A message when adding `objects` (oid -> size) would take `namespace` over its quota, else ""."""
    quota = ctx.config.quota_bytes
    if not quota or not objects:
        return ""
    holders = await ctx.peers.holders(list(objects))
    ns = namespace.lower()
    new = sum(size for oid, size in objects.items()
              if not any(r.repo.namespace.lower() == ns for r in holders.get(oid, [])))
    if not new:
        return ""
    used = await ctx.peers.namespace_usage(namespace)
    total = used.public_bytes + used.private_bytes
    if total + new <= quota:
        return ""
    return (f"Storage quota exceeded for {namespace}: {total} bytes used, {new} new, "
            f"quota {quota} bytes")

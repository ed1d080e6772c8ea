"""Storage accounting per namespace (user or organization) and the optional quota.

Bytes are dedup-aware: the metadata service's reference index counts each oid once per namespace
(NamespaceUsage; for a commit, metadata sends the figure with CheckObjects). A commit's new bytes
are those of its oids that no repository of the namespace
references yet; the quota (HANGAR_LFS_QUOTA_BYTES) refuses a commit that would cross it, never one
that only reuses or removes objects.
"""
from __future__ import annotations

from hangar_common import errors
from hangar_protos import lfs_pb2


async def usage(ctx, namespace: str) -> lfs_pb2.UsageResponse:
    used = await ctx.peers.namespace_usage(namespace)
    return lfs_pb2.UsageResponse(namespace=namespace, public_bytes=used.public_bytes,
                                 private_bytes=used.private_bytes, quota_bytes=ctx.config.quota_bytes)


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

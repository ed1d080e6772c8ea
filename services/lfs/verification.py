"""The one server-side pass over an upload (DESIGN.md §4): stream the staged bytes once, check they
hash to the oid and match the size, then copy them to the oid's canonical key and record the object
as verified and granted to the uploader for that repo. Refused bytes are deleted; nothing unverified
is ever reachable under an oid."""
from __future__ import annotations

import logging

from . import catalog
from .blobstore import canonical_key
from .lfs_errors import LfsError

logger = logging.getLogger("hangar.lfs.verify")


async def _check_staged(ctx, row) -> LfsError | None:
    size = await ctx.blobs.size_of(row["staging_key"])
    if size is None:
        return LfsError(422, "The object was not uploaded (nothing at the upload URL)", code="UploadMissing")
    if size != row["size"]:
        return LfsError(422, f"Uploaded {size} bytes, announced {row['size']}", code="SizeMismatch")
    digest = await ctx.blobs.sha256_of(row["staging_key"])
    if digest != row["oid"]:
        return LfsError(422, f"Uploaded bytes hash to {digest}, not {row['oid']}", code="HashMismatch")
    return None


async def _promote(ctx, conn, row) -> None:
    oid, size = row["oid"], row["size"]
    await catalog.lock_oid(conn, oid)  # a collector deleting this oid waits, or finished before
    known = await catalog.verified(conn, [oid])
    if oid not in known or await ctx.blobs.size_of(canonical_key(oid)) != size:
        await ctx.blobs.promote(row["staging_key"], oid, size)
    await catalog.record_verified(conn, oid=oid, size=size, user_id=row["user_id"], repo_id=row["repo_id"])
    await catalog.set_upload_state(conn, row["id"], "verified")


async def verify_upload(ctx, upload_id: str, *, oid: str | None = None) -> None:
    """Verify one upload attempt; idempotent once verified. Raises LfsError when refused."""
    async with ctx.engine.begin() as conn:
        row = await catalog.upload_for_update(conn, upload_id)
        if row is None or (oid is not None and oid != row["oid"]):
            raise LfsError(404, "Unknown upload", code="UploadNotFound")
        if row["state"] == "verified":
            return
        if row["state"] == "rejected":
            raise LfsError(422, "This upload was refused; ask the batch API for a new one", code="UploadRejected")
        failure = await _check_staged(ctx, row)
        if failure is None:
            await _promote(ctx, conn, row)
        elif failure.code != "UploadMissing":
            await catalog.set_upload_state(conn, row["id"], "rejected")
    if failure is not None and failure.code == "UploadMissing":
        raise failure
    await _discard(ctx, row["staging_key"])
    if failure is not None:
        logger.warning("upload refused", extra={"fields": {"oid": row["oid"], "code": failure.code}})
        raise failure


async def _discard(ctx, key: str) -> None:
    try:
        await ctx.blobs.delete(key)
    except Exception:  # the staging sweeper removes it after its TTL
        logger.warning("staging object not deleted", extra={"fields": {"key": key}}, exc_info=True)

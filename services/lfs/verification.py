"""The one server-side pass over an upload (docs/data-safety.md, docs/storage.md): complete the upload,
stream its bytes once, check they hash to the oid and match the size, and record the object as
verified — where its bytes lie, without copying them — and granted to the uploader for that repo.
Refused bytes are deleted; nothing unverified is ever reachable under an oid.

Why the bytes need no copy: every upload attempt is an S3 multipart upload of a key of its own
(`blobstore.upload_key`; basic: one part, whose presigned URL is the `upload` href), and the client is
only ever given part URLs of that multipart upload (and our own complete/verify URLs). The server
completes it before reading, and once completed every part URL is dead (NoSuchUpload): nobody holds a
URL that can write the key, so the bytes hashed are the bytes served, for good. An oid that is already
verified keeps its object (the new upload's bytes are deleted); nothing overwrites an existing object.
"""
from __future__ import annotations

import logging

from minio.error import S3Error

from hangar_common import errors

from . import catalog
from .xet import lfs_bridge

logger = logging.getLogger("hangar.lfs.verify")


def _missing(detail: str = "nothing at the upload URL") -> errors.HangarError:
    return errors.UnprocessableEntity(f"The object was not uploaded ({detail})", code="UploadMissing")


async def _seal(ctx, row, parts: list[tuple[int, str]] | None) -> None:
    """Complete the upload's multipart upload with the client's parts (multipart transfer) or, for a
    basic transfer, with the one part S3 lists. Already completed: nothing to do. After this the
    client's part URLs can write nothing."""
    if await ctx.blobs.size_of(row["staging_key"]) is not None:
        return
    if parts is None:
        if row["part_count"] != 1:
            raise _missing("complete the multipart upload first")
        parts = await ctx.blobs.list_parts(row["staging_key"], row["multipart_id"])
        if [number for number, _ in parts] != [1]:
            raise _missing()
    try:
        await ctx.blobs.complete_multipart(row["staging_key"], row["multipart_id"], parts)
    except S3Error as exc:
        if exc.code == "NoSuchUpload" and await ctx.blobs.size_of(row["staging_key"]) is not None:
            return  # completed by a concurrent retry
        raise errors.UnprocessableEntity(f"Storage refused to complete the upload: {exc.code}",
                                         code="InvalidParts") from None


async def check_staged(ctx, row) -> errors.HangarError | None:
    """The verification read of sealed bytes at `row["staging_key"]`: None when they are `row["size"]`
    bytes hashing to `row["oid"]`, else the refusal."""
    size = await ctx.blobs.size_of(row["staging_key"])
    if size is None:
        return _missing()
    if size != row["size"]:
        return errors.UnprocessableEntity(f"Uploaded {size} bytes, announced {row['size']}", code="SizeMismatch")
    digest = await ctx.blobs.sha256_of(row["staging_key"], size)
    if digest != row["oid"]:
        return errors.UnprocessableEntity(f"Uploaded bytes hash to {digest}, not {row['oid']}",
                                          code="HashMismatch")
    return None


async def has_bytes(ctx, conn, key: str, size: int) -> bool:
    """Whether an object's key still holds its bytes: an S3 object of that size, or a Xet file that
    is still registered (its xorbs go only with it)."""
    if lfs_bridge.is_xet_key(key):
        return await lfs_bridge.xet_file_exists(conn, key)
    return await ctx.blobs.size_of(key) == size


async def _record(ctx, conn, row) -> bool:
    """Record the verified upload; True when its key became the object's (the oid had no object, or
    one whose bytes are gone), False when an existing object keeps its own bytes."""
    oid, size = row["oid"], row["size"]
    await catalog.lock_oid(conn, oid)  # a collector deleting this oid waits, or finished before
    existing = (await catalog.locations(conn, [oid])).get(oid)
    adopt = existing is None or not await has_bytes(ctx, conn, existing[1], size)
    await catalog.record_verified(conn, oid=oid, size=size, user_id=row["user_id"], repo_id=row["repo_id"],
                                  key=row["staging_key"] if adopt else None)
    await catalog.set_upload_state(conn, row["id"], "stored" if adopt else "verified")
    return adopt


async def verify_upload(ctx, upload_id: str, *, oid: str | None = None,
                        parts: list[tuple[int, str]] | None = None) -> None:
    """Seal and verify one upload attempt; idempotent once verified. Raises HangarError when refused."""
    stored = False
    async with ctx.engine.begin() as conn:
        row = await catalog.upload_for_update(conn, upload_id)
        if row is None or (oid is not None and oid != row["oid"]):
            raise errors.NotFound("Unknown upload", code="UploadNotFound")
        if row["state"] in ("verified", "stored"):
            return
        if row["state"] == "rejected":
            raise errors.UnprocessableEntity("This upload was refused; ask the batch API for a new one",
                                            code="UploadRejected")
        await _seal(ctx, row, parts)
        failure = await check_staged(ctx, row)
        if failure is None:
            stored = await _record(ctx, conn, row)
        else:
            await catalog.set_upload_state(conn, row["id"], "rejected")
    if not stored:
        await discard(ctx, row["staging_key"])
    if failure is not None:
        logger.warning("upload refused", extra={"fields": {"oid": row["oid"], "code": failure.code}})
        raise failure


async def discard(ctx, key: str) -> None:
    try:
        await ctx.blobs.delete(key)
    except Exception:  # the upload sweeper removes it after its TTL
        logger.warning("staging object not deleted", extra={"fields": {"key": key}}, exc_info=True)

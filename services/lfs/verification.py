"""The one server-side pass over an upload (docs/data-safety.md): stream the staged bytes once, check they
hash to the oid and match the size, then copy them to the oid's canonical key and record the object
as verified and granted to the uploader for that repo. Refused bytes are deleted; nothing unverified
is ever reachable under an oid.

Every upload attempt is an S3 multipart upload of its staging key (basic: one part, whose presigned
URL is the `upload` href). The server completes it before reading, and once completed the client's
URLs are dead (NoSuchUpload): the bytes hashed are exactly the bytes copied, with no window in
which the client could replace them between the verification read and the copy.
"""
from __future__ import annotations

import asyncio
import logging
from typing import Any

from minio.error import S3Error

from hangar_common import errors

from . import catalog
from .blobstore import COPY_RANGE, canonical_key

logger = logging.getLogger("hangar.lfs.verify")


def _missing(detail: str = "nothing at the upload URL") -> errors.HangarError:
    return errors.UnprocessableEntity(f"The object was not uploaded ({detail})", code="UploadMissing")


async def _seal(ctx, row, parts: list[tuple[int, str]] | None) -> None:
    """Complete the staging multipart upload with the client's parts (multipart transfer) or, for a
    basic transfer, with the one part S3 lists. Already completed: nothing to do."""
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


async def _check_staged(ctx, row) -> tuple[errors.HangarError | None, Any]:
    """(failure, pending copy). Above one copy range the canonical copy's parts are written while the
    bytes are hashed (both read the sealed staging object); the copy stays invisible until
    `_promote` completes it, which happens only once the hash matched."""
    size = await ctx.blobs.size_of(row["staging_key"])
    if size is None:
        return _missing(), None
    if size != row["size"]:
        return errors.UnprocessableEntity(f"Uploaded {size} bytes, announced {row['size']}", code="SizeMismatch"), None
    copy_task = None
    if size > COPY_RANGE:
        copy_task = asyncio.create_task(ctx.blobs.stage_copy(row["staging_key"], row["oid"], size))
    try:
        digest = await ctx.blobs.sha256_of(row["staging_key"])
    except BaseException:
        if copy_task is not None:
            copy = (await asyncio.gather(copy_task, return_exceptions=True))[0]
            if not isinstance(copy, BaseException):
                await copy.abort()
        raise
    copy = await copy_task if copy_task is not None else None
    if digest != row["oid"]:
        if copy is not None:
            await copy.abort()
        return errors.UnprocessableEntity(f"Uploaded bytes hash to {digest}, not {row['oid']}",
                                          code="HashMismatch"), None
    return None, copy


async def _promote(ctx, conn, row, copy) -> None:
    oid, size = row["oid"], row["size"]
    await catalog.lock_oid(conn, oid)  # a collector deleting this oid waits, or finished before
    known = await catalog.verified(conn, [oid])
    if oid not in known or await ctx.blobs.size_of(canonical_key(oid)) != size:
        if copy is not None:
            await copy.commit()
        else:
            await ctx.blobs.promote(row["staging_key"], oid, size)
    elif copy is not None:
        await copy.abort()
    await catalog.record_verified(conn, oid=oid, size=size, user_id=row["user_id"], repo_id=row["repo_id"])
    await catalog.set_upload_state(conn, row["id"], "verified")


async def verify_upload(ctx, upload_id: str, *, oid: str | None = None,
                        parts: list[tuple[int, str]] | None = None) -> None:
    """Seal and verify one upload attempt; idempotent once verified. Raises a HangarError when refused."""
    async with ctx.engine.begin() as conn:
        row = await catalog.upload_for_update(conn, upload_id)
        if row is None or (oid is not None and oid != row["oid"]):
            raise errors.NotFound("Unknown upload", code="UploadNotFound")
        if row["state"] == "verified":
            return
        if row["state"] == "rejected":
            raise errors.UnprocessableEntity("This upload was refused; ask the batch API for a new one",
                                             code="UploadRejected")
        await _seal(ctx, row, parts)
        failure, copy = await _check_staged(ctx, row)
        if failure is None:
            try:
                await _promote(ctx, conn, row, copy)
            except BaseException:
                if copy is not None:
                    await copy.abort()
                raise
        else:
            await catalog.set_upload_state(conn, row["id"], "rejected")
    await _discard(ctx, row["staging_key"])
    if failure is not None:
        logger.warning("upload refused", extra={"fields": {"oid": row["oid"], "code": failure.code}})
        raise failure


async def _discard(ctx, key: str) -> None:
    try:
        await ctx.blobs.delete(key)
    except Exception:  # the staging sweeper removes it after its TTL
        logger.warning("staging object not deleted", extra={"fields": {"key": key}}, exc_info=True)

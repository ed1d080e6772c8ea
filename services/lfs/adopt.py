"""Objects the mirror service fetched from the upstream Hub (issue 18): its staged bytes go through
the same verification read as an upload (verification.py), so lfs alone decides what becomes the
object of an oid. The mirror stages under its own prefix, never at lfs's keys, and removes what it
staged, so the verified bytes are copied to the oid's canonical key (above one copy range, the copy's
parts are written while the bytes are hashed and completed only once the hash matched)."""
from __future__ import annotations

import asyncio
import logging

from hangar_common import errors

from . import catalog
from .blobstore import COPY_RANGE, canonical_key
from .verification import check_staged, discard, has_bytes

MIRROR_STAGING = "mirror-staging/"
logger = logging.getLogger("hangar.lfs.adopt")


async def _check_and_copy(ctx, row):
    """(failure, pending canonical copy or None); the copy is aborted unless the bytes checked out."""
    copy_task = None
    if row["size"] > COPY_RANGE:
        copy_task = asyncio.create_task(ctx.blobs.stage_copy(row["staging_key"], row["oid"], row["size"]))
    try:
        failure = await check_staged(ctx, row)
    except BaseException:
        if copy_task is not None:
            copy = (await asyncio.gather(copy_task, return_exceptions=True))[0]
            if not isinstance(copy, BaseException):
                await copy.abort()
        raise
    copy = await copy_task if copy_task is not None else None
    if failure is not None and copy is not None:
        await copy.abort()
        copy = None
    return failure, copy


async def adopt(ctx, *, oid: str, size: int, staged_key: str, repo_id: str) -> None:
    if not staged_key.startswith(MIRROR_STAGING) or ".." in staged_key:
        raise errors.BadRequest("staged_key must be under mirror-staging/", code="InvalidKey")
    row = {"oid": oid, "size": size, "staging_key": staged_key}
    try:
        failure, copy = await _check_and_copy(ctx, row)
        if failure is not None:
            logger.warning("mirrored object refused", extra={"fields": {"oid": oid, "code": failure.code}})
            raise errors.BadRequest(failure.message, code="UpstreamMismatch")
        async with ctx.engine.begin() as conn:
            await catalog.lock_oid(conn, oid)  # a collector deleting this oid waits, or finished before
            existing = (await catalog.locations(conn, [oid])).get(oid)
            try:
                if existing is None or not await has_bytes(ctx, conn, existing[1], size):
                    if copy is not None:
                        await copy.commit()
                    else:
                        await ctx.blobs.promote(staged_key, oid, size)
                    await catalog.record_verified(conn, oid=oid, size=size, user_id="", repo_id=repo_id,
                                                  key=canonical_key(oid))
                else:
                    if copy is not None:
                        await copy.abort()
                    await catalog.record_verified(conn, oid=oid, size=size, user_id="", repo_id=repo_id)
            except BaseException:
                if copy is not None:
                    await copy.abort()
                raise
    finally:
        await discard(ctx, staged_key)

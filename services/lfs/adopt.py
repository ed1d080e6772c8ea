"""Objects the mirror service fetched from the upstream Hub (issue 18): its staged bytes go through
the same verification read and promotion as an upload (verification.py), so lfs alone decides what
becomes the object of an oid. The mirror stages under its own prefix, never at lfs's keys."""
from __future__ import annotations

import logging

from hangar_common import errors

from . import catalog
from .blobstore import canonical_key
from .verification import _check_staged, _discard

MIRROR_STAGING = "mirror-staging/"
logger = logging.getLogger("hangar.lfs.adopt")


async def adopt(ctx, *, oid: str, size: int, staged_key: str, repo_id: str) -> None:
    if not staged_key.startswith(MIRROR_STAGING) or ".." in staged_key:
        raise errors.BadRequest("staged_key must be under mirror-staging/", code="InvalidKey")
    row = {"oid": oid, "size": size, "staging_key": staged_key}
    try:
        failure, copy = await _check_staged(ctx, row)
        if failure is not None:
            logger.warning("mirrored object refused", extra={"fields": {"oid": oid, "code": failure.code}})
            raise errors.BadRequest(failure.message, code="UpstreamMismatch")
        async with ctx.engine.begin() as conn:
            await catalog.lock_oid(conn, oid)  # a collector deleting this oid waits, or finished before
            known = await catalog.verified(conn, [oid])
            try:
                if oid not in known or await ctx.blobs.size_of(canonical_key(oid)) != size:
                    if copy is not None:
                        await copy.commit()
                    else:
                        await ctx.blobs.promote(staged_key, oid, size)
                elif copy is not None:
                    await copy.abort()
            except BaseException:
                if copy is not None:
                    await copy.abort()
                raise
            await catalog.record_verified(conn, oid=oid, size=size, user_id="", repo_id=repo_id)
    finally:
        await _discard(ctx, staged_key)

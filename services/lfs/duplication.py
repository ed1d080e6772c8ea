"""permanently_delete_lfs_files and cross-repository copies (`.../lfs-files/duplicate`) on the lfs
side. Freeing applies the garbage collector's rule (gc._collect_one: unreferenced by every revision
of every repository, PR refs, upstream caches and lakeFS links included, asked of metadata under the
object's locks) without its grace period, to objects their owner just asked to delete. Duplication
is the reference rule (entitlement.py) for the target repository, limited to objects the source
repository references: it records a grant, as an upload for the target would."""
from __future__ import annotations

import re
from datetime import UTC, datetime

from hangar_protos import lfs_pb2

from . import catalog, entitlement, gc
from .xet.lfs_bridge import xet_hashes_for_oids

OID = re.compile(r"^[0-9a-f]{64}$")
MAX_FILES = 1000


async def free(ctx, oids: list[str], repo_id: str) -> list[str]:
    wanted = sorted({o for o in oids if OID.match(o)})
    if repo_id:
        async with ctx.engine.begin() as conn:
            await catalog.revoke(conn, oids=wanted, repo_id=repo_id)
    now = datetime.now(UTC)
    return [oid for oid in wanted if await gc._collect_one(ctx, oid, now)]


async def duplicate(ctx, request: lfs_pb2.DuplicateObjectsRequest) -> lfs_pb2.DuplicateObjectsResponse:
    files = list(request.files)[:MAX_FILES]
    failed: list[lfs_pb2.DuplicateFailure] = []
    oids = []
    for f in files:
        if not OID.match(f.sha256):
            failed.append(lfs_pb2.DuplicateFailure(sha256=f.sha256[:80], error="not a lowercase hex sha256"))
        else:
            oids.append(f.sha256)
    async with ctx.engine.connect() as conn:
        held = await entitlement.downloadable(ctx, conn, facts=request.source, oids=oids)
        usable = await entitlement.referencable(ctx, conn, principal=request.principal, facts=request.target,
                                                oids=[o for o in oids if o in held])
    hashes = await xet_hashes_for_oids(ctx.engine, [f.sha256 for f in files if f.xet_hash and f.sha256 in usable])
    done: list[str] = []
    async with ctx.engine.begin() as conn:
        for f in files:
            if not OID.match(f.sha256):
                continue
            if f.sha256 not in usable:   # one answer for missing and not yours: no probing
                failed.append(lfs_pb2.DuplicateFailure(
                    sha256=f.sha256, error="not an LFS file of the source repository available to you"))
            elif f.xet_hash and hashes.get(f.sha256, f.xet_hash) != f.xet_hash:
                failed.append(lfs_pb2.DuplicateFailure(sha256=f.sha256, error="xetHash does not match the file"))
            elif f.sha256 not in done:
                await catalog.grant(conn, oid=f.sha256, repo_id=request.target.repo_id,
                                    user_id=request.principal.user_id)
                done.append(f.sha256)
    return lfs_pb2.DuplicateObjectsResponse(duplicated=done, failed=failed)

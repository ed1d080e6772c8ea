"""gRPC surface of the lfs service (protos/hangar_protos/lfs.proto)."""
from __future__ import annotations

import re

from hangar_common import errors
from hangar_common.logs import request_id_var
from hangar_protos import lfs_pb2, lfs_pb2_grpc

from . import adopt, catalog, duplication, entitlement, gc, linked, usage
from .downloads import download_url
from .xet import file_stream, lfs_bridge
from .xet.grpc_api import xet_hashes

OID = re.compile(r"^[0-9a-f]{64}$")
MAX_URL_TTL = 7 * 24 * 3600  # SigV4 presigned URLs live at most 7 days
MAX_READ = 64 * 1024 * 1024  # ReadObject: previews read headers and footers, never whole objects


class LfsServicer(lfs_pb2_grpc.LfsServicer):
    def __init__(self, resources, ctx=None) -> None:
        self.resources = resources
        self.ctx = ctx

    async def Ping(self, request, context):
        return lfs_pb2.PingResponse(service="lfs", request_id=request_id_var.get())

    async def CheckObjects(self, request, context):
        """docs/data-safety.md: an oid is usable in a commit only if verified and the committer uploaded it for
        this repo or may read a repo that references it. The caller has checked write access. Marking
        the objects as just referenced protects them from a concurrent garbage collection."""
        specs = {o.oid: o.size for o in request.objects}
        valid = [oid for oid in specs if OID.match(oid)]
        # Metadata sent who references each oid (and the namespace's bytes): nothing is asked back.
        holders = {h.oid: list(h.repos) for h in request.holders}
        async with self.ctx.engine.begin() as conn:
            known = await catalog.touch_referenced(conn, valid)
        candidates = [oid for oid in valid if known.get(oid) == specs[oid]]
        async with self.ctx.engine.connect() as conn:
            usable = await entitlement.referencable(self.ctx, conn, principal=request.principal,
                                                    facts=request.repo, oids=candidates, holders=holders)
        statuses = [lfs_pb2.ObjectStatus(oid=oid, usable=oid in usable, reason=_reason(oid, specs, known, usable))
                    for oid in specs]
        message = ""
        if len(usable) == len(specs):
            message = usage.quota_exceeded(
                self.ctx, request.repo.repo.namespace, {oid: specs[oid] for oid in usable}, holders=holders,
                namespace_bytes=request.namespace_bytes if request.has_namespace_bytes else None)
        return lfs_pb2.CheckObjectsResponse(objects=statuses, quota_exceeded=bool(message), quota_message=message)

    async def DownloadUrl(self, request, context):
        if not OID.match(request.oid):
            raise errors.BadRequest("oid must be a lowercase hex sha256")
        async with self.ctx.engine.connect() as conn:
            located = await catalog.locations(conn, [request.oid])
        if request.oid not in located or (request.size and located[request.oid][0] != request.size):
            raise errors.EntryNotFound(f"LFS object {request.oid} is not stored")
        if request.granted_repo_id:
            async with self.ctx.engine.connect() as conn:
                granted = await catalog.granted(conn, oids=[request.oid], repo_id=request.granted_repo_id)
            if request.oid not in granted:
                raise errors.EntryNotFound(f"LFS object {request.oid} is not stored for this repository")
        ttl = request.expires_seconds or self.ctx.config.download_url_ttl
        ttl = max(1, min(ttl, MAX_URL_TTL))
        return lfs_pb2.DownloadUrlResponse(url=download_url(self.ctx, request.oid, located[request.oid][1],
                                                               ttl, request.filename))

    async def ReadObject(self, request, context):
        """A bounded range of a verified object, for previews (the caller checked download access)."""
        if not OID.match(request.oid):
            raise errors.BadRequest("oid must be a lowercase hex sha256")
        if request.offset < 0 or request.length < 0 or request.length > MAX_READ:
            raise errors.BadRequest(f"length must be between 0 and {MAX_READ}")
        async with self.ctx.engine.connect() as conn:
            located = await catalog.locations(conn, [request.oid])
        if request.oid not in located:
            raise errors.EntryNotFound(f"LFS object {request.oid} is not stored")
        size, key = located[request.oid]
        length = min(request.length, size - request.offset)
        if length <= 0:
            return
        if lfs_bridge.is_xet_key(key):
            found = await file_stream.open_file(self.ctx.engine, request.oid)
            if found is None:
                raise errors.EntryNotFound(f"LFS object {request.oid} is not stored")
            chunks = file_stream.stream(self.ctx.blobs.store, *found, request.offset, request.offset + length - 1)
        else:
            chunks = self.ctx.blobs.read_range(key, request.offset, length)
        async for data in chunks:
            yield lfs_pb2.ObjectChunk(data=data)

    async def XetHashes(self, request, context):
        """sha256 -> Xet file hash for oids uploaded through Xet (services/lfs/xet/grpc_api.py)."""
        return await xet_hashes(self.resources, request)

    async def FreeObjects(self, request, context):
        """Bytes of just-deleted LFS files that nothing references any more (duplication.py)."""
        return lfs_pb2.FreeObjectsResponse(freed=await duplication.free(self.ctx, list(request.oids), request.repo_id))

    async def UsableSizes(self, request, context):
        valid = [oid for oid in request.oids if OID.match(oid)][:1000]
        async with self.ctx.engine.connect() as conn:
            known = await catalog.verified(conn, valid)
            usable = await entitlement.referencable(self.ctx, conn, principal=request.principal,
                                                    facts=request.repo, oids=list(known))
        return lfs_pb2.UsableSizesResponse(sizes={oid: known[oid] for oid in usable})

    async def DuplicateObjects(self, request, context):
        if request.principal.anonymous:
            raise errors.Unauthorized("Sign in to copy LFS files")
        return await duplication.duplicate(self.ctx, request)

    async def AdoptObject(self, request, context):
        """Bytes the mirror fetched from the upstream become an object once verified (adopt.py)."""
        if not OID.match(request.oid) or request.size < 0:
            raise errors.BadRequest("oid must be a lowercase hex sha256")
        await adopt.adopt(self.ctx, oid=request.oid, size=request.size, staged_key=request.staged_key,
                          repo_id=request.repo.repo_id)
        return lfs_pb2.AdoptObjectResponse()

    async def EvictObject(self, request, context):
        """The mirror's size-bounded cache lets an object go (gc.evict_cached decides)."""
        if not OID.match(request.oid):
            raise errors.BadRequest("oid must be a lowercase hex sha256")
        return lfs_pb2.EvictObjectResponse(evicted=await gc.evict_cached(self.ctx, request.oid))

    async def ObjectLocations(self, request, context):
        """One whole S3 object per verified object, for the lakeFS engine to link (never to serve):
        objects stored as Xet files get a copy rebuilt from their xorbs (linked.py)."""
        oids = [oid for oid in dict.fromkeys(request.oids) if OID.match(oid)]
        located = await linked.locate(self.ctx, oids)
        return lfs_pb2.ObjectLocationsResponse(locations=[
            lfs_pb2.ObjectLocation(oid=oid, size=size, bucket=self.ctx.blobs.bucket, key=key)
            for oid, (size, key) in located.items()])

    async def Usage(self, request, context):
        if not request.namespace:
            raise errors.BadRequest("namespace is required")
        return await usage.usage(self.ctx, request.namespace)


def _reason(oid: str, specs: dict, known: dict, usable: set) -> str:
    if oid in usable:
        return ""
    if not OID.match(oid):
        return "invalid-oid"
    if oid not in known:
        return "missing"
    if known[oid] != specs[oid]:
        return "size-mismatch"
    return "not-entitled"

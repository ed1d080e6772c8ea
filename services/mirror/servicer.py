"""gRPC surface of the mirror service (protos/hangar_protos/mirror.proto)."""
from __future__ import annotations

from hangar_common import errors
from hangar_common.grpcio import call
from hangar_common.logs import request_id_var
from hangar_protos import metadata_pb2, mirror_pb2, mirror_pb2_grpc

from . import cache, metrics
from .access import UpstreamAccess
from .imports import Importer
from .objects import ObjectFetcher
from .sync import RepoSync


class MirrorServicer(mirror_pb2_grpc.MirrorServicer):
    def __init__(self, settings, repos: RepoSync, objects: ObjectFetcher, metadata, db, imports: Importer,
                 access: UpstreamAccess) -> None:
        self.settings, self.repos, self.objects, self.metadata, self.db = settings, repos, objects, metadata, db
        self.access = access
        self.imports = imports

    async def Ping(self, request, context):
        return mirror_pb2.PingResponse(service="mirror", request_id=request_id_var.get())

    async def EnsureRepo(self, request, context):
        changed = await self.repos.ensure(request.repo, request.cached, request.principal.user_id)
        return mirror_pb2.EnsureRepoResponse(changed=changed)

    async def StreamObject(self, request, context):
        if not self.settings.enabled:
            raise errors.EntryNotFound("The mirror is off")
        info = await call(self.metadata.GetRepo, metadata_pb2.RepoRequest(repo=request.repo))
        if not info.upstream_cache:
            raise errors.EntryNotFound("Not an upstream repository")
        if request.size < 0 or request.offset < 0 or request.offset > request.size:
            raise errors.BadRequest("invalid range")
        if await self.objects.stored(request.oid, request.size, info.facts.repo_id):
            metrics.HITS.labels("object").inc()
            await cache.touch_object(self.db, request.oid)
            yield mirror_pb2.ObjectChunk(stored=True)
            return
        repo_id = f"{info.facts.repo.namespace}/{info.facts.repo.name}"
        token = self.settings.service_token_for(info.facts.repo.type, repo_id)
        if not token and (info.facts.private or info.facts.gated):
            # The caller (gateway) had auth's decision, which asked access.py: the reader's own token.
            token = await self.access.token_for(request.principal.user_id, info.facts.repo.type, repo_id)
        fetch = self.objects.attach(info.facts, request.oid, request.size, token)
        end = request.size if request.length < 0 else min(request.size, request.offset + request.length)
        async for data in self.objects.read(fetch, request.offset, end):
            yield mirror_pb2.ObjectChunk(data=data)

    async def ResolveLegacyId(self, request, context):
        if not request.name or "/" in request.name:
            raise errors.BadRequest("an id without a namespace")
        return await self.repos.legacy(request.type or "model", request.name)

    async def ObjectServed(self, request, context):
        metrics.HITS.labels("object").inc()
        await cache.touch_object(self.db, request.oid)
        return mirror_pb2.ObjectServedResponse()

    async def UpstreamAccess(self, request, context):
        repo = request.repo
        return mirror_pb2.UpstreamAccessResponse(allowed=await self.access.allowed(
            request.user_id, repo.type or "model", f"{repo.namespace}/{repo.name}"))

    async def StartImport(self, request, context):
        return await self.imports.start(request)

    async def GetImport(self, request, context):
        return await self.imports.get(request.id)

    async def SyncImport(self, request, context):
        return await self.imports.sync(request.id)

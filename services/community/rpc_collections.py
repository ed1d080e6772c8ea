"""Collections of community.proto."""
from __future__ import annotations

from hangar_common.callers import writer_id
from hangar_protos import community_pb2 as pb

from . import collections
from .rpc_base import ServicerBase


class CollectionsRpc(ServicerBase):

    async def CreateCollection(self, request, context):
        writer_id(request.principal)
        slug = await collections.create(self.ctx, request)
        return await collections.load(self.ctx, request.principal, slug)

    async def GetCollection(self, request, context):
        return await collections.load(self.ctx, request.principal, request.slug)

    async def ListCollections(self, request, context):
        return pb.ListCollectionsResponse(collections=await collections.listing(self.ctx, request))

    async def UpdateCollection(self, request, context):
        writer_id(request.principal)
        await collections.update(self.ctx, request)
        return await collections.load(self.ctx, request.principal, request.slug)

    async def DeleteCollection(self, request, context):
        writer_id(request.principal)
        await collections.delete(self.ctx, request.principal, request.slug)
        return pb.Empty()

    async def AddCollectionItem(self, request, context):
        writer_id(request.principal)
        await collections.add_item(self.ctx, request)
        return await collections.load(self.ctx, request.principal, request.slug)

    async def UpdateCollectionItem(self, request, context):
        writer_id(request.principal)
        await collections.update_item(self.ctx, request)
        return await collections.load(self.ctx, request.principal, request.slug)

    async def DeleteCollectionItem(self, request, context):
        writer_id(request.principal)
        await collections.delete_item(self.ctx, request)
        return await collections.load(self.ctx, request.principal, request.slug)

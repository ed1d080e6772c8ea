"""gRPC surface of the community service (protos/hangar_protos/community.proto). Each concern is a
mixin over `ServicerBase` (webhooks, likes, collections, discussions...), composed here."""
from __future__ import annotations

from hangar_common.logs import request_id_var
from hangar_protos import community_pb2 as pb
from hangar_protos import community_pb2_grpc

from .rpc_base import ServicerBase
from .rpc_collections import CollectionsRpc
from .rpc_discussions import DiscussionsRpc
from .rpc_likes import LikesRpc
from .rpc_webhooks import WebhooksRpc


class CommunityServicer(DiscussionsRpc, WebhooksRpc, LikesRpc, CollectionsRpc, ServicerBase,
                        community_pb2_grpc.CommunityServicer):
    """The Community service; `CommunityServicer(ctx)` is what app.py registers."""

    async def Ping(self, request, context):
        return pb.PingResponse(service="community", request_id=request_id_var.get())

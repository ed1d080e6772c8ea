"""gRPC surface of the lfs service (protos/hangar_protos/lfs.proto)."""
from __future__ import annotations

from hangar_common.grpcio import servicer_errors
from hangar_common.logs import request_id_var
from hangar_protos import lfs_pb2, lfs_pb2_grpc


class LfsServicer(lfs_pb2_grpc.LfsServicer):
    def __init__(self, resources) -> None:
        self.resources = resources

    @servicer_errors
    async def Ping(self, request, context):
        return lfs_pb2.PingResponse(service="lfs", request_id=request_id_var.get())

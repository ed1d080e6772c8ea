"""gRPC surface of the metadata service (protos/hangar_protos/metadata.proto)."""
from __future__ import annotations

from hangar_common.grpcio import servicer_errors
from hangar_common.logs import request_id_var
from hangar_protos import metadata_pb2, metadata_pb2_grpc


class MetadataServicer(metadata_pb2_grpc.MetadataServicer):
    def __init__(self, resources) -> None:
        self.resources = resources

    @servicer_errors
    async def Ping(self, request, context):
        return metadata_pb2.PingResponse(service="metadata", request_id=request_id_var.get())

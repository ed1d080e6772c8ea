"""gRPC surface of the auth service (protos/hangar_protos/auth.proto)."""
from __future__ import annotations

from hangar_common.errors import Unauthorized
from hangar_common.grpcio import servicer_errors
from hangar_protos import auth_pb2, auth_pb2_grpc, common_pb2


class AuthServicer(auth_pb2_grpc.AuthServicer):
    def __init__(self, resources) -> None:
        self.resources = resources

    @servicer_errors
    async def Authenticate(self, request, context):
        if not request.authorization and not request.session_cookie:
            return common_pb2.Principal(anonymous=True)
        raise Unauthorized("Invalid credentials in Authorization header")

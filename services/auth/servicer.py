"""gRPC surface of the auth service (protos/hangar_protos/auth.proto), one part per concern:
decisions (authentication, authorization), accounts (users, sessions, tokens, settings),
organizations, and gated-repo access requests."""
from __future__ import annotations

from hangar_protos import auth_pb2_grpc

from .rpc_accounts import AccountsRpc
from .rpc_decisions import DecisionsRpc
from .rpc_gating import GatingRpc
from .rpc_orgs import OrgsRpc


class AuthServicer(DecisionsRpc, AccountsRpc, OrgsRpc, GatingRpc, auth_pb2_grpc.AuthServicer):
    """The Auth service; `AuthServicer(resources)` is what app.py registers."""

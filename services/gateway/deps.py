"""Request-scoped dependencies of the gateway: the calling principal and authorization decisions.

Every route that touches a repository calls `authorize()` with the repo's facts (from metadata); the
decision itself is the auth service's, and the error the client sees is hangar_common.edge's rule
(a private repo the caller may not see is indistinguishable from a missing one).
"""
from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from hangar_common import edge, errors, hotcache
from hangar_common.config import Settings
from hangar_common.hotreads import HotReads
from hangar_common.upstream_repos import mirror_stub
from hangar_protos import auth_pb2, auth_pb2_grpc, common_pb2, community_pb2_grpc, lfs_pb2_grpc, metadata_pb2_grpc

from .paths import RepoTarget, api_target, resolve_target

SESSION_COOKIE = "hangar_session"
CSRF_COOKIE = "hangar_csrf"
CSRF_HEADER = "x-csrf-token"


class Clients:
    """gRPC stubs to the services the gateway talks to; built once in the lifespan."""

    def __init__(self, channels: dict, bus: hotcache.Bus | None = None) -> None:
        self.auth = auth_pb2_grpc.AuthStub(channels["auth"])
        self.metadata = metadata_pb2_grpc.MetadataStub(channels["metadata"])
        self.lfs = lfs_pb2_grpc.LfsStub(channels["lfs"])
        self.community = community_pb2_grpc.CommunityStub(channels["community"])
        self.mirror = mirror_stub(channels.get("mirror"))   # None when no mirror is deployed
        # Cached auth and metadata answers of the request path (hotreads.py), kept current by `bus`.
        self.hot = HotReads(bus, self.auth, self.metadata, self.mirror, self.lfs)


def clients(request: Request) -> Clients:
    return request.app.state.clients


def settings(request: Request) -> Settings:
    return request.app.state.resources.settings


def client_address(request: Request) -> str:
    """The caller's address as Traefik forwarded it (uvicorn applies X-Forwarded-For)."""
    return request.client.host if request.client else ""


async def current_principal(request: Request) -> common_pb2.Principal:
    cached = getattr(request.state, "principal", None)
    if cached is not None:
        return cached
    principal = await clients(request).hot.principal(auth_pb2.AuthenticateRequest(
        authorization=request.headers.get("authorization", ""),
        session_cookie=request.cookies.get(SESSION_COOKIE, ""),
        client_address=client_address(request),
        # Cookie-authenticated writes must echo the CSRF cookie (auth checks it against the session).
        csrf_token=request.headers.get(CSRF_HEADER, ""),
        http_method=request.method))
    request.state.principal = principal
    return principal


# What handlers declare instead of looking it up on the request.
Services = Annotated[Clients, Depends(clients)]
AppSettings = Annotated[Settings, Depends(settings)]
CurrentPrincipal = Annotated[common_pb2.Principal, Depends(current_principal)]
ApiTarget = Annotated[RepoTarget, Depends(api_target)]            # /api/{type}s/{ns}/{name}/...
ResolveTarget = Annotated[RepoTarget, Depends(resolve_target)]    # /[{type}s/]{ns}/{name}/resolve/...


async def require_user(principal: CurrentPrincipal) -> common_pb2.Principal:
    if principal.anonymous:
        raise errors.Unauthorized("You must be authenticated to do this")
    return principal

CurrentUser = Annotated[common_pb2.Principal, Depends(require_user)]


async def authorize(request: Request, facts: common_pb2.RepoFacts, action: str, *,
                    owner_user_id: str = "") -> common_pb2.Principal:
    """Raise the error the client must see unless the caller may do `action` on the repo
    (`owner_user_id`: the author of the PR or thread the action touches)."""
    principal = await current_principal(request)
    decision = await clients(request).hot.decision(auth_pb2.AuthorizeRequest(
        principal=principal, repo=facts, action=action, owner_user_id=owner_user_id))
    edge.enforce(principal, decision)
    return principal

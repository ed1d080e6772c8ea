"""Authenticate and the authorization decisions (Authorize, AuthorizeNamespace) of auth.proto."""
from __future__ import annotations

from hangar_common.grpcio import call
from hangar_protos import auth_pb2, mirror_pb2, mirror_pb2_grpc

from . import access_requests, policy
from .rpc_base import ServicerBase


class DecisionsRpc(ServicerBase):
    """Who is calling, and may they do it."""

    async def Authenticate(self, request, context):
        return await self.authenticator.authenticate(
            authorization=request.authorization, session_cookie=request.session_cookie,
            csrf=request.csrf_token, http_method=request.http_method)

    async def Authorize(self, request, context):
        principal, facts = request.principal, request.repo
        role = await self.memberships.role_in(principal.user_id, facts.repo.namespace)
        granted = False
        if (request.action in ("download", "contribute", "push-pr") and facts.gated
                and principal.user_id.isdigit() and not role):
            granted = await self._access_granted(facts.repo_id, int(principal.user_id))
        upstream = policy.needs_upstream_access(facts, request.action) and await self._upstream_access(
            principal, facts)
        decision = policy.decide(principal, facts, request.action, org_role=role, access_granted=granted,
                                   owner_user_id=request.owner_user_id,
                                   public_url=self.settings.public_url, upstream_access=upstream)
        return auth_pb2.AuthorizeResponse(allowed=decision.allowed, error_code=decision.error_code,
                                          message=decision.message)

    async def AuthorizeNamespace(self, request, context):
        principal = request.principal
        role = await self.memberships.role_in(principal.user_id, request.namespace)
        decision = policy.decide_namespace(principal, request.namespace, request.action, org_role=role)
        return auth_pb2.AuthorizeResponse(allowed=decision.allowed, error_code=decision.error_code,
                                          message=decision.message)

    async def _upstream_access(self, principal, facts) -> bool:
        """The mirror's answer (services/mirror/access.py, the one rule) for a gated or private upstream cache."""
        channel = self.resources.channels.get("mirror")
        if channel is None:
            return False
        answer = await call(mirror_pb2_grpc.MirrorStub(channel).UpstreamAccess, mirror_pb2.UpstreamAccessRequest(
            repo=facts.repo, user_id="" if principal.anonymous else principal.user_id))
        return answer.allowed

    async def _access_granted(self, repo_id: str, user_id: int) -> bool:
        async with self.engine.connect() as conn:
            return await access_requests.is_accepted(conn, repo_id=repo_id, user_id=user_id)

"""Who may clone or push: credentials through auth's Authenticate (HTTP Basic `user:token` as git
sends it), repository facts from metadata's GetRepo, the decision from auth's Authorize.

The answer to a refusal is hangar_common.edge's rule on its git surface: git sends credentials only
after a 401 carrying `WWW-Authenticate` (gitcredentials(7)), so an anonymous request for a private or
a missing repository gets exactly that, the same for both, and existence does not leak. A signed-in
caller who may not see the repository gets 404; one who may see it but not write to it gets 403.
"""
from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from hangar_common import edge, errors
from hangar_common.grpcio import call
from hangar_common.upstream_repos import get_repo
from hangar_protos import auth_pb2, common_pb2, metadata_pb2


@dataclass(frozen=True)
class Granted:
    principal: common_pb2.Principal
    repo: metadata_pb2.RepoInfo
    pr_only: bool = False       # a push by someone without write access: only to their own refs/pr/N

    @property
    def ref(self) -> common_pb2.RepoRef:
        return self.repo.facts.repo


ANONYMOUS = common_pb2.Principal(anonymous=True)


async def authenticate(clients, authorization: str, client_address: str) -> common_pb2.Principal:
    """No credentials at all is the anonymous principal (auth.proto, Authenticate): no call needed."""
    if not authorization:
        return ANONYMOUS
    try:
        return await call(clients.auth.Authenticate, auth_pb2.AuthenticateRequest(
            authorization=authorization, client_address=client_address))
    except errors.Unauthorized as exc:
        raise edge.unauthenticated(exc.message, edge.GIT) from None


async def grant(clients, authorization: str, client_address: str, repo: common_pb2.RepoRef,
                action: str) -> Granted:
    """The caller and the repository, if the caller may do `action` ("download" or "write") on it.
    Who is calling and which repository it is are asked for at the same time."""
    principal: Any
    info: Any
    principal, info = await asyncio.gather(
        authenticate(clients, authorization, client_address),
        get_repo(clients.metadata, clients.mirror, repo), return_exceptions=True)
    if isinstance(principal, BaseException):
        raise principal
    if action == "write" and principal.anonymous:   # ask for credentials before anything else
        raise edge.refusal(principal, "Unauthorized", "Authentication required", edge.GIT)
    if isinstance(info, errors.NotFound):
        raise edge.refusal(principal, "RepoNotFound", surface=edge.GIT)
    if isinstance(info, BaseException):
        raise info
    decision = await call(clients.auth.Authorize, auth_pb2.AuthorizeRequest(
        principal=principal, repo=info.facts, action=action))
    if decision.allowed:
        return Granted(principal=principal, repo=info)
    if action == "write" and decision.error_code == "Forbidden":
        # Pull request authors push to their own refs/pr/N (each command is checked with auth).
        contributor = await call(clients.auth.Authorize, auth_pb2.AuthorizeRequest(
            principal=principal, repo=info.facts, action="contribute"))
        if contributor.allowed:
            return Granted(principal=principal, repo=info, pr_only=True)
    raise edge.refusal(principal, decision.error_code, decision.message, edge.GIT)

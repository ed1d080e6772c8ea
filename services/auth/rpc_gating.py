"""Gated repos over gRPC (auth.proto): access requests and their handling; rules in access_requests.py."""
from __future__ import annotations

from hangar_common.callers import caller_id
from hangar_common.errors import BadRequest, NotFound
from hangar_protos import auth_pb2

from . import access_requests
from .rpc_base import ServicerBase, parse_id, settings_patch


class GatingRpc(ServicerBase):
    """Access requests to gated repos."""

    async def RequestAccess(self, request, context):
        user_id = caller_id(request.principal)
        facts = request.repo
        await self._require(request.principal, facts, "read")
        if not facts.gated:
            raise BadRequest("This repository is not gated", code="RepoNotGated")
        fields = settings_patch(request.fields_json)
        initial = "accepted" if facts.gated == "auto" else "pending"
        async with self.engine.begin() as conn:
            row = await access_requests.ask(conn, repo_id=facts.repo_id, user_id=user_id, initial=initial,
                                            fields=fields)
        return access_requests.info(row)

    async def ListAccessRequests(self, request, context):
        await self._require(request.principal, request.repo, "write")
        wanted, limit = access_requests.status(request.status), min(max(request.limit, 0) or 500, 1000)
        async with self.engine.connect() as conn:
            rows = await access_requests.listing(conn, repo_id=request.repo.repo_id, wanted=wanted,
                                                 offset=max(request.offset, 0), limit=limit + 1)
        return auth_pb2.ListAccessRequestsResponse(requests=[access_requests.info(r) for r in rows[:limit]],
                                                   has_more=len(rows) > limit)

    async def HandleAccessRequest(self, request, context):
        facts = request.repo
        await self._require(request.principal, facts, "write")
        if not facts.gated:
            raise BadRequest("This repository is not gated", code="RepoNotGated")
        new = "accepted" if request.grant else access_requests.status(request.status)
        if request.reason and new != "rejected":
            raise BadRequest("A reason can only be given when rejecting", code="InvalidField")
        async with self.engine.begin() as conn:
            user_id = await self._request_user(conn, facts.repo_id, request)
            if request.grant:
                if await access_requests.is_accepted(conn, repo_id=facts.repo_id, user_id=user_id):
                    raise BadRequest("This user already has access to the repository", code="AlreadyGranted")
                return access_requests.info(await access_requests.grant(conn, repo_id=facts.repo_id,
                                                                        user_id=user_id))
            current = await access_requests.get(conn, repo_id=facts.repo_id, user_id=user_id)
            if current is None:   # the Hub: 404 when the user has no request for this repo
                raise NotFound("Access request not found", code="AccessRequestNotFound")
            if current.status == new:   # the Hub: 404 when the request already is in that list
                raise NotFound(f"The access request is already in the {new} list", code="AccessRequestNotFound")
            row = await access_requests.set_status(conn, repo_id=facts.repo_id, user_id=user_id, new=new,
                                                   reason=request.reason[:1000])
        return access_requests.info(row)

    async def _request_user(self, conn, repo_id: str, request) -> int:
        """The user a handle/grant call is about: named directly, or by the id of their request."""
        if request.username:
            return (await self._user_named(conn, request.username)).id
        request_id = parse_id(request.request_id, "Access request")
        row = await access_requests.get(conn, repo_id=repo_id, request_id=request_id)
        if row is None or request.grant:
            raise NotFound("Access request not found", code="AccessRequestNotFound")
        return row.user_id

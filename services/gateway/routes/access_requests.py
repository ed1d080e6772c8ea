"""Gated repos (issue 5): `POST /api/{type}s/{id}/ask-access` for users, and for those with write
access the Hub's `GET .../user-access-request/{pending,accepted,rejected}`, `POST
.../user-access-request/handle` and `.../grant` (huggingface_hub's list_*_access_requests,
accept/reject/cancel_access_request and grant_access). The repo's facts come from metadata; the
decision and the requests themselves are the auth service's."""
from __future__ import annotations

import json
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from starlette.responses import JSONResponse

from hangar_common import errors
from hangar_common.grpcio import call
from hangar_protos import auth_pb2, common_pb2

from .. import deps, paths
from ..bodies import form_items, json_object, repo_api
from ..identity_shapes import access_request_json
from ..repo_access import open_repo

router = APIRouter()
STATUSES = ("pending", "accepted", "rejected")


async def _facts(request: Request, target: paths.RepoTarget):
    info = await open_repo(request, target, "read")
    return info.facts


@repo_api(router, "/ask-access", ["POST"])
async def ask_access(request: Request, target: deps.ApiTarget, services: deps.Services, principal: deps.CurrentUser):
    """The gate's form fields arrive form-encoded (the Hub's page) or as JSON."""
    facts = await _facts(request, target)
    fields = dict((await form_items(request))[:50])
    answer = await call(services.auth.RequestAccess, auth_pb2.RequestAccessRequest(
        principal=principal, repo=facts, fields_json=json.dumps(fields)))
    return JSONResponse(access_request_json(answer))


def _list_handler(status: str):
    async def list_requests(request: Request, target: deps.ApiTarget, services: deps.Services,
                            principal: deps.CurrentPrincipal, settings: deps.AppSettings):
        facts = await _facts(request, target)
        cursor, limit = _page(request)
        page = await call(services.auth.ListAccessRequests, auth_pb2.ListAccessRequestsRequest(
            principal=principal, repo=facts, status=status, offset=cursor, limit=limit))
        headers = {}
        if page.has_more:
            origin = settings.public_url
            query = urlencode({"cursor": cursor + len(page.requests), "limit": limit})
            headers["Link"] = f'<{origin}{request.url.path}?{query}>; rel="next"'
        return JSONResponse([access_request_json(r) for r in page.requests], headers=headers)
    return list_requests


for _status in STATUSES:
    repo_api(router, f"/user-access-request/{_status}", ["GET"])(_list_handler(_status))


def _page(request: Request) -> tuple[int, int]:
    try:
        cursor = int(request.query_params.get("cursor", 0))
        limit = int(request.query_params.get("limit", 500))
    except ValueError:
        raise errors.BadRequest("cursor and limit must be integers", code="InvalidField") from None
    if not 0 <= cursor <= 2**53 or not 1 <= limit <= 1000:
        raise errors.BadRequest("cursor must be >= 0 and limit within 1..1000", code="InvalidField")
    return cursor, limit


@repo_api(router, "/user-access-request/handle", ["POST"])
async def handle(request: Request, target: deps.ApiTarget, services: deps.Services,
                 principal: deps.CurrentPrincipal):
    """Body: {"user" | "requestId", "status": accepted|rejected|pending, "rejectionReason"?}."""
    body = await json_object(request)
    return await _handle(request, target, services, principal, body, grant=False)


@repo_api(router, "/user-access-request/grant", ["POST"])
async def grant(request: Request, target: deps.ApiTarget, services: deps.Services,
                principal: deps.CurrentPrincipal):
    """Body: {"user"}: accept a user who may never have asked."""
    body = await json_object(request)
    if not isinstance(body.get("user"), str) or not body["user"]:
        raise errors.BadRequest("'user' is required", code="InvalidField")
    return await _handle(request, target, services, principal, {"user": body["user"]}, grant=True)


async def _handle(request: Request, target: paths.RepoTarget, services: deps.Clients,
                  principal: common_pb2.Principal, body: dict, *, grant: bool):
    facts = await _facts(request, target)
    user, request_id = body.get("user"), body.get("requestId")
    if not (isinstance(user, str) and user) and not (isinstance(request_id, (str, int)) and str(request_id)):
        raise errors.BadRequest("One of 'user' or 'requestId' is required", code="InvalidField")
    reason = body.get("rejectionReason") or ""
    if not isinstance(reason, str) or not isinstance(body.get("status", ""), str):
        raise errors.BadRequest("'status' and 'rejectionReason' must be strings", code="InvalidField")
    answer = await call(services.auth.HandleAccessRequest, auth_pb2.HandleAccessRequestRequest(
        principal=principal, repo=facts, username=user if isinstance(user, str) else "",
        request_id=str(request_id) if request_id is not None and not user else "",
        status=body.get("status", ""), reason=reason, grant=grant))
    return JSONResponse(access_request_json(answer))

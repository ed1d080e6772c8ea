"""Account settings and overviews (issue 5): `PUT /api/users/{name}/settings`,
`PUT /api/organizations/{name}/settings` (also without the `/api` prefix), and the Hub's
`GET /api/users/{name}/overview` (huggingface_hub `get_user_overview`)."""
from __future__ import annotations

import json

from fastapi import APIRouter

from hangar_common.errors import NotFound
from hangar_common.grpcio import call
from hangar_protos import auth_pb2

from ..bodies import Body
from ..deps import CurrentUser, Services
from ..identity_shapes import org_membership_json, settings_json

router = APIRouter()


class SettingsBody(Body):
    fullname: str | None = None
    settings: dict | None = None


async def _update(kind: str, name: str, body: SettingsBody, principal, services) -> dict:
    request = auth_pb2.UpdateSettingsRequest(principal=principal, kind=kind, name=name,
                                             settings_json=json.dumps(body.settings) if body.settings else "")
    if body.fullname is not None:
        request.fullname = body.fullname
    return settings_json(await call(services.auth.UpdateSettings, request))


@router.put("/api/users/{name}/settings")
@router.put("/users/{name}/settings", include_in_schema=False)
async def user_settings(name: str, body: SettingsBody, principal: CurrentUser, services: Services) -> dict:
    return await _update("user", name, body, principal, services)


@router.put("/api/organizations/{name}/settings")
@router.put("/organizations/{name}/settings", include_in_schema=False)
async def org_settings(name: str, body: SettingsBody, principal: CurrentUser, services: Services) -> dict:
    return await _update("org", name, body, principal, services)


@router.get("/api/users/{name}/overview")
async def user_overview(name: str, services: Services) -> dict:
    account = await call(services.auth.GetAccount, auth_pb2.NameRequest(name=name))
    if account.kind != "user":
        raise NotFound(f"User {name} not found", code="UserNotFound")
    orgs = await call(services.auth.ListUserOrgs, auth_pb2.NameRequest(name=name))
    return {"type": "user", "user": account.name, "fullname": account.fullname, "avatarUrl": "",
            "createdAt": account.created_at, "isPro": False,
            "orgs": [org_membership_json(o) for o in orgs.orgs]}

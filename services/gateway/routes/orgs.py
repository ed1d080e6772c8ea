"""Organization routes (issue 5): Hangar's `/api/org/...` management API (also answered without the
`/api` prefix, as the issue spells them) and the Hub's `GET /api/organizations/{name}/members` and
`/overview` that huggingface_hub's `list_organization_members` / `get_organization_overview` call."""
from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter, Query, Response

from hangar_common import edge, errors
from hangar_common.grpcio import call
from hangar_protos import auth_pb2, metadata_pb2

from ..bodies import Body
from ..deps import AppSettings, CurrentUser, Services
from ..identity_shapes import member_json, org_json, org_membership_json

router = APIRouter()


class CreateOrgBody(Body):
    name: str
    fullname: str = ""


class AddMemberBody(Body):
    username: str
    role: str = "read"


class RoleBody(Body):
    role: str


class RenameBody(Body):
    newName: str


def both(method: str, path: str, **kwargs):
    """Register `path` under /api and, as the issue names them, without the prefix."""
    def register(fn):
        getattr(router, method)("/api" + path, **kwargs)(fn)
        getattr(router, method)(path, include_in_schema=False, **kwargs)(fn)
        return fn
    return register


@both("post", "/org/create", status_code=201)
async def create_org(body: CreateOrgBody, principal: CurrentUser, services: Services) -> dict:
    org = await call(services.auth.CreateOrg, auth_pb2.CreateOrgRequest(
        principal=principal, name=body.name, fullname=body.fullname))
    return org_json(org)


@both("get", "/org/users/{username}/orgs")
async def user_orgs(username: str, services: Services) -> list:
    answer = await call(services.auth.ListUserOrgs, auth_pb2.NameRequest(name=username))
    return [org_membership_json(o) for o in answer.orgs]


@both("get", "/org/{name}")
async def get_org(name: str, services: Services) -> dict:
    return org_json(await call(services.auth.GetOrg, auth_pb2.NameRequest(name=name)))


@both("get", "/org/{name}/members")
async def org_members(name: str, services: Services) -> list:
    return [member_json(m) for m in await _all_members(services, name)]


@both("post", "/org/{name}/members", status_code=201)
async def add_member(name: str, body: AddMemberBody, principal: CurrentUser, services: Services) -> dict:
    member = await call(services.auth.SetOrgMember, auth_pb2.SetOrgMemberRequest(
        principal=principal, org=name, username=body.username, role=body.role, must_be_new=True))
    return member_json(member)


@both("put", "/org/{name}/members/{username}")
async def change_role(name: str, username: str, body: RoleBody, principal: CurrentUser, services: Services) -> dict:
    member = await call(services.auth.SetOrgMember, auth_pb2.SetOrgMemberRequest(
        principal=principal, org=name, username=username, role=body.role, must_exist=True))
    return member_json(member)


@both("delete", "/org/{name}/members/{username}")
async def remove_member(name: str, username: str, principal: CurrentUser, services: Services) -> dict:
    await call(services.auth.RemoveOrgMember, auth_pb2.RemoveOrgMemberRequest(
        principal=principal, org=name, username=username))
    return {"ok": True}


@both("post", "/org/{name}/rename")
async def rename_org(name: str, body: RenameBody, principal: CurrentUser, services: Services) -> dict:
    """Super-admins only, and only while the organization owns no repositories."""
    await _must_own_no_repos(services, principal, name)
    org = await call(services.auth.RenameOrg, auth_pb2.RenameOrgRequest(
        principal=principal, name=name, new_name=body.newName))
    return org_json(org)


@both("delete", "/org/{name}")
async def delete_org(name: str, principal: CurrentUser, services: Services) -> dict:
    """Super-admins only, and only once the organization owns no repositories."""
    await _must_own_no_repos(services, principal, name)
    await call(services.auth.DeleteOrg, auth_pb2.NameRequest(principal=principal, name=name))
    return {"ok": True}


async def _must_own_no_repos(services, principal, name: str) -> None:
    # Only the organization's admins may learn whether it owns (private) repositories.
    decision = await call(services.auth.AuthorizeNamespace, auth_pb2.AuthorizeNamespaceRequest(
        principal=principal, namespace=name, action="admin"))
    if not decision.allowed:
        raise errors.Forbidden("Only a super-admin can rename or delete the organization")
    for repo_type in edge.REPO_TYPES:
        page = await call(services.metadata.ListRepos, metadata_pb2.ListReposRequest(
            type=repo_type, author=name, limit=1, include_all_private=True))
        if page.repos:
            raise errors.Conflict(f"The organization {name} still owns repositories: delete or move them first",
                                  code="OrgHasRepos")


@router.get("/api/organizations/{name}/members")
async def hub_org_members(name: str, response: Response, services: Services, settings: AppSettings,
                          cursor: int = Query(0, ge=0, le=2**53), limit: int = Query(500, ge=1, le=1000)) -> list:
    """Paginated like the Hub: an absolute `Link: <...>; rel="next"` while more members remain."""
    page = await call(services.auth.ListOrgMembers, auth_pb2.ListOrgMembersRequest(
        org=name, offset=cursor, limit=limit))
    if page.has_more:
        origin = settings.public_url
        query = urlencode({"cursor": cursor + len(page.members), "limit": limit})
        response.headers["Link"] = f'<{origin}/api/organizations/{name}/members?{query}>; rel="next"'
    return [member_json(m) for m in page.members]


@router.get("/api/organizations/{name}/overview")
async def hub_org_overview(name: str, services: Services) -> dict:
    org = org_json(await call(services.auth.GetOrg, auth_pb2.NameRequest(name=name)))
    org.pop("settings")
    return org


async def _all_members(services, name: str) -> list:
    members, offset = [], 0
    while True:
        page = await call(services.auth.ListOrgMembers, auth_pb2.ListOrgMembersRequest(
            org=name, offset=offset, limit=1000))
        members.extend(page.members)
        offset += len(page.members)
        if not page.has_more:
            return members

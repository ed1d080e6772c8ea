"""Organizations: `/organizations/new` and member management at `/organizations/{org}/members`
(admins add members, change roles, remove; anyone may leave). The rules (who may grant which role,
the last super-admin) are auth's: pages show its answer."""
from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request

from hangar_common import errors
from hangar_common.grpcio import call
from hangar_protos import auth_pb2

from .. import access, pages

router = APIRouter()
ROLES = ("read", "member", "admin", "super-admin")


@router.get("/organizations/new", include_in_schema=False)
async def new_org_form(request: Request):
    await access.signed_in(request)
    return pages.render(request, "org_new.html", values={})


@router.post("/organizations/new", include_in_schema=False)
async def new_org(request: Request):
    form = await request.form()
    who = await access.signed_in(request, form)
    values = {k: str(form.get(k, "")).strip()[:100] for k in ("name", "fullname")}
    try:
        org = await call(access.clients(request).auth.CreateOrg, auth_pb2.CreateOrgRequest(
            principal=who, name=values["name"], fullname=values["fullname"]))
    except errors.HangarError as exc:
        if exc.status >= 500:
            raise
        return pages.render(request, "org_new.html", status=exc.status, values=values, error=exc.message)
    return pages.redirect(f"/{pages.url_segment(org.name)}")


async def _members_page(request: Request, org_name: str, who, status: int = 200, error: str = ""):
    c = access.clients(request)
    try:
        org = await call(c.auth.GetOrg, auth_pb2.NameRequest(name=org_name, principal=who))
    except errors.NotFound:
        raise access.PageNotFound("Not found") from None
    members = (await call(c.auth.ListOrgMembers, auth_pb2.ListOrgMembersRequest(org=org.name, limit=500))).members
    mine = next((m.role for m in members if m.username == who.username), "")
    if not mine and not who.is_site_admin:
        raise access.PageNotFound("Not found")
    return pages.render(request, "org_members.html", status=status, org=org, members=members, my_role=mine,
                        is_admin=mine in ("admin", "super-admin") or who.is_site_admin, roles=ROLES, error=error)


@router.get("/organizations/{org}/members", include_in_schema=False)
async def members(request: Request, org: str):
    return await _members_page(request, org, await access.signed_in(request))


@router.post("/organizations/{org}/members", include_in_schema=False)
async def change_members(request: Request, org: str):
    form = await request.form()
    who = await access.signed_in(request, form)
    c = access.clients(request)
    action, username = str(form.get("action", "")), str(form.get("username", "")).strip()[:100]
    try:
        if action == "remove":
            await call(c.auth.RemoveOrgMember,
                       auth_pb2.RemoveOrgMemberRequest(principal=who, org=org, username=username))
            if username == who.username:
                return pages.redirect(f"/{pages.url_segment(org)}")
        elif action in ("add", "role"):
            await call(c.auth.SetOrgMember, auth_pb2.SetOrgMemberRequest(
                principal=who, org=org, username=username, role=str(form.get("role", "member")),
                must_be_new=action == "add", must_exist=action == "role"))
        else:
            raise errors.BadRequest("Unknown action")
    except errors.HangarError as exc:
        if exc.status >= 500 or exc.code == "CSRFTokenInvalid":
            raise
        return await _members_page(request, org, who, exc.status, exc.message)
    return pages.redirect(f"/organizations/{pages.url_segment(org)}/members")

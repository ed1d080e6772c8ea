"""Organizations and their members over gRPC (auth.proto); the rules live in orgs.py."""
from __future__ import annotations

from hangar_common.callers import writer_id
from hangar_common.errors import Conflict, NotFound
from hangar_protos import auth_pb2

from . import accounts, names, orgs
from .rpc_base import ServicerBase, membership_pb


class OrgsRpc(ServicerBase):
    """Organizations: creation, members and roles, rename and delete."""

    async def CreateOrg(self, request, context):
        creator = writer_id(request.principal)
        name = names.account_name(request.name, "organization name")
        async with self.engine.begin() as conn:
            row = await orgs.create(conn, name=name, fullname=request.fullname[:200], creator_id=creator)
            await self.memberships.forget(creator)
        return orgs.org_info(row, num_members=1)

    async def GetOrg(self, request, context):
        async with self.engine.connect() as conn:
            row = await orgs.get(conn, request.name)
            return orgs.org_info(row, num_members=await orgs.count_members(conn, row.id))

    async def ListOrgMembers(self, request, context):
        limit = min(max(request.limit, 0) or orgs.DEFAULT_PAGE, 1000)
        async with self.engine.connect() as conn:
            org = await orgs.get(conn, request.org)
            rows = await orgs.members(conn, org.id, offset=max(request.offset, 0), limit=limit + 1)
        return auth_pb2.ListOrgMembersResponse(
            members=[auth_pb2.OrgMember(username=r.username, fullname=r.fullname or r.username, role=r.role,
                                        created_at=accounts.iso(r.created_at)) for r in rows[:limit]],
            has_more=len(rows) > limit)

    async def SetOrgMember(self, request, context):
        actor = writer_id(request.principal)
        new_role = orgs.canonical_role(request.role)
        async with self.engine.begin() as conn:
            org = await orgs.get(conn, request.org, lock=True)  # serializes changes to this org
            target = await self._user_named(conn, request.username)
            old_role = await orgs.role_of(conn, org.id, target.id)
            if request.must_be_new and old_role:
                raise Conflict(f"{target.name} is already a member of {org.name}", code="AlreadyMember")
            if request.must_exist and not old_role:
                raise NotFound(f"{target.name} is not a member of {org.name}", code="MemberNotFound")
            orgs.check_can_manage(await orgs.role_of(conn, org.id, actor), old_role, new_role,
                                  site_admin=request.principal.is_site_admin)
            await orgs.keep_a_super_admin(conn, org.id, old_role, new_role)
            row = await orgs.upsert_member(conn, org_id=org.id, user_id=target.id, role=new_role)
            await self.memberships.forget(target.id)
        return auth_pb2.OrgMember(username=target.name, fullname=target.fullname or target.name,
                                  role=row.role, created_at=accounts.iso(row.created_at))

    async def RemoveOrgMember(self, request, context):
        actor = writer_id(request.principal)
        async with self.engine.begin() as conn:
            org = await orgs.get(conn, request.org, lock=True)
            target = await self._user_named(conn, request.username)
            old_role = await orgs.role_of(conn, org.id, target.id)
            if not old_role:
                raise NotFound(f"{target.name} is not a member of {org.name}", code="MemberNotFound")
            if target.id != actor:  # leaving is always allowed (except for the last super-admin)
                orgs.check_can_manage(await orgs.role_of(conn, org.id, actor), old_role, "",
                                      site_admin=request.principal.is_site_admin)
            await orgs.keep_a_super_admin(conn, org.id, old_role, "")
            await orgs.delete_member(conn, org_id=org.id, user_id=target.id)
            await self.memberships.forget(target.id)
        return auth_pb2.Empty()

    async def ListUserOrgs(self, request, context):
        async with self.engine.connect() as conn:
            target = await self._user_named(conn, request.name)
            rows = await orgs.of_user(conn, target.id)
        return auth_pb2.ListUserOrgsResponse(orgs=[membership_pb(r) for r in rows])

    async def RenameOrg(self, request, context):
        writer_id(request.principal)
        new_name = names.account_name(request.new_name, "organization name")
        async with self.engine.begin() as conn:
            org = await orgs.get(conn, request.name, lock=True)
            await orgs.check_super_admin(conn, org, request.principal)
            row = await orgs.rename(conn, org.id, new_name)
            members = await orgs.member_ids(conn, org.id)
            await self._forget_all(members)
        return orgs.org_info(row, num_members=len(members))

    async def DeleteOrg(self, request, context):
        writer_id(request.principal)
        async with self.engine.begin() as conn:
            org = await orgs.get(conn, request.name, lock=True)
            await orgs.check_super_admin(conn, org, request.principal)
            members = await orgs.member_ids(conn, org.id)
            await orgs.delete(conn, org.id)
            await self._forget_all(members)
        return auth_pb2.Empty()

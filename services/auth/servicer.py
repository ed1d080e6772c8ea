"""gRPC surface of the auth service (protos/hangar_protos/auth.proto): authentication, the
authorization decision, and accounts, sessions and access tokens."""
from __future__ import annotations


import json

from sqlalchemy import text

from hangar_common.errors import BadRequest, Conflict, Forbidden, NotFound, Unauthorized
from hangar_common.grpcio import servicer_errors
from hangar_protos import auth_pb2, auth_pb2_grpc

from . import access_requests, accounts, names, orgs, policy, sessions, tokens
from .config import AuthSettings
from .credentials import csrf_token, digest, hash_password, new_access_token, new_session_secret, verify_password
from .memberships import Memberships
from .principals import Authenticator
from .throttle import LoginThrottle


def _user_id(principal) -> int:
    if principal.anonymous or not principal.user_id:
        raise Unauthorized("You must be authenticated to do this")
    return int(principal.user_id)


def _writer_id(principal) -> int:
    """The caller's user id for a change; read tokens never change anything."""
    user_id = _user_id(principal)
    if principal.token_role == "read":
        raise Forbidden("This action needs a token with the write role; this one is read-only")
    return user_id


def _settings_patch(raw: str) -> dict:
    if not raw:
        return {}
    try:
        patch = json.loads(raw)
    except ValueError:
        raise BadRequest("Settings must be a JSON object", code="InvalidSettings") from None
    if not isinstance(patch, dict) or len(raw) > 16 * 1024:
        raise BadRequest("Settings must be a JSON object of at most 16 KiB", code="InvalidSettings")
    return patch


def _id(value: str, what: str) -> int:
    if not value.isdigit() or len(value) > 18:
        raise NotFound(f"{what} not found")
    return int(value)


def _membership(row) -> auth_pb2.OrgMembership:
    return auth_pb2.OrgMembership(name=row.name, fullname=row.fullname or row.name, role=row.role)


def _account_info(row, kind: str) -> auth_pb2.AccountInfo:
    return auth_pb2.AccountInfo(kind=kind, id=str(row.id), name=row.name, fullname=row.fullname or row.name,
                                created_at=accounts.iso(row.created_at), settings_json=json.dumps(row.settings or {}))


class AuthServicer(auth_pb2_grpc.AuthServicer):
    def __init__(self, resources, auth_settings: AuthSettings | None = None) -> None:
        self.resources = resources
        self.settings = resources.settings
        self.config = auth_settings or AuthSettings.from_env()

    # Built lazily: the engine and Redis exist only once the lifespan opened them.
    @property
    def engine(self):
        return self.resources.engine

    @property
    def authenticator(self) -> Authenticator:
        return Authenticator(self.engine, self.resources.redis, self.settings.secret_key,
                             self.config.principal_cache_ttl)

    @property
    def memberships(self) -> Memberships:
        return Memberships(self.engine, self.resources.redis)

    @property
    def throttle(self) -> LoginThrottle:
        c = self.config
        return LoginThrottle(self.resources.redis, window=c.login_window,
                             per_account=c.login_max_per_account, per_address=c.login_max_per_address)

    # --- authentication and authorization -------------------------------------------------------

    @servicer_errors
    async def Authenticate(self, request, context):
        return await self.authenticator.authenticate(
            authorization=request.authorization, session_cookie=request.session_cookie,
            csrf=request.csrf_token, http_method=request.http_method)

    @servicer_errors
    async def Authorize(self, request, context):
        principal, facts = request.principal, request.repo
        role = await self.memberships.role_in(principal.user_id, facts.repo.namespace)
        granted = False
        if request.action == "download" and facts.gated and principal.user_id and not role:
            granted = await self._access_granted(facts.repo_id, int(principal.user_id))
        decision = policy.decide(principal, facts, request.action, org_role=role, access_granted=granted)
        return auth_pb2.AuthorizeResponse(allowed=decision.allowed, error_code=decision.error_code,
                                          message=decision.message)

    @servicer_errors
    async def AuthorizeNamespace(self, request, context):
        principal = request.principal
        role = await self.memberships.role_in(principal.user_id, request.namespace)
        decision = policy.decide_namespace(principal, request.namespace, request.action, org_role=role)
        return auth_pb2.AuthorizeResponse(allowed=decision.allowed, error_code=decision.error_code,
                                          message=decision.message)

    async def _access_granted(self, repo_id: str, user_id: int) -> bool:
        async with self.engine.connect() as conn:
            return await access_requests.is_accepted(conn, repo_id=repo_id, user_id=user_id)

    async def _require(self, principal, facts, action: str) -> None:
        """Raise unless `principal` may do `action` on the repo (as Authorize would answer)."""
        role = await self.memberships.role_in(principal.user_id, facts.repo.namespace)
        decision = policy.decide(principal, facts, action, org_role=role)
        if not decision.allowed:
            code = decision.error_code
            if code == "Forbidden":
                raise Forbidden(decision.message)
            if code == "Unauthorized":
                raise Unauthorized(decision.message)
            raise NotFound(decision.message, code=code)

    # --- accounts and sessions ------------------------------------------------------------------

    @servicer_errors
    async def Register(self, request, context):
        if not self.settings.registration_enabled:
            raise Forbidden("Registration is disabled on this hub", code="RegistrationDisabled")
        username = names.account_name(request.username)
        email = names.email(request.email)
        password_hash = await hash_password(names.password(request.password))
        async with self.engine.begin() as conn:
            row = await accounts.create_user(conn, username=username, email=email,
                                             password_hash=password_hash, fullname=request.fullname[:200])
        return accounts.user_info(row)

    @servicer_errors
    async def Login(self, request, context):
        login, address = request.username.strip()[:254], request.client_address
        async with self.engine.connect() as conn:
            row = await accounts.find_login(conn, login) if login else None
        # Count per account whether it was named by username or by email.
        account, throttle = (row.name if row else login), self.throttle
        await throttle.check(account, address)
        if not await verify_password(row.password_hash if row else None, request.password):
            await throttle.failed(account, address)
            raise Unauthorized("Invalid username or password", code="InvalidCredentials")
        await throttle.succeeded(account)
        secret = new_session_secret()
        async with self.engine.begin() as conn:
            await sessions.insert(conn, user_id=row.id, digest=digest(self.settings.secret_key, secret),
                                  max_age=self.config.session_max_age)
        return auth_pb2.LoginResponse(user=accounts.user_info(row), session_token=secret,
                                      csrf_token=csrf_token(self.settings.secret_key, secret),
                                      max_age=self.config.session_max_age)

    @servicer_errors
    async def Logout(self, request, context):
        if request.session_cookie:
            session_digest = digest(self.settings.secret_key, request.session_cookie)
            async with self.engine.begin() as conn:
                await sessions.delete(conn, session_digest)
            await self.authenticator.forget("session", session_digest)
        return auth_pb2.Empty()

    @servicer_errors
    async def WhoAmI(self, request, context):
        user_id = _user_id(request.principal)
        async with self.engine.connect() as conn:
            row = await accounts.get_user(conn, user_id)
            if row is None:
                raise Unauthorized("Invalid credentials in Authorization header")
            memberships = await orgs.of_user(conn, user_id)
            token = None
            if request.principal.token_id:
                token = await tokens.get_active(conn, int(request.principal.token_id))
        return auth_pb2.WhoAmIResponse(
            user=accounts.user_info(row),
            orgs=[_membership(o) for o in memberships],
            token=tokens.token_info(token) if token else None)

    # --- access tokens --------------------------------------------------------------------------

    @servicer_errors
    async def CreateToken(self, request, context):
        user_id = _user_id(request.principal)
        if request.principal.token_role == "read":
            raise Forbidden("A read token cannot create tokens")
        name, role = names.token_name(request.name), names.token_role(request.role or "read")
        token = new_access_token()
        async with self.engine.begin() as conn:
            row = await tokens.insert(conn, user_id=user_id, name=name, role=role,
                                      digest=digest(self.settings.secret_key, token))
        return auth_pb2.CreateTokenResponse(info=tokens.token_info(row), token=token)

    @servicer_errors
    async def ListTokens(self, request, context):
        user_id = _user_id(request.principal)
        async with self.engine.connect() as conn:
            rows = await tokens.list_active(conn, user_id)
        return auth_pb2.ListTokensResponse(tokens=[tokens.token_info(r) for r in rows])

    @servicer_errors
    async def RevokeToken(self, request, context):
        user_id = _user_id(request.principal)
        if request.principal.token_role == "read":
            raise Forbidden("A read token cannot revoke tokens")
        async with self.engine.begin() as conn:
            row = await tokens.revoke(conn, user_id=user_id, token_id=_id(request.token_id, "Token"))
        if row is None:
            raise NotFound("Token not found", code="TokenNotFound")
        await self.authenticator.forget("token", bytes(row.digest))
        return auth_pb2.Empty()

    # --- organizations --------------------------------------------------------------------------

    @servicer_errors
    async def CreateOrg(self, request, context):
        creator = _writer_id(request.principal)
        name = names.account_name(request.name, "organization name")
        async with self.engine.begin() as conn:
            row = await orgs.create(conn, name=name, fullname=request.fullname[:200], creator_id=creator)
        await self.memberships.forget(creator)
        return orgs.org_info(row, num_members=1)

    @servicer_errors
    async def GetOrg(self, request, context):
        async with self.engine.connect() as conn:
            row = await orgs.get(conn, request.name)
            return orgs.org_info(row, num_members=await orgs.count_members(conn, row.id))

    @servicer_errors
    async def ListOrgMembers(self, request, context):
        limit = min(request.limit or orgs.DEFAULT_PAGE, 1000)
        async with self.engine.connect() as conn:
            org = await orgs.get(conn, request.org)
            rows = await orgs.members(conn, org.id, offset=max(request.offset, 0), limit=limit + 1)
        return auth_pb2.ListOrgMembersResponse(
            members=[auth_pb2.OrgMember(username=r.username, fullname=r.fullname or r.username, role=r.role,
                                        created_at=accounts.iso(r.created_at)) for r in rows[:limit]],
            has_more=len(rows) > limit)

    @servicer_errors
    async def SetOrgMember(self, request, context):
        actor = _writer_id(request.principal)
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

    @servicer_errors
    async def RemoveOrgMember(self, request, context):
        actor = _writer_id(request.principal)
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

    @servicer_errors
    async def ListUserOrgs(self, request, context):
        async with self.engine.connect() as conn:
            target = await self._user_named(conn, request.name)
            rows = await orgs.of_user(conn, target.id)
        return auth_pb2.ListUserOrgsResponse(orgs=[_membership(r) for r in rows])

    @servicer_errors
    async def GetAccount(self, request, context):
        async with self.engine.connect() as conn:
            row = (await conn.execute(text(
                "SELECT id, kind, name, fullname, settings, created_at FROM accounts WHERE lower(name) = lower(:name)"),
                {"name": request.name})).first()
        if row is None:
            raise NotFound(f"{request.name} not found", code="AccountNotFound")
        return _account_info(row, row.kind)

    @servicer_errors
    async def UpdateSettings(self, request, context):
        actor = _writer_id(request.principal)
        patch = _settings_patch(request.settings_json)
        fullname = request.fullname[:200] if request.HasField("fullname") else None
        async with self.engine.begin() as conn:
            if request.kind == "org":
                account = await orgs.get(conn, request.name, lock=True)
                if not request.principal.is_site_admin and \
                        policy.rank(await orgs.role_of(conn, account.id, actor)) < policy.rank("admin"):
                    raise Forbidden("Only the organization's admins can change its settings")
            else:
                account = await self._user_named(conn, request.name)
                if account.id != actor and not request.principal.is_site_admin:
                    raise Forbidden("You can only change your own settings")
            row = (await conn.execute(text(
                "UPDATE accounts SET settings = settings || CAST(:patch AS jsonb), "
                "fullname = COALESCE(:fullname, fullname) WHERE id = :id "
                "RETURNING id, name, fullname, settings, created_at"),
                {"patch": json.dumps(patch), "fullname": fullname, "id": account.id})).one()
        return _account_info(row, request.kind or "user")

    @servicer_errors
    async def RenameOrg(self, request, context):
        _writer_id(request.principal)
        new_name = names.account_name(request.new_name, "organization name")
        async with self.engine.begin() as conn:
            org = await orgs.get(conn, request.name, lock=True)
            await orgs.check_super_admin(conn, org, request.principal)
            row = await orgs.rename(conn, org.id, new_name)
            members = await orgs.member_ids(conn, org.id)
        await self._forget_all(members)
        return orgs.org_info(row, num_members=len(members))

    @servicer_errors
    async def DeleteOrg(self, request, context):
        _writer_id(request.principal)
        async with self.engine.begin() as conn:
            org = await orgs.get(conn, request.name, lock=True)
            await orgs.check_super_admin(conn, org, request.principal)
            members = await orgs.member_ids(conn, org.id)
            await orgs.delete(conn, org.id)
        await self._forget_all(members)
        return auth_pb2.Empty()

    async def _forget_all(self, user_ids) -> None:
        memberships = self.memberships
        for user_id in user_ids:
            await memberships.forget(user_id)

    @staticmethod
    async def _user_named(conn, name: str):
        row = await accounts.get_user_by_name(conn, name)
        if row is None:
            raise NotFound(f"User {name} not found", code="UserNotFound")
        return row

    # --- gated repos ----------------------------------------------------------------------------

    @servicer_errors
    async def RequestAccess(self, request, context):
        user_id = _user_id(request.principal)
        facts = request.repo
        await self._require(request.principal, facts, "read")
        if not facts.gated:
            raise BadRequest("This repository is not gated", code="RepoNotGated")
        fields = _settings_patch(request.fields_json)
        initial = "accepted" if facts.gated == "auto" else "pending"
        async with self.engine.begin() as conn:
            row = await access_requests.ask(conn, repo_id=facts.repo_id, user_id=user_id, initial=initial,
                                            fields=fields)
        return access_requests.info(row)

    @servicer_errors
    async def ListAccessRequests(self, request, context):
        await self._require(request.principal, request.repo, "write")
        wanted, limit = access_requests.status(request.status), min(request.limit or 500, 1000)
        async with self.engine.connect() as conn:
            rows = await access_requests.listing(conn, repo_id=request.repo.repo_id, wanted=wanted,
                                                 offset=max(request.offset, 0), limit=limit + 1)
        return auth_pb2.ListAccessRequestsResponse(requests=[access_requests.info(r) for r in rows[:limit]],
                                                   has_more=len(rows) > limit)

    @servicer_errors
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
            if request.grant and await access_requests.is_accepted(conn, repo_id=facts.repo_id, user_id=user_id):
                raise BadRequest("This user already has access to the repository", code="AlreadyGranted")
            row = await access_requests.set_status(conn, repo_id=facts.repo_id, user_id=user_id, new=new,
                                                   reason=request.reason[:1000])
        return access_requests.info(row)

    async def _request_user(self, conn, repo_id: str, request) -> int:
        """The user a handle/grant call is about: named directly, or by the id of their request."""
        if request.username:
            return (await self._user_named(conn, request.username)).id
        row = await access_requests.get(conn, repo_id=repo_id, request_id=_id(request.request_id, "Access request"))
        if row is None or request.grant:
            raise NotFound("Access request not found", code="AccessRequestNotFound")
        return row.user_id

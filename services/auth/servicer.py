"""gRPC surface of the auth service (protos/hangar_protos/auth.proto): authentication, the
authorization decision, and accounts, sessions and access tokens."""
from __future__ import annotations


from sqlalchemy import text

from hangar_common.errors import Forbidden, NotFound, Unauthorized
from hangar_common.grpcio import servicer_errors
from hangar_protos import auth_pb2, auth_pb2_grpc

from . import accounts, names, policy, sessions, tokens
from .config import AuthSettings
from .credentials import csrf_token, digest, hash_password, new_access_token, new_session_secret, verify_password
from .memberships import Memberships
from .principals import Authenticator
from .throttle import LoginThrottle


def _user_id(principal) -> int:
    if principal.anonymous or not principal.user_id:
        raise Unauthorized("You must be authenticated to do this")
    return int(principal.user_id)


def _id(value: str, what: str) -> int:
    if not value.isdigit() or len(value) > 18:
        raise NotFound(f"{what} not found")
    return int(value)


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
            status = (await conn.execute(text(
                "SELECT status FROM access_requests WHERE repo_id = :repo AND user_id = :user"),
                {"repo": repo_id, "user": user_id})).scalar()
        return status == "accepted"

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
            orgs = await conn.execute(text(
                "SELECT o.name, o.fullname, m.role FROM org_members m JOIN accounts o ON o.id = m.org_id "
                "WHERE m.user_id = :user_id ORDER BY lower(o.name)"), {"user_id": user_id})
            token = None
            if request.principal.token_id:
                token = await tokens.get_active(conn, int(request.principal.token_id))
        return auth_pb2.WhoAmIResponse(
            user=accounts.user_info(row),
            orgs=[auth_pb2.OrgMembership(name=o.name, fullname=o.fullname, role=o.role) for o in orgs],
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

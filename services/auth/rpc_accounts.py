"""Accounts, login sessions, access tokens and settings over gRPC (auth.proto)."""
from __future__ import annotations

import json

from sqlalchemy import text

from hangar_common.callers import caller_id, writer_id
from hangar_common.errors import Forbidden, NotFound, Unauthorized
from hangar_protos import auth_pb2

from . import accounts, names, orgs, policy, sessions, tokens, upstream_tokens
from .credentials import csrf_token, digest, hash_password, new_access_token, new_session_secret, verify_password
from .rpc_base import ServicerBase, account_pb, membership_pb, parse_id, settings_patch


class AccountsRpc(ServicerBase):
    """Users: registration, password login, sessions, tokens, settings."""

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

    async def Logout(self, request, context):
        if request.session_cookie:
            session_digest = digest(self.settings.secret_key, request.session_cookie)
            async with self.engine.begin() as conn:
                await sessions.delete(conn, session_digest)
                await self.authenticator.forget("session", session_digest)
        return auth_pb2.Empty()

    async def ChangePassword(self, request, context):
        user_id = writer_id(request.principal)
        new_hash = await hash_password(names.password(request.new_password))
        async with self.engine.connect() as conn:
            row = await accounts.get_user(conn, user_id)
        throttle = self.throttle
        await throttle.check(row.name, "")
        if row.password_hash is not None and not await verify_password(row.password_hash, request.current_password):
            await throttle.failed(row.name, "")
            raise Forbidden("The current password is wrong", code="InvalidCredentials")
        keep = digest(self.settings.secret_key, request.session_cookie) if request.session_cookie else None
        async with self.engine.begin() as conn:
            await accounts.set_password(conn, user_id, new_hash)
            ended = await sessions.delete_others(conn, user_id=user_id, keep=keep)
            for session_digest in ended:
                await self.authenticator.forget("session", session_digest)
        return auth_pb2.Empty()

    async def WhoAmI(self, request, context):
        user_id = caller_id(request.principal)
        async with self.engine.connect() as conn:
            row = await accounts.get_user(conn, user_id)
            if row is None:
                raise Unauthorized("Invalid credentials in Authorization header")
            memberships = await orgs.of_user(conn, user_id)
            token = None
            if request.principal.token_id.isdigit():
                token = await tokens.get_active(conn, int(request.principal.token_id))
        return auth_pb2.WhoAmIResponse(
            user=accounts.user_info(row),
            orgs=[membership_pb(o) for o in memberships],
            token=tokens.token_info(token) if token else None)

    async def CreateToken(self, request, context):
        user_id = caller_id(request.principal)
        if request.principal.token_role == "read":
            raise Forbidden("A read token cannot create tokens")
        name, role = names.token_name(request.name), names.token_role(request.role or "read")
        token = new_access_token()
        async with self.engine.begin() as conn:
            row = await tokens.insert(conn, user_id=user_id, name=name, role=role,
                                      digest=digest(self.settings.secret_key, token))
        return auth_pb2.CreateTokenResponse(info=tokens.token_info(row), token=token)

    async def ListTokens(self, request, context):
        user_id = caller_id(request.principal)
        async with self.engine.connect() as conn:
            rows = await tokens.list_active(conn, user_id)
        return auth_pb2.ListTokensResponse(tokens=[tokens.token_info(r) for r in rows])

    async def RevokeToken(self, request, context):
        user_id = caller_id(request.principal)
        if request.principal.token_role == "read":
            raise Forbidden("A read token cannot revoke tokens")
        async with self.engine.begin() as conn:
            row = await tokens.revoke(conn, user_id=user_id, token_id=parse_id(request.token_id, "Token"))
            if row is None:
                raise NotFound("Token not found", code="TokenNotFound")
            await self.authenticator.forget("token", bytes(row.digest))
        return auth_pb2.Empty()

    async def TokenActive(self, request, context):
        if not (request.token_id.isdigit() and request.user_id.isdigit()):
            return auth_pb2.TokenActiveResponse(active=False)
        async with self.engine.connect() as conn:
            row = await tokens.get_active(conn, int(request.token_id))
        return auth_pb2.TokenActiveResponse(active=row is not None and str(row.user_id) == request.user_id)

    async def GetAccount(self, request, context):
        async with self.engine.connect() as conn:
            row = (await conn.execute(text(
                "SELECT id, kind, name, fullname, settings, created_at FROM accounts WHERE lower(name) = lower(:name)"),
                {"name": request.name})).first()
        if row is None:
            raise NotFound(f"{request.name} not found", code="AccountNotFound")
        return account_pb(row, row.kind)

    async def UpdateSettings(self, request, context):
        actor = writer_id(request.principal)
        patch = settings_patch(request.settings_json)
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
        return account_pb(row, request.kind or "user")

    # --- the user's upstream Hub token (upstream_tokens.py) -----------------------------------

    async def SetUpstreamToken(self, request, context):
        user_id = writer_id(request.principal)
        token = upstream_tokens.check(request.token)
        if not token:
            await self.upstream_tokens.unlink(user_id)
            return auth_pb2.UpstreamTokenStatus(linked=False)
        return auth_pb2.UpstreamTokenStatus(**await self.upstream_tokens.link(user_id, token))

    async def GetUpstreamTokenStatus(self, request, context):
        return auth_pb2.UpstreamTokenStatus(**await self.upstream_tokens.status(caller_id(request.principal)))

    async def UpstreamToken(self, request, context):
        if not request.user_id.isdigit():
            return auth_pb2.UpstreamTokenSecret()
        token, linked_at = await self.upstream_tokens.reveal(int(request.user_id))
        return auth_pb2.UpstreamTokenSecret(token=token, linked_at=linked_at)

"""Identity routes: accounts, login sessions, access tokens (issue 5) and the Hub's `whoami-v2`,
whose shape huggingface_hub's `whoami()` and `hf auth login` read (`name`, `orgs[].name`,
`auth.accessToken.displayName` / `.role`)."""
from __future__ import annotations

from fastapi import APIRouter, Request, Response

from hangar_common.errors import HangarError
from hangar_common.grpcio import call
from hangar_protos import auth_pb2

from ..bodies import Body
from ..deps import (
    CSRF_COOKIE,
    SESSION_COOKIE,
    AppSettings,
    CurrentPrincipal,
    CurrentUser,
    Services,
    client_address,
    current_principal,
)
from ..identity_shapes import token_json, upstream_token_json, user_json, whoami_json

router = APIRouter()


class RegisterBody(Body):
    username: str
    email: str
    password: str
    fullname: str = ""


class LoginBody(Body):
    username: str
    password: str


class PasswordBody(Body):
    currentPassword: str = ""
    newPassword: str


class TokenBody(Body):
    name: str
    role: str = "read"


@router.post("/api/auth/register", status_code=201)
async def register(body: RegisterBody, services: Services) -> dict:
    user = await call(services.auth.Register, auth_pb2.RegisterRequest(
        username=body.username, email=body.email, password=body.password, fullname=body.fullname))
    return user_json(user)


@router.post("/api/auth/login")
async def login(body: LoginBody, request: Request, response: Response, services: Services,
                settings: AppSettings) -> dict:
    """Password login: sets the HttpOnly session cookie and the script-readable CSRF cookie."""
    answer = await call(services.auth.Login, auth_pb2.LoginRequest(
        username=body.username, password=body.password, client_address=client_address(request)))
    secure = request.url.scheme == "https" or str(settings.public_url).startswith("https:")
    response.set_cookie(SESSION_COOKIE, answer.session_token, max_age=answer.max_age, path="/",
                        httponly=True, samesite="lax", secure=secure)
    response.set_cookie(CSRF_COOKIE, answer.csrf_token, max_age=answer.max_age, path="/",
                        httponly=False, samesite="lax", secure=secure)
    return {**user_json(answer.user), "csrfToken": answer.csrf_token}


@router.post("/api/auth/logout")
async def logout(request: Request, response: Response, services: Services) -> dict:
    """Ends the session (cookie-authenticated, so it needs the CSRF header like any write)."""
    cookie = request.cookies.get(SESSION_COOKIE, "")
    if cookie:
        try:
            await current_principal(request)
        except HangarError as exc:
            if exc.code == "CSRFTokenInvalid":
                raise
            cookie = ""  # already expired or revoked: nothing to end, just clear the cookies
    if cookie:
        await call(services.auth.Logout, auth_pb2.LogoutRequest(session_cookie=cookie))
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="lax")
    response.delete_cookie(CSRF_COOKIE, path="/", samesite="lax")
    return {"ok": True}


@router.get("/api/auth/me")
async def me(principal: CurrentUser, services: Services) -> dict:
    who = await call(services.auth.WhoAmI, auth_pb2.PrincipalRequest(principal=principal))
    return user_json(who.user, orgs=who.orgs)


@router.post("/api/auth/password")
async def change_password(body: PasswordBody, request: Request, principal: CurrentUser, services: Services) -> dict:
    """Ends the user's other sessions; the one making the change stays signed in."""
    await call(services.auth.ChangePassword, auth_pb2.ChangePasswordRequest(
        principal=principal, current_password=body.currentPassword, new_password=body.newPassword,
        session_cookie=request.cookies.get(SESSION_COOKIE, "") if not principal.token_id else ""))
    return {"ok": True}


@router.get("/api/auth/tokens")
async def list_tokens(principal: CurrentUser, services: Services) -> list:
    answer = await call(services.auth.ListTokens, auth_pb2.PrincipalRequest(principal=principal))
    return [token_json(t) for t in answer.tokens]


@router.post("/api/auth/tokens/create", status_code=201)
async def create_token(body: TokenBody, principal: CurrentUser, services: Services) -> dict:
    """Answers the token once (only its digest is kept) and its id."""
    answer = await call(services.auth.CreateToken, auth_pb2.CreateTokenRequest(
        principal=principal, name=body.name, role=body.role))
    return {**token_json(answer.info), "token": answer.token}


@router.delete("/api/auth/tokens/{token_id}")
async def revoke_token(token_id: str, principal: CurrentUser, services: Services) -> dict:
    await call(services.auth.RevokeToken, auth_pb2.RevokeTokenRequest(principal=principal, token_id=token_id))
    return {"ok": True}


class UpstreamTokenBody(Body):
    token: str


@router.get("/api/settings/upstream-token")
async def upstream_token_status(principal: CurrentUser, services: Services) -> dict:
    """Whether the caller linked a token for the upstream Hub (the token itself is never shown)."""
    return upstream_token_json(await call(services.auth.GetUpstreamTokenStatus,
                                           auth_pb2.PrincipalRequest(principal=principal)))


@router.put("/api/settings/upstream-token")
async def link_upstream_token(body: UpstreamTokenBody, principal: CurrentUser, services: Services) -> dict:
    """Links (or replaces) the caller's upstream token: the mirror reads gated and private upstream
    repos with it, for this user only (docs/mirror.md "Access")."""
    if not body.token.strip():
        raise HangarError("token must not be empty (DELETE unlinks)", code="InvalidUpstreamToken", status=400)
    return upstream_token_json(await call(services.auth.SetUpstreamToken, auth_pb2.SetUpstreamTokenRequest(
        principal=principal, token=body.token)))


@router.delete("/api/settings/upstream-token")
async def unlink_upstream_token(principal: CurrentUser, services: Services) -> dict:
    return upstream_token_json(await call(services.auth.SetUpstreamToken, auth_pb2.SetUpstreamTokenRequest(
        principal=principal, token="")))


@router.get("/api/whoami-v2")
async def whoami(principal: CurrentPrincipal, services: Services) -> dict:
    if principal.anonymous:
        raise HangarError("Invalid credentials in Authorization header", code="Unauthorized", status=401)
    who = await call(services.auth.WhoAmI, auth_pb2.PrincipalRequest(principal=principal))
    return whoami_json(who, session=not principal.token_id)

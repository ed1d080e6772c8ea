"""Accounts: `/login`, `/join` (when registration is on), `/logout`, `/settings/tokens` (which also
links the user's upstream Hub token, issue 18), `/settings/account`. Login sets the same cookies as
the API's `/api/auth/login` (HttpOnly session, script-readable CSRF token bound to it), so a browser
signed in here is signed in for the API's cookie-authenticated calls too. Login and join forms, made
before a session exists, carry a pre-session double-submit token (pages.FORM_COOKIE)."""
from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request

from hangar_common import errors
from hangar_common.grpcio import call
from hangar_protos import auth_pb2

from .. import access, pages

router = APIRouter()


def _next(value: str) -> str:
    """Only a path on this site (never `//host` or a scheme)."""
    if value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return "/"


def _set_session(request: Request, response, answer: auth_pb2.LoginResponse) -> None:
    secure = request.app.state.settings.public_url.startswith("https:") or request.url.scheme == "https"
    response.set_cookie(access.SESSION_COOKIE, answer.session_token, max_age=answer.max_age, path="/",
                        httponly=True, samesite="lax", secure=secure)
    response.set_cookie(access.CSRF_COOKIE, answer.csrf_token, max_age=answer.max_age, path="/",
                        httponly=False, samesite="lax", secure=secure)


async def _login(request: Request, username: str, password: str, target: str):
    answer = await call(access.clients(request).auth.Login, auth_pb2.LoginRequest(
        username=username, password=password, client_address=request.client.host if request.client else ""))
    response = pages.redirect(_next(target))
    _set_session(request, response, answer)
    return response


@router.get("/login", include_in_schema=False)
async def login_form(request: Request):
    if not (await access.principal(request)).anonymous:
        return pages.redirect(_next(request.query_params.get("next", "/")))
    pages.ensure_form_token(request)
    return pages.render(request, "login.html", next=_next(request.query_params.get("next", "/")))


@router.post("/login", include_in_schema=False)
async def login(request: Request):
    form = await request.form()
    target = _next(str(form.get("next", "/")))
    if not pages.check_form_token(request, form):
        pages.ensure_form_token(request)
        return pages.render(request, "login.html", status=403, next=target, error="The form expired: try again.")
    try:
        return await _login(request, str(form.get("username", "")).strip(), str(form.get("password", "")), target)
    except errors.HangarError as exc:
        if exc.status >= 500:
            raise
        message = "Too many attempts: wait a few minutes." if exc.status == 429 else "Wrong username or password."
        return pages.render(request, "login.html", status=exc.status if exc.status == 429 else 401,
                            next=target, error=message, username=str(form.get("username", ""))[:100])


@router.get("/join", include_in_schema=False)
async def join_form(request: Request):
    if not request.app.state.settings.registration_enabled:
        raise access.PageNotFound("Registration is closed")
    pages.ensure_form_token(request)
    await access.principal(request)
    return pages.render(request, "join.html", values={})


@router.post("/join", include_in_schema=False)
async def join(request: Request):
    if not request.app.state.settings.registration_enabled:
        raise access.PageNotFound("Registration is closed")
    form = await request.form()
    values = {k: str(form.get(k, "")).strip()[:200] for k in ("username", "email", "fullname")}
    if not pages.check_form_token(request, form):
        pages.ensure_form_token(request)
        return pages.render(request, "join.html", status=403, values=values, error="The form expired: try again.")
    password = str(form.get("password", ""))
    try:
        await call(access.clients(request).auth.Register, auth_pb2.RegisterRequest(
            username=values["username"], email=values["email"], password=password, fullname=values["fullname"]))
    except errors.HangarError as exc:
        if exc.status >= 500:
            raise
        return pages.render(request, "join.html", status=exc.status, values=values, error=exc.message)
    return await _login(request, values["username"], password, "/settings/tokens?welcome=1")


@router.post("/logout", include_in_schema=False)
async def logout(request: Request):
    form = await request.form()
    cookie = request.cookies.get(access.SESSION_COOKIE, "")
    if cookie:
        await access.signed_in(request, form)  # auth checks the form's CSRF token against the session
        await call(access.clients(request).auth.Logout, auth_pb2.LogoutRequest(session_cookie=cookie))
    response = pages.redirect("/")
    response.delete_cookie(access.SESSION_COOKIE, path="/", httponly=True, samesite="lax")
    response.delete_cookie(access.CSRF_COOKIE, path="/", samesite="lax")
    return response


# --- tokens ----------------------------------------------------------------------------------------

async def _tokens_page(request: Request, who, status: int = 200, **extra):
    auth = access.clients(request).auth
    tokens = await call(auth.ListTokens, auth_pb2.PrincipalRequest(principal=who))
    # The upstream Hub token the mirror reads gated/private upstream repos with (docs/mirror.md).
    upstream = await call(auth.GetUpstreamTokenStatus, auth_pb2.PrincipalRequest(principal=who)) \
        if request.app.state.settings.mirror_target else None
    return pages.render(request, "settings_tokens.html", status=status, tokens=tokens.tokens, upstream=upstream,
                        welcome=request.query_params.get("welcome") == "1", section="tokens", **extra)


@router.get("/settings/tokens", include_in_schema=False)
async def tokens(request: Request):
    return await _tokens_page(request, await access.signed_in(request))


@router.post("/settings/tokens", include_in_schema=False)
async def create_token(request: Request):
    form = await request.form()
    who = await access.signed_in(request, form)
    name, role = str(form.get("name", "")).strip()[:100], str(form.get("role", "read"))
    try:
        created = await call(access.clients(request).auth.CreateToken, auth_pb2.CreateTokenRequest(
            principal=who, name=name, role=role))
    except errors.HangarError as exc:
        if exc.status >= 500:
            raise
        return await _tokens_page(request, who, exc.status, error=exc.message)
    # Shown once: only its digest is stored. The page is not cached.
    return await _tokens_page(request, who, created=created)


@router.post("/settings/tokens/{token_id}/revoke", include_in_schema=False)
async def revoke_token(request: Request, token_id: str):
    form = await request.form()
    who = await access.signed_in(request, form)
    await call(access.clients(request).auth.RevokeToken, auth_pb2.RevokeTokenRequest(principal=who, token_id=token_id))
    return pages.redirect("/settings/tokens")


@router.post("/settings/tokens/upstream", include_in_schema=False)
async def link_upstream_token(request: Request):
    form = await request.form()
    who = await access.signed_in(request, form)
    token = str(form.get("token", ""))
    try:
        if not token.strip():
            raise errors.BadRequest("Paste the token to link", code="InvalidUpstreamToken")
        await call(access.clients(request).auth.SetUpstreamToken, auth_pb2.SetUpstreamTokenRequest(
            principal=who, token=token))
    except errors.HangarError as exc:
        if exc.status >= 500:
            raise
        return await _tokens_page(request, who, exc.status, upstream_error=exc.message)
    return pages.redirect("/settings/tokens")


@router.post("/settings/tokens/upstream/unlink", include_in_schema=False)
async def unlink_upstream_token(request: Request):
    form = await request.form()
    who = await access.signed_in(request, form)
    await call(access.clients(request).auth.SetUpstreamToken, auth_pb2.SetUpstreamTokenRequest(principal=who))
    return pages.redirect("/settings/tokens")


# --- account ---------------------------------------------------------------------------------------

@router.get("/settings", include_in_schema=False)
async def settings_root(request: Request):
    return pages.redirect("/settings/account")


@router.get("/settings/account", include_in_schema=False)
async def account(request: Request):
    who = await access.signed_in(request)
    me = await call(access.clients(request).auth.WhoAmI, auth_pb2.PrincipalRequest(principal=who))
    return pages.render(request, "settings_account.html", user=me.user, orgs=me.orgs, section="account",
                        saved=request.query_params.get("saved", ""))


@router.post("/settings/account", include_in_schema=False)
async def change_password(request: Request):
    form = await request.form()
    who = await access.signed_in(request, form)
    c = access.clients(request)
    try:
        if form.get("action") == "profile":
            await call(c.auth.UpdateSettings, auth_pb2.UpdateSettingsRequest(
                principal=who, kind="user", name=who.username, fullname=str(form.get("fullname", ""))[:100]))
            return pages.redirect("/settings/account?saved=profile")
        new = str(form.get("new_password", ""))
        if new != str(form.get("confirm_password", "")):
            raise errors.BadRequest("The two new passwords differ")
        await call(c.auth.ChangePassword, auth_pb2.ChangePasswordRequest(
            principal=who, current_password=str(form.get("current_password", "")), new_password=new,
            session_cookie=request.cookies.get(access.SESSION_COOKIE, "")))
    except errors.HangarError as exc:
        if exc.status >= 500:
            raise
        me = await call(c.auth.WhoAmI, auth_pb2.PrincipalRequest(principal=who))
        return pages.render(request, "settings_account.html", status=exc.status, user=me.user, orgs=me.orgs,
                            section="account", error=exc.message)
    return pages.redirect("/settings/account?saved=password")

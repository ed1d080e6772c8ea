"""Who is asking and what they may do, for pages: the same questions the gateway asks, answered by
the same auth decision (auth.proto Authenticate / Authorize / AuthorizeNamespace), refused by the
same rule (hangar_common.edge.refusal) rendered as pages: the 404 page, the sign-in redirect, the
access request form. The web service never decides access itself.

Pages are signed in by the session cookie the API's login sets (same origin, same cookie). A form
that changes something carries the session's CSRF token in a hidden field; auth checks it against
the session for every unsafe method, exactly as it checks the API's `X-CSRF-Token` header.
"""
from __future__ import annotations

import asyncio
from dataclasses import dataclass

from starlette.requests import Request

from hangar_common import edge, errors
from hangar_common.grpcio import call
from hangar_common.upstream_repos import get_repo, mirror_stub
from hangar_protos import (
    auth_pb2,
    auth_pb2_grpc,
    common_pb2,
    community_pb2_grpc,
    lfs_pb2_grpc,
    metadata_pb2,
    metadata_pb2_grpc,
)

SESSION_COOKIE = "hangar_session"
CSRF_COOKIE = "hangar_csrf"
CSRF_FIELD = "csrf_token"
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


class Clients:
    """gRPC stubs of the services pages read from; built once in the lifespan."""

    def __init__(self, channels: dict) -> None:
        self.auth = auth_pb2_grpc.AuthStub(channels["auth"])
        self.metadata = metadata_pb2_grpc.MetadataStub(channels["metadata"])
        self.lfs = lfs_pb2_grpc.LfsStub(channels["lfs"])
        self.community = community_pb2_grpc.CommunityStub(channels["community"])
        self.mirror = mirror_stub(channels.get("mirror"))   # None when no upstream mirror is deployed


def clients(request: Request) -> Clients:
    return request.app.state.clients


class PageNotFound(errors.NotFound):
    """Rendered as the 404 page: a missing repo, revision, file or route, and a private repo the
    visitor may not see (indistinguishable by design)."""


class SignInRequired(errors.Unauthorized):
    """Rendered as a redirect to /login?next=..."""


class PageMoved(errors.HangarError):
    """A renamed repository (or an upstream one the mirror recorded under its new name): its pages
    answer at the new name, the rest of the URL kept."""

    def __init__(self, repo: common_pb2.RepoRef) -> None:
        super().__init__("Repository moved", code="RepoMoved", status=301)
        self.repo = repo


class GatedContent(errors.Forbidden):
    """The visitor may see the repo but not its files: pages show the access request form."""

    def __init__(self, info: metadata_pb2.RepoInfo, message: str) -> None:
        super().__init__(message or "Access to this repository is restricted", code="GatedRepo")
        self.info = info


def form_csrf(request: Request, form=None) -> str:
    """The CSRF token a state change carries: a form field, or the header scripts send."""
    if form is not None and form.get(CSRF_FIELD):
        return str(form.get(CSRF_FIELD))
    return request.headers.get("x-csrf-token", "")


async def principal(request: Request, form=None) -> common_pb2.Principal:
    """The caller (anonymous without a session). For unsafe methods auth also checks the CSRF token
    of the session; a bad or expired session is anonymous for reading (its cookie is stale) but an
    error for writing."""
    cached = getattr(request.state, "principal", None)
    if cached is not None and (request.method in SAFE_METHODS or form is None):
        return cached
    cookie = request.cookies.get(SESSION_COOKIE, "")
    if not cookie:
        found = common_pb2.Principal(anonymous=True)
    else:
        try:
            found = await call(clients(request).auth.Authenticate, auth_pb2.AuthenticateRequest(
                session_cookie=cookie, client_address=request.client.host if request.client else "",
                csrf_token=form_csrf(request, form), http_method=request.method))
        except errors.Unauthorized:
            if request.method not in SAFE_METHODS:
                raise SignInRequired("Your session has ended: sign in again") from None
            found = common_pb2.Principal(anonymous=True)
    request.state.principal = found
    return found


async def reader(request: Request) -> common_pb2.Principal:
    """Who sends this request, without the CSRF check (not cached): lets a large form be refused
    before it is read; the CSRF token inside it is checked afterwards by `principal(request, form)`."""
    cookie = request.cookies.get(SESSION_COOKIE, "")
    if not cookie:
        raise SignInRequired("Sign in to continue")
    try:
        return await call(clients(request).auth.Authenticate, auth_pb2.AuthenticateRequest(
            session_cookie=cookie, client_address=request.client.host if request.client else "",
            http_method="GET"))
    except errors.Unauthorized:
        raise SignInRequired("Your session has ended: sign in again") from None


async def signed_in(request: Request, form=None) -> common_pb2.Principal:
    who = await principal(request, form)
    if who.anonymous:
        raise SignInRequired("Sign in to continue")
    return who


async def decide(request: Request, facts: common_pb2.RepoFacts, action: str,
                 who: common_pb2.Principal | None = None, owner_user_id: str = "") -> auth_pb2.AuthorizeResponse:
    who = who or await principal(request)
    return await call(clients(request).auth.Authorize, auth_pb2.AuthorizeRequest(
        principal=who, repo=facts, action=action, owner_user_id=owner_user_id))


@dataclass(frozen=True)
class OpenRepo:
    info: metadata_pb2.RepoInfo
    who: common_pb2.Principal
    can_download: bool
    can_write: bool
    can_admin: bool
    gate_message: str = ""

    @property
    def ref(self) -> common_pb2.RepoRef:
        return self.info.facts.repo

    @property
    def mirrored(self) -> bool:
        """An upstream cache: read-only here, as the API's ReadOnlyMirror says."""
        return self.info.upstream_cache


async def open_repo(request: Request, ref: common_pb2.RepoRef, *, form=None, need: str = "read",
                    who: common_pb2.Principal | None = None) -> OpenRepo:
    """Look the repo up and ask auth what the visitor may do with it. Anything short of "read" is
    the 404 page, the same one a missing repo gets. `need` ("download", "write", "admin") raises the
    matching page error when not allowed."""
    who = who or await principal(request, form)
    c = clients(request)
    try:  # the lookup the gateway and git use: metadata, then the upstream mirror behind it
        info = await get_repo(c.metadata, c.mirror, ref, who)
    except errors.HangarError as exc:
        if exc.code in ("RepoNotFound", "GatedRepo"):  # gated upstream repos are not mirrored
            raise PageNotFound("Repository not found") from None
        raise
    if info.redirected_from.name and (info.facts.repo.namespace, info.facts.repo.name) != (ref.namespace, ref.name):
        raise PageMoved(info.facts.repo)
    actions = ("read", "download") if who.anonymous else ("read", "download", "write", "admin")
    answers = dict(zip(actions, await asyncio.gather(*(decide(request, info.facts, a, who) for a in actions))))
    allowed = {a: d.allowed for a, d in answers.items()}
    writable = not info.upstream_cache
    for needed in ("read", need):
        decision = answers.get(needed)   # write and admin are not asked for anonymous visitors
        if needed in ("write", "admin") and decision is not None and not writable:
            raise errors.Forbidden("This repository is a read-only mirror of the upstream Hub", code="ReadOnlyMirror")
        if decision is None or not decision.allowed:
            code, message = (decision.error_code, decision.message) if decision else ("Unauthorized", "")
            raise _page_error(edge.refusal(who, code, message), info)
    return OpenRepo(info, who, allowed["download"], writable and allowed.get("write", False),
                    writable and allowed.get("admin", False),
                    "" if allowed["download"] else answers["download"].message)


def _page_error(refused: errors.HangarError, info: metadata_pb2.RepoInfo) -> errors.HangarError:
    """The rule's refusal as pages show it."""
    if isinstance(refused, errors.NotFound):
        return PageNotFound("Repository not found")
    if isinstance(refused, errors.Unauthorized):
        return SignInRequired("Sign in to continue")
    if refused.code == "GatedRepo":
        return GatedContent(info, refused.message)
    return refused


async def may_create_in(request: Request, namespace: str, who: common_pb2.Principal) -> bool:
    decision = await call(clients(request).auth.AuthorizeNamespace, auth_pb2.AuthorizeNamespaceRequest(
        principal=who, namespace=namespace, action="write"))
    return decision.allowed


async def private_namespaces(request: Request, who: common_pb2.Principal) -> list[str]:
    """Where listings may include private repos: the user's own namespace and its organizations'
    (the same filter the API's listings pass to metadata; each repo is still visible only because
    auth would allow it)."""
    if who.anonymous:
        return []
    me = await call(clients(request).auth.WhoAmI, auth_pb2.PrincipalRequest(principal=who))
    return [who.username, *(org.name for org in me.orgs)]

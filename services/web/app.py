"""The web service: Hangar's pages for browsers, at the Hub's own URLs (docs/architecture.md "Web pages").

Traefik sends it every path that is not the API (`/api/...`), a file download (`resolve`, `raw`),
git or LFS. It is a client of the same gRPC contracts as the gateway (auth for who may do what,
metadata for repositories and their contents, lfs for large-file previews) and holds no state of
its own: server-rendered HTML that works without JavaScript, enhanced by one small script.
"""
from __future__ import annotations

import hashlib
import logging
from contextlib import asynccontextmanager
from pathlib import Path
from urllib.parse import quote, urlsplit

from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request
from starlette.responses import Response

from hangar_common import errors
from hangar_common.config import Settings
from hangar_common.grpcio import check_health
from hangar_common.http import create_app
from hangar_common.runtime import Resources

from . import access, pages
from .markdown import pygments_css
from .routes import ROUTERS
from .security import SecurityHeaders, content_security_policy

logger = logging.getLogger("hangar.web")
STATIC = Path(__file__).parent / "static"
STATIC_TYPES = {".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8",
                ".svg": "image/svg+xml", ".png": "image/png", ".ico": "image/x-icon"}


def load_static() -> dict[str, tuple[bytes, str]]:
    """Every asset Hangar serves (no CDN): our files, with Pygments' token colours appended to the
    stylesheet."""
    files = {}
    for path in sorted(STATIC.iterdir()):
        if path.suffix in STATIC_TYPES:
            data = path.read_bytes()
            if path.name == "hangar.css":
                data += b"\n/* Pygments token colours */\n" + pygments_css().encode()
            files[path.name] = (data, STATIC_TYPES[path.suffix])
    return files


def build(settings: Settings):
    resources = Resources(settings)
    static = load_static()
    version = hashlib.sha256(b"".join(d for d, _ in static.values())).hexdigest()[:12]

    @asynccontextmanager
    async def lifespan(app):
        try:
            for name, target in (("auth", settings.auth_target), ("metadata", settings.metadata_target),
                                 ("lfs", settings.lfs_target), ("community", settings.community_target)):
                resources.open_channel(name, target)
            if settings.mirror_target:  # repos the hub does not hold come from the upstream mirror
                resources.open_channel("mirror", settings.mirror_target)
            app.state.clients = access.Clients(resources.channels)
            yield
        finally:
            await resources.close()

    def peer(name: str):
        return lambda: check_health(resources.channels[name])

    checks = {name: peer(name) for name in ("auth", "metadata", "lfs", "community")}
    app = create_app("web", lifespan=lifespan, health_checks=lambda app: checks)
    app.state.settings = settings
    app.state.static = static
    app.state.static_url = f"/static/{version}"

    @app.get("/static/{version}/{name}", include_in_schema=False)
    @app.get("/static/{name}", include_in_schema=False)
    async def asset(name: str, version: str = ""):
        if name not in static:
            raise access.PageNotFound("Not found")
        data, media = static[name]
        # Versioned URLs change whenever any asset changes: cache them for a year.
        cache = "public, max-age=31536000, immutable" if version else "public, max-age=300"
        return Response(data, media_type=media, headers={"Cache-Control": cache})

    @app.get("/favicon.ico", include_in_schema=False)
    async def favicon():
        data, media = static["logo.svg"]
        return Response(data, media_type=media, headers={"Cache-Control": "public, max-age=86400"})

    for router in ROUTERS:
        app.include_router(router)
    _error_pages(app)
    app.add_middleware(SameOrigin, public_url=settings.public_url)
    app.add_middleware(SecurityHeaders, csp=content_security_policy(settings.s3_public_url))
    return app


def _error_pages(app) -> None:
    """Errors of pages are pages: 404 for anything missing or not visible, a sign-in redirect where
    a session is needed, never a 500 with details."""

    async def ensure_principal(request: Request) -> None:
        if getattr(request.state, "principal", None) is None:
            try:
                await access.principal(request) if request.method in access.SAFE_METHODS else None
            except errors.HangarError:
                pass

    @app.exception_handler(errors.HangarError)
    async def hangar_error(request: Request, exc: errors.HangarError):
        await ensure_principal(request)
        if isinstance(exc, access.PageMoved):
            return _moved(request, exc.repo)
        if isinstance(exc, access.SignInRequired) or exc.code in ("CSRFTokenInvalid",) and \
                getattr(request.state, "principal", None) is None:
            return pages.redirect(f"/login?next={quote(request.url.path, safe='/')}")
        # A malformed name, revision or path in a page's URL names nothing: the 404 page.
        read = request.method in access.SAFE_METHODS
        if exc.status == 404 or isinstance(exc, errors.NotFound) or (read and exc.status == 400):
            return pages.error_page(request, 404, "Page not found",
                                    "The page you asked for does not exist, or you may not see it.")
        if exc.code == "CSRFTokenInvalid":
            return pages.error_page(request, 403, "Form expired", "Reload the page and try again.")
        if 400 <= exc.status < 500:
            return pages.error_page(request, exc.status, "Something is not right", exc.message)
        if exc.status in (502, 503, 504):  # a peer, or the upstream Hub behind the mirror
            return pages.error_page(request, 503, "Unavailable", "A service is unavailable. Try again shortly.")
        logger.error("page error", extra={"fields": {"code": exc.code, "status": exc.status}})
        return pages.error_page(request, 500, "Something went wrong", "The error has been logged.")

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException):
        await ensure_principal(request)
        if exc.status_code == 405:
            return pages.error_page(request, 405, "Not allowed", "This page does not accept that method.")
        return pages.error_page(request, 404, "Page not found",
                                "The page you asked for does not exist, or you may not see it.")

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception):
        logger.exception("unhandled error")
        return pages.error_page(request, 500, "Something went wrong", "The error has been logged.")


def _moved(request: Request, repo) -> Response:
    """The same page at the repository's new name: 301 for reading, 307 (method kept) for forms."""
    seg = (request.scope.get("raw_path") or request.url.path.encode()).decode("latin-1").split("?", 1)[0].split("/")
    first = 2 if len(seg) > 1 and seg[1] in ("datasets", "spaces") else 1
    seg[first:first + 2] = [quote(repo.namespace, safe=""), quote(repo.name, safe="")]
    location = "/".join(seg) + (f"?{request.url.query}" if request.url.query else "")
    return pages.redirect(location, 301 if request.method in access.SAFE_METHODS else 307)


class SameOrigin:
    """State changes must come from Hangar's own pages: a POST whose Origin (or Referer) names
    another site is refused before any handler runs. Complements the CSRF tokens."""

    def __init__(self, app, public_url: str) -> None:
        self.app = app
        self.public = pages_origin(public_url)

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http" and scope["method"] not in access.SAFE_METHODS:
            headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", ())}
            origin = headers.get("origin") or pages_origin(headers.get("referer", ""))
            host = headers.get("x-forwarded-host") or headers.get("host", "")
            allowed = {self.public, f"http://{host}", f"https://{host}"}
            if origin and origin not in allowed:
                response = Response("Cross-origin request refused", status_code=403,
                                    headers={"X-Error-Code": "CrossOrigin"})
                return await response(scope, receive, send)
        await self.app(scope, receive, send)


def pages_origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""

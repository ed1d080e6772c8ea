"""Rendering pages: one Jinja2 environment (autoescaping on: every value from users is text unless a
sanitizer made it HTML), the context every page shares, and the error pages."""
from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse

from hangar_common import edge

from . import access

TEMPLATES = Path(__file__).parent / "templates"
FORM_COOKIE = "hangar_form"  # pre-session CSRF for the login and join forms (double submit)


def human_size(n: int | None) -> str:
    if n is None:
        return ""
    size = float(n)
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if size < 1000 or unit == "TB":
            return f"{int(size)} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1000
    return f"{n} B"


def parse_date(value: str) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def relative_date(value: str) -> str:
    when = parse_date(value)
    if when is None:
        return ""
    seconds = (datetime.now(UTC) - when).total_seconds()
    for limit, unit, div in ((60, "second", 1), (3600, "minute", 60), (86400, "hour", 3600),
                             (86400 * 30, "day", 86400), (86400 * 365, "month", 86400 * 30)):
        if seconds < limit:
            n = max(0, int(seconds // div))
            return "just now" if unit == "second" and n < 10 else f"{n} {unit}{'s' if n != 1 else ''} ago"
    n = int(seconds // (86400 * 365))
    return f"{n} year{'s' if n != 1 else ''} ago"


def repo_path(repo_type: str, namespace: str, name: str) -> str:
    return f"/{edge.url_prefix(repo_type)}{quote(namespace, safe='')}/{quote(name, safe='')}"


def url_path(path: str) -> str:
    return quote(path, safe="/")


def url_segment(value: str) -> str:
    return quote(value, safe="")


def _env() -> Environment:
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(default=True),
                      trim_blocks=True, lstrip_blocks=True)
    env.filters.update(size=human_size, ago=relative_date, path=url_path, seg=url_segment,
                       number=lambda n: f"{n:,}")
    env.globals.update(repo_path=repo_path)
    return env


ENV = _env()


def form_token(request: Request) -> str:
    """The token of forms that change something: the session's CSRF token when signed in,
    otherwise the pre-session token of the login and join forms."""
    who = getattr(request.state, "principal", None)
    if who is not None and not who.anonymous:
        return request.cookies.get(access.CSRF_COOKIE, "")
    return getattr(request.state, "form_token", "") or request.cookies.get(FORM_COOKIE, "")


def render(request: Request, template: str, status: int = 200, **context) -> HTMLResponse:
    settings = request.app.state.settings
    who = getattr(request.state, "principal", None)
    body = ENV.get_template(template).render(
        request=request, me=None if who is None or who.anonymous else who, csrf=form_token(request),
        public_url=settings.public_url, registration=settings.registration_enabled,
        page_path=request.url.path, query=request.query_params.get("q", "") if template == "home.html" else "",
        static=request.app.state.static_url, **context)
    response = HTMLResponse(body, status_code=status, headers={"Cache-Control": "private, no-cache"})
    if getattr(request.state, "new_form_token", ""):
        response.set_cookie(FORM_COOKIE, request.state.new_form_token, max_age=3600 * 12, path="/",
                            httponly=True, samesite="strict", secure=settings.public_url.startswith("https:"))
    return response


def ensure_form_token(request: Request) -> None:
    """Give an anonymous visitor a pre-session token for the login/join form."""
    if not request.cookies.get(FORM_COOKIE):
        request.state.new_form_token = request.state.form_token = secrets.token_urlsafe(24)


def check_form_token(request: Request, form) -> bool:
    cookie = request.cookies.get(FORM_COOKIE, "")
    sent = str(form.get(access.CSRF_FIELD, ""))
    return bool(cookie) and hmac.compare_digest(hashlib.sha256(cookie.encode()).digest(),
                                                hashlib.sha256(sent.encode()).digest())


def redirect(url: str, status: int = 303) -> RedirectResponse:
    return RedirectResponse(url, status_code=status)


def error_page(request: Request, status: int, title: str, message: str) -> HTMLResponse:
    return render(request, "error.html", status=status, code=status, title=title, message=message)


def markup(html: str) -> Markup:
    """HTML made safe by our own renderer (Pygments, or nh3-sanitized Markdown)."""
    return Markup(html)

"""Absolute URLs the gateway hands out (create's `url`, `commitUrl`, pagination `Link`).

They use the hub's external origin, never an internal address (DESIGN.md §3): the configured public
URL (HANGAR_PUBLIC_URL) when one is set, otherwise the origin Traefik saw (`X-Forwarded-Proto` /
`X-Forwarded-Host`), otherwise the request's own `Host`.
"""
from __future__ import annotations

import os
from urllib.parse import quote, urlencode

from fastapi import Request


def public_base(request: Request) -> str:
    configured = os.environ.get("HANGAR_PUBLIC_URL", "").rstrip("/")
    if configured:
        return configured
    headers = request.headers
    host = headers.get("x-forwarded-host", "").split(",")[0].strip() or headers.get("host", "")
    proto = headers.get("x-forwarded-proto", "").split(",")[0].strip() or request.url.scheme
    prefix = headers.get("x-forwarded-prefix", "").rstrip("/")
    return f"{proto}://{host}{prefix}" if host else str(request.base_url).rstrip("/")


def repo_url(request: Request, repo_type: str, repo_id: str) -> str:
    """`{origin}/{id}` for models, `{origin}/datasets/{id}` and `{origin}/spaces/{id}` otherwise."""
    prefix = "" if repo_type == "model" else f"{repo_type}s/"
    return f"{public_base(request)}/{prefix}{repo_id}"


def commit_url(request: Request, repo_type: str, repo_id: str, commit: str) -> str:
    return f"{repo_url(request, repo_type, repo_id)}/commit/{commit}"


def next_link(request: Request, **params: str | int) -> str:
    """`Link: <absolute url>; rel="next"` for the same path with some query parameters replaced."""
    query = [(k, v) for k, v in request.query_params.multi_items() if k not in params]
    query += [(k, str(v)) for k, v in params.items()]
    raw_path = (request.scope.get("raw_path") or quote(request.scope["path"]).encode()).decode("latin-1")
    return f'<{public_base(request)}{raw_path}?{urlencode(query)}>; rel="next"'

"""Absolute URLs the gateway hands out (create's `url`, `commitUrl`, pagination `Link`).

They use the hub's external origin, never an internal address (hangar_common.edge.public_origin).
"""
from __future__ import annotations

from urllib.parse import quote, urlencode

from fastapi import Request

from hangar_common import edge


def public_base(request: Request) -> str:
    return edge.public_origin(request, request.app.state.resources.settings)


def repo_url(request: Request, repo_type: str, repo_id: str) -> str:
    """`{origin}/{id}` for models, `{origin}/datasets/{id}` and `{origin}/spaces/{id}` otherwise."""
    return f"{public_base(request)}/{edge.url_prefix(repo_type)}{repo_id}"


def commit_url(request: Request, repo_type: str, repo_id: str, commit: str) -> str:
    return f"{repo_url(request, repo_type, repo_id)}/commit/{commit}"


def next_link(request: Request, **params: str | int) -> str:
    """`Link: <absolute url>; rel="next"` for the same path with some query parameters replaced."""
    query = [(k, v) for k, v in request.query_params.multi_items() if k not in params]
    query += [(k, str(v)) for k, v in params.items()]
    raw_path = (request.scope.get("raw_path") or quote(request.scope["path"]).encode()).decode("latin-1")
    return f'<{public_base(request)}{raw_path}?{urlencode(query)}>; rel="next"'

"""Absolute URLs the gateway hands out (create's `url`, `commitUrl`, pagination `Link`).

They use the hub's external origin, never an internal address (hangar_common.edge.public_origin).
"""
from __future__ import annotations

from dataclasses import dataclass
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


@dataclass(frozen=True)
class NumberedPage:
    """A listing paged by number (`p`, from 0) and `limit`, the shape huggingface_hub follows
    through the absolute `Link` of the next page (commits, force pushes, LFS files)."""
    number: int
    limit: int

    @property
    def offset(self) -> int:
        return self.number * self.limit

    def next_headers(self, request: Request, has_more: bool) -> dict[str, str]:
        return {"Link": next_link(request, p=self.number + 1, limit=self.limit)} if has_more else {}


def numbered_page(request: Request, default: int, maximum: int = 1000) -> NumberedPage:
    from .bodies import query_int

    return NumberedPage(query_int(request, "p", 0, 0, 10_000_000), query_int(request, "limit", default, 1, maximum))

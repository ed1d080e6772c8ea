"""What repo pages share: reading the repo and the rest of the URL from the raw path (revisions and
paths may arrive %2F-encoded), the header every repo page has, and small helpers."""
from __future__ import annotations

import json
from dataclasses import dataclass
from urllib.parse import unquote

from starlette.requests import Request

from hangar_common import edge
from hangar_common.grpcio import call
from hangar_protos import common_pb2, metadata_pb2

from .. import access, pages
from ..access import OpenRepo, PageNotFound

PLURAL_TYPES = edge.TYPE_OF_PREFIX
PAGE_NAMESPACES = frozenset({  # first segments that are pages, not namespaces
    "models", "datasets", "spaces", "settings", "organizations", "new", "new-dataset", "new-space",
    "login", "logout", "join", "static", "api", "health", "metrics", "favicon.ico",
})


@dataclass(frozen=True)
class RepoUrl:
    ref: common_pb2.RepoRef
    tail: list[str]            # decoded segments after {ns}/{name}

    @property
    def base(self) -> str:
        return pages.repo_path(self.ref.type, self.ref.namespace, self.ref.name)


def raw_segments(request: Request) -> list[str]:
    raw = (request.scope.get("raw_path") or request.scope["path"].encode()).decode("latin-1")
    return [s for s in raw.split("?", 1)[0].split("/")[1:]]


def decode(segment: str) -> str:
    try:
        return unquote(segment, encoding="utf-8", errors="strict")
    except UnicodeDecodeError:
        raise PageNotFound("Not found") from None


def repo_url(request: Request) -> RepoUrl | None:
    seg = raw_segments(request)
    if seg and seg[-1] == "":
        seg = seg[:-1]
    repo_type = "model"
    if seg and seg[0] in PLURAL_TYPES:
        repo_type, seg = PLURAL_TYPES[seg[0]], seg[1:]
    elif seg and seg[0] in PAGE_NAMESPACES:
        return None
    if len(seg) < 2 or not seg[0] or not seg[1]:
        return None
    ref = common_pb2.RepoRef(type=repo_type, namespace=decode(seg[0]), name=decode(seg[1]))
    return RepoUrl(ref, [decode(s) for s in seg[2:]])


def card_data(info: metadata_pb2.RepoInfo) -> dict:
    try:
        data = json.loads(info.card_data_json) if info.card_data_json else {}
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


async def refs_of(request: Request, ref: common_pb2.RepoRef) -> metadata_pb2.ListRefsResponse:
    return await call(access.clients(request).metadata.ListRefs, metadata_pb2.RepoRequest(repo=ref))


def repo_context(opened: OpenRepo, url: RepoUrl, tab: str, revision: str = "", **extra) -> dict:
    """Context of the repo header: names, badges, tabs, the revision shown."""
    info = opened.info
    return {
        "repo": info, "facts": info.facts, "ref": info.facts.repo, "base": url.base,
        "repo_id": f"{info.facts.repo.namespace}/{info.facts.repo.name}", "tab": tab,
        "revision": revision or info.default_branch, "can_write": opened.can_write,
        "can_admin": opened.can_admin, "can_download": opened.can_download,
        "gate_message": opened.gate_message, "type_label": info.facts.repo.type.capitalize(), **extra,
    }


def breadcrumbs(path: str) -> list[tuple[str, str]]:
    """[(name, path so far), ...] for a path inside a repo."""
    parts = [p for p in path.split("/") if p]
    return [(part, "/".join(parts[:i + 1])) for i, part in enumerate(parts)]


def int_param(request: Request, name: str, default: int, high: int) -> int:
    raw = request.query_params.get(name, "")
    return max(0, min(int(raw), high)) if raw.isdigit() else default

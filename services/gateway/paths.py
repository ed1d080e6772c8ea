"""Routing on the raw request path, and validation of repo names and paths in a repo.

Clients `%2F`-encode revisions (`refs%2Fpr%2F1`) and sub-paths (`list_repo_tree` quotes the whole
path), and Starlette decodes `%2F` into `scope["path"]` (docs/clients.md). So repo routes match the
decoded path loosely (`{rest:path}`) and their handlers split `scope["raw_path"]` into segments here,
decoding each segment on its own.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import quote, unquote

from fastapi import APIRouter, Request

from hangar_common import edge, errors

# URL prefix (plural) -> repo type, as huggingface_hub builds URLs (`/api/{repo_type}s/...`).
PLURALS = edge.TYPE_OF_PLURAL
TYPES = tuple(PLURALS.values())

# Hub repo names: letters, digits, '-', '_', '.'; no '--' or '..'; not starting/ending with '-' or
# '.'; at most 96 characters (huggingface_hub's validate_repo_id mirrors the Hub's rule).
_NAME = re.compile(r"^[A-Za-z0-9_](?:[A-Za-z0-9_.-]{0,94}[A-Za-z0-9_])?$")
# Namespaces that collide with routes of the hub (docs/clients.md).
RESERVED_NAMESPACES = frozenset({
    "api", "models", "datasets", "spaces", "organizations", "organization", "settings", "users",
    "docs", "auth", "login", "logout", "join", "new", "resolve", "buckets", "static", "assets",
    "health", "metrics", "collections", "papers", "search",
})
MAX_PATH_BYTES = 4096


@dataclass(frozen=True)
class RepoTarget:
    """What a repo URL names: the repo, and the decoded segments that follow it."""

    type: str
    namespace: str
    name: str
    tail: list[str] = field(default_factory=list)  # decoded segments after ns/name
    raw_head: str = ""                             # raw URL path up to (excluding) ns/name
    raw_tail: str = ""                             # raw URL path after ns/name (with leading '/')

    @property
    def repo_id(self) -> str:
        return f"{self.namespace}/{self.name}"

    def moved_to(self, namespace: str, name: str, query: str) -> str:
        """The relative URL of the same resource under the repo's new name."""
        path = f"{self.raw_head}/{quote(namespace, safe='')}/{quote(name, safe='')}{self.raw_tail}"
        return f"{path}?{query}" if query else path


def raw_segments(request: Request) -> list[str]:
    raw = request.scope.get("raw_path") or request.scope["path"].encode()
    return raw.decode("latin-1").split("/")[1:]


def decode_segment(segment: str) -> str:
    try:
        return unquote(segment, encoding="utf-8", errors="strict")
    except UnicodeDecodeError:
        raise errors.BadRequest("Invalid URL encoding", code="InvalidPath") from None


def api_target(request: Request) -> RepoTarget:
    """`/api/{type}s/{ns}/{name}[/...]`: the repo and the decoded segments after it."""
    seg = raw_segments(request)
    if len(seg) < 4 or seg[0] != "api" or seg[1] not in PLURALS:
        raise errors.NotFound("Not found")
    return RepoTarget(PLURALS[seg[1]], decode_segment(seg[2]), decode_segment(seg[3]),
                      [decode_segment(s) for s in seg[4:]], raw_head=f"/api/{seg[1]}",
                      raw_tail="".join("/" + s for s in seg[4:]))


def resolve_target(request: Request) -> RepoTarget:
    """`/[{datasets|spaces}/]{ns}/{name}/resolve/{rev}/{path...}`: the repo and what follows it."""
    seg = raw_segments(request)
    head, plural = "", "models"
    if seg and seg[0] in ("datasets", "spaces"):
        plural, head, seg = seg[0], f"/{seg[0]}", seg[1:]
    if len(seg) < 3:
        raise errors.NotFound("Not found")
    return RepoTarget(PLURALS[plural], decode_segment(seg[0]), decode_segment(seg[1]),
                      [decode_segment(s) for s in seg[2:]], raw_head=head, raw_tail="".join("/" + s for s in seg[2:]))


def repo_api(router: APIRouter, suffix: str, methods: list[str]):
    """Register a handler for `/api/{models|datasets|spaces}/{ns}/{name}{suffix}`. Handlers re-read
    the raw path (`api_target`) so `%2F`-encoded revisions and paths keep their meaning."""
    def register(handler):
        for plural in PLURALS:
            router.add_api_route(f"/api/{plural}/{{namespace}}/{{name}}{suffix}", handler,
                                 methods=methods, include_in_schema=False)
        return handler
    return register


def repo_type(value: str | None) -> str:
    """The `type` field of create/delete/move bodies: absent means model."""
    value = (value or "model").lower()
    if value in PLURALS:
        value = PLURALS[value]
    if value not in TYPES:
        raise errors.BadRequest(f"Invalid repo type '{value}'", code="InvalidRepoType")
    return value


def repo_name(name: str, what: str = "repository name") -> str:
    if not isinstance(name, str) or not _NAME.match(name) or "--" in name or ".." in name \
            or name.lower().endswith(".git"):
        raise errors.BadRequest(
            f"Invalid {what} '{name}': use 1-96 letters, digits, '-', '_' or '.', not starting or ending "
            "with '-' or '.', without '--' or '..'", code="InvalidRepoName")
    return name


def namespace_name(name: str) -> str:
    repo_name(name, "namespace")
    if name.lower() in RESERVED_NAMESPACES:
        raise errors.BadRequest(f"The namespace '{name}' is reserved", code="InvalidRepoName")
    return name


def split_repo_id(repo_id: str) -> tuple[str, str]:
    if not isinstance(repo_id, str) or repo_id.count("/") != 1:
        raise errors.BadRequest(f"Invalid repo id '{repo_id}': expected 'namespace/name'",
                                code="InvalidRepoName")
    ns, name = repo_id.split("/")
    return namespace_name(ns), repo_name(name)


def file_path(path: str, *, folder: bool = False) -> str:
    """A path inside a repo: relative, '/'-separated, no '.'/'..'/empty segments, no backslash or
    control characters (docs/data-safety.md: path traversal is bad input). A folder may end with '/'."""
    if not isinstance(path, str):
        raise errors.InvalidPath("Path must be a string")
    if folder:
        path = path.rstrip("/") if path not in ("", "/") else path
    problem = _path_problem(path)
    if problem:
        raise errors.InvalidPath(f"Invalid path '{path[:200]}': {problem}")
    return path


def _path_problem(path: str) -> str:
    if not path:
        return "empty path"
    if len(path.encode("utf-8", "surrogatepass")) > MAX_PATH_BYTES:
        return "path too long"
    if path.startswith("/"):
        return "absolute paths are not allowed"
    if "\\" in path:
        return "backslashes are not allowed"
    if any(ord(c) < 32 or ord(c) == 127 for c in path):
        return "control characters are not allowed"
    for part in path.split("/"):
        if part in ("", ".", ".."):
            return "empty, '.' and '..' segments are not allowed"
    if path.split("/")[0] == ".git":
        return "'.git' is reserved"
    return ""

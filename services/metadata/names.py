"""Validation of repository names, ref names and file paths.

Repo names follow the Hub's rules (huggingface_hub `validate_repo_id`): letters, digits, `-`, `_`,
`.`; no `--` or `..`; `-` and `.` neither start nor end a name; at most 96 characters. Namespaces
that collide with routes are reserved. Ref names follow `git check-ref-format`. Paths are
repository-relative and must never escape the tree; each segment follows git's path rules
(pathrules.py: `.git` in every spelling, control characters, ...).
"""
from __future__ import annotations

import re

from hangar_common.errors import BadRequest, InvalidPath

from . import pathrules

REPO_TYPES = ("model", "dataset", "space")
MAX_NAME = 96
MAX_PATH_BYTES = 4096
_NAME = re.compile(r"^[A-Za-z0-9_.-]+$")
RESERVED_NAMESPACES = frozenset({
    "api", "models", "datasets", "spaces", "organizations", "settings", "new", "docs", "login",
    "logout", "join", "pricing", "blog", "collections", "papers", "posts", "notifications",
    "billing", "search", "static", "assets", "resolve", "oauth", "enterprise", "storage", "tasks",
    "learn", "hub", "health", "metrics", "admin", "user", "users", "org", "orgs", "git", "lfs",
})


def _bad_name(what: str, value: str, why: str) -> BadRequest:
    return BadRequest(f"Invalid {what} '{value}': {why}", code="InvalidRepoName")


def validate_name(value: str, what: str = "repo name") -> None:
    if not value or len(value) > MAX_NAME:
        raise _bad_name(what, value, f"length must be 1 to {MAX_NAME} characters")
    if not _NAME.match(value):
        raise _bad_name(what, value, "use only letters, digits, '-', '_' and '.'")
    if "--" in value or ".." in value:
        raise _bad_name(what, value, "'--' and '..' are forbidden")
    if value[0] in "-." or value[-1] in "-.":
        raise _bad_name(what, value, "'-' and '.' cannot start or end a name")
    if value.lower().endswith(".git"):
        raise _bad_name(what, value, "a name cannot end in '.git'")


def validate_repo(repo_type: str, namespace: str, name: str) -> None:
    if repo_type not in REPO_TYPES:
        raise BadRequest(f"Invalid repo type '{repo_type}'", code="InvalidRepoType")
    validate_name(namespace, "namespace")
    if namespace.lower() in RESERVED_NAMESPACES:
        raise _bad_name("namespace", namespace, "this name is reserved")
    validate_name(name)


_REF_BAD = re.compile(r"[\x00-\x20\x7f~^:?*\[\\]")


def validate_ref_name(name: str, what: str = "branch") -> None:
    """`git check-ref-format` rules for the short name of a branch or tag, and, for a branch, git's
    refusal of `HEAD` (`git branch HEAD` fails: `refs/heads/HEAD` makes the revision `HEAD` mean two
    things). A branch named like an existing tag stays allowed, as on the Hub."""
    why = None
    if not name or len(name.encode()) > 255:
        why = "empty or too long"
    elif what == "branch" and name == "HEAD":
        why = "'HEAD' is not a valid branch name"
    elif _REF_BAD.search(name):
        why = "contains a forbidden character"
    elif ".." in name or "//" in name or "@{" in name or name == "@":
        why = "contains '..', '//' or '@{'"
    elif name.startswith(("/", "-")) or name.endswith(("/", ".", ".lock")):
        why = "bad start or end"
    elif any(part.startswith(".") for part in name.split("/")):
        why = "a component starts with '.'"
    elif name.startswith("refs/") or re.fullmatch(r"[0-9a-f]{40}", name):
        why = "ambiguous with a full ref or a commit id"
    if why:
        raise BadRequest(f"Invalid {what} name '{name}': {why}", code="InvalidRefName")


def _bad_path(path: str, why: str) -> InvalidPath:
    return InvalidPath(f"Invalid path '{path[:200]}': {why}")


def validate_path(path: str, *, existing: bool = False) -> list[str]:
    """The segments of a valid repository file path, or InvalidPath (422). A path that
    only names an `existing` entry (to delete or copy it) is not held to the rules for new names,
    so a file that predates them can still be removed."""
    if not path:
        raise _bad_path(path, "empty")
    if "\x00" in path:
        raise _bad_path(path, "contains NUL")
    if "\\" in path:
        raise _bad_path(path, "contains a backslash")
    if path.startswith("/"):
        raise _bad_path(path, "absolute paths are not allowed")
    if len(path.encode("utf-8", "surrogatepass")) > MAX_PATH_BYTES:
        raise _bad_path(path, f"longer than {MAX_PATH_BYTES} bytes")
    try:
        path.encode("utf-8")
    except UnicodeEncodeError:
        raise _bad_path(path, "not valid UTF-8") from None
    segments = path.split("/")
    for seg in segments:
        problem = pathrules.name_problem(seg.encode("utf-8"))
        if problem and (not existing or not seg or seg in (".", "..")):
            raise _bad_path(path, problem)
    return segments


def normalize_folder(path: str) -> str:
    """A folder path as given to deletedFolder / list_tree: no trailing slash; "" is the root."""
    return "" if path in ("", "/", ".") else path.rstrip("/")

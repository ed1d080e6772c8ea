"""The authorization decision (auth.proto `Authorize` / `AuthorizeNamespace`), as pure functions of
who asks, what they ask, and the facts about the repository and the asker's roles.

Rules (issue 5):
- a public repo is readable by everyone; a private one only by its owner, the members of its
  organization (any role) and site admins; to everyone else it looks missing (RepoNotFound);
- downloading from a gated repo needs an accepted access request, except for the owner, the
  organization's members and site admins (GatedRepo otherwise; metadata stays visible);
- write needs the owner or an organization role of member or above, and never a read token;
- admin needs the owner or an organization admin / super-admin, and never a read token.
"""
from __future__ import annotations

from dataclasses import dataclass

from hangar_protos import common_pb2

ORG_ROLES = ("read", "member", "admin", "super-admin")
_RANK = {role: rank for rank, role in enumerate(ORG_ROLES, start=1)}
ACTIONS = ("read", "download", "write", "admin")


def rank(role: str) -> int:
    return _RANK.get(role, 0)


@dataclass(frozen=True)
class Decision:
    allowed: bool
    error_code: str = ""
    message: str = ""


ALLOW = Decision(True)


def _level(principal: common_pb2.Principal, namespace: str, org_role: str) -> int:
    """What the principal is to the namespace: 0 stranger, else an org rank; the owner ranks highest."""
    if principal.anonymous:
        return 0
    if principal.is_site_admin or principal.username.lower() == namespace.lower():
        return _RANK["super-admin"] + 1
    return rank(org_role)


def _deny_unseen(principal) -> Decision:
    """Looks missing; callers answer 401 (with a challenge on git/LFS) when `principal` is anonymous."""
    return Decision(False, "RepoNotFound", "Repository not found")


def decide(principal: common_pb2.Principal, facts: common_pb2.RepoFacts, action: str, *,
           org_role: str = "", access_granted: bool = False) -> Decision:
    """May `principal` do `action` on the repo? `org_role` is its role in the repo's namespace."""
    level = _level(principal, facts.repo.namespace, org_role)
    if facts.private and level == 0:
        return _deny_unseen(principal)
    if action == "read":
        return ALLOW
    if action == "download":
        if facts.gated and level == 0 and not access_granted:
            return Decision(False, "GatedRepo", f"Access to repository {facts.repo.namespace}/"
                            f"{facts.repo.name} is restricted: you must ask for access and be granted it")
        return ALLOW
    return _decide_change(principal, level, action, "this repository")


def decide_namespace(principal: common_pb2.Principal, namespace: str, action: str, *,
                     org_role: str = "") -> Decision:
    """May `principal` create (write) or delete/move (admin) repositories under `namespace`?"""
    return _decide_change(principal, _level(principal, namespace, org_role), action,
                          f"the namespace {namespace}")


def _decide_change(principal, level: int, action: str, what: str) -> Decision:
    if principal.anonymous:
        return Decision(False, "Unauthorized", "You must be authenticated to do this")
    needed = _RANK["member"] if action == "write" else _RANK["admin"]
    if action not in ("write", "admin"):
        return Decision(False, "Forbidden", f"Unknown action {action!r}")
    if principal.token_role == "read":
        return Decision(False, "Forbidden", "This action needs a token with the write role; "
                        "this one is read-only")
    if level < needed:
        verb = "write to" if action == "write" else "administer"
        return Decision(False, "Forbidden", f"You do not have the rights to {verb} {what}")
    return ALLOW

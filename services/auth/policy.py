"""The authorization decision (auth.proto `Authorize` / `AuthorizeNamespace`), as pure functions of
who asks, what they ask, and the facts about the repository and the asker's roles.

Rules (issue 5):
- a public repo is readable by everyone; a private one only by its owner, the members of its
  organization (any role) and site admins; to everyone else it looks missing (RepoNotFound);
- downloading from a gated repo needs an accepted access request, except for the owner, the
  organization's members and site admins (GatedRepo otherwise; metadata stays visible);
- write needs the owner or an organization role of member or above, and never a read token;
- admin needs the owner or an organization admin / super-admin, and never a read token.

Discussions and pull requests (issue 13), as on the Hub:
- discuss (open a discussion, comment): anyone signed in who can see the repo, not with a read token;
- contribute (open a PR, upload into it): discuss, plus download access (a PR's diff shows content);
- push-pr (commit to refs/pr/N): write, or contribute for the PR's own author (`owner_user_id`);
- moderate (close, reopen, rename a thread): write, or discuss for the thread's author;
- edit-comment: discuss, for the comment's author only;
- merging and hiding comments are plain "write".
"""
from __future__ import annotations

from dataclasses import dataclass

from hangar_common import edge
from hangar_protos import common_pb2

ORG_ROLES = ("read", "member", "admin", "super-admin")
_RANK = {role: rank for rank, role in enumerate(ORG_ROLES, start=1)}
ACTIONS = ("read", "download", "write", "admin", "discuss", "contribute", "push-pr", "moderate", "edit-comment")
OWNED_ACTIONS = ("push-pr", "moderate", "edit-comment")


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


def gated_message(facts: common_pb2.RepoFacts, public_url: str) -> str:
    """The Hub's wording for a gated download (scripts match on it), with the repo's page URL."""
    repo = facts.repo
    prefix = edge.url_prefix(repo.type)
    return (f"Access to {repo.type or 'model'} {repo.namespace}/{repo.name} is restricted and you are not in "
            f"the authorized list. Visit {public_url.rstrip('/')}/{prefix}{repo.namespace}/{repo.name} "
            "to ask for access.")


def restricted_upstream(facts: common_pb2.RepoFacts) -> bool:
    """A cache of a gated or private upstream repo: the upstream's own decision applies."""
    return facts.upstream_cache and bool(facts.private or facts.gated)


def needs_upstream_access(facts: common_pb2.RepoFacts, action: str) -> bool:
    return restricted_upstream(facts) and (bool(facts.private) or action != "read")


def decide(principal: common_pb2.Principal, facts: common_pb2.RepoFacts, action: str, *,
           org_role: str = "", access_granted: bool = False, owner_user_id: str = "",
           public_url: str = "", upstream_access: bool = False) -> Decision:
    """May `principal` do `action` on the repo? `org_role` is its role in the repo's namespace;
    `owner_user_id` is the author of the PR, thread or comment the action touches; `public_url`
    (the hub's external origin) goes into the gated message. `upstream_access`: for a cache of a
    gated or private upstream repo, whether the upstream serves this principal (Mirror.UpstreamAccess)."""
    if restricted_upstream(facts):
        return _decide_upstream(facts, action, upstream_access, public_url)
    level = _level(principal, facts.repo.namespace, org_role)
    if facts.private and level == 0:
        return _deny_unseen(principal)
    if action == "read":
        return ALLOW
    if action == "download":
        if facts.gated and level == 0 and not access_granted:
            return Decision(False, "GatedRepo", gated_message(facts, public_url))
        return ALLOW
    if action in ("discuss", "contribute") or action in OWNED_ACTIONS:
        return _decide_community(principal, facts, action, level=level, access_granted=access_granted,
                                 owner_user_id=owner_user_id)
    return _decide_change(principal, level, action, "this repository")


def _decide_upstream(facts, action: str, upstream_access: bool, public_url: str) -> Decision:
    """Cached bytes of a gated or private upstream repo go only to users the upstream would serve,
    whatever their local roles (site admins included): a private one looks missing to anyone else,
    a gated one shows its metadata (as the Hub does) and refuses downloads. A cache is read-only."""
    if facts.private and not upstream_access:
        return Decision(False, "RepoNotFound", "Repository not found")
    if action == "read":
        return ALLOW
    if action in ("download", "contribute"):
        return ALLOW if upstream_access else Decision(False, "GatedRepo", gated_message(facts, public_url))
    return Decision(False, "ReadOnlyMirror", "This repository is a read-only mirror of the upstream Hub")


def _decide_community(principal, facts, action: str, *, level: int, access_granted: bool,
                      owner_user_id: str) -> Decision:
    if principal.anonymous:
        return Decision(False, "Unauthorized", "You must be authenticated to do this")
    if principal.token_role == "read":
        return Decision(False, "Forbidden", "This action needs a token with the write role; this one is read-only")
    is_owner = bool(owner_user_id) and owner_user_id == principal.user_id
    writer = _decide_change(principal, level, "write", "this repository").allowed
    if action == "discuss":
        return ALLOW
    if action == "edit-comment":
        return ALLOW if is_owner else Decision(False, "Forbidden", "Only the author of a comment can edit it")
    if action == "moderate":
        return ALLOW if writer or is_owner else Decision(
            False, "Forbidden", "Only the author of this discussion or a writer of the repository can do this")
    if action == "push-pr" and not (writer or is_owner):
        return Decision(False, "Forbidden", "Only the author of this pull request or a writer of the "
                        "repository can commit to it")
    # contribute, and push-pr by its author: reading the content is part of proposing a change.
    if facts.gated and level == 0 and not access_granted:
        return Decision(False, "GatedRepo", f"Access to repository {facts.repo.namespace}/{facts.repo.name} is "
                        "restricted: you must ask for access and be granted it")
    return ALLOW


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

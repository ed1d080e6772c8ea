"""Who may use the LFS API of a repository: credentials through auth, repo facts from metadata, the
decision from auth. Git and git-lfs send credentials only after a 401 with `WWW-Authenticate`, so
anonymous requests for a private or missing repo get exactly that (the same answer for both: no
existence leak); signed-in callers who may not see the repo get 404 (DESIGN.md §3 Errors)."""
from __future__ import annotations

import re
from dataclasses import dataclass

from hangar_common import errors
from hangar_protos import common_pb2

from .lfs_errors import LfsError

CHALLENGE = {"WWW-Authenticate": 'Basic realm="Hangar"', "LFS-Authenticate": 'Basic realm="Hangar"'}
REPO_TYPES = {"": "model", "datasets": "dataset", "spaces": "space"}
_LFS_PATH = re.compile(r"^/(?:(datasets|spaces)/)?([^/]+)/([^/]+)\.git/info/lfs(/.*)?$")


@dataclass(frozen=True)
class LfsPath:
    ref: common_pb2.RepoRef
    rest: str            # the part after /info/lfs, e.g. "/objects/batch"
    base: str            # "/{prefix}{ns}/{name}.git/info/lfs" as the client addressed it


def parse(path: str) -> LfsPath | None:
    match = _LFS_PATH.match(path)
    if not match:
        return None
    prefix, namespace, name, rest = match.groups()
    ref = common_pb2.RepoRef(type=REPO_TYPES[prefix or ""], namespace=namespace, name=name)
    base = f"/{prefix + '/' if prefix else ''}{namespace}/{name}.git/info/lfs"
    return LfsPath(ref=ref, rest=rest or "", base=base)


def _missing(principal) -> LfsError:
    if principal is None or principal.anonymous:
        return LfsError(401, "Repository not found or authentication required", code="RepoNotFound",
                        headers=CHALLENGE)
    return LfsError(404, "Repository not found", code="RepoNotFound")


async def authenticate(peers, authorization: str, client: str, session=None):
    try:
        return await peers.authenticate(authorization, client, session)
    except errors.Unauthorized:
        raise LfsError(401, "Invalid credentials in Authorization header", code="Unauthorized",
                       headers=CHALLENGE) from None


async def open_repo(peers, ref, authorization: str, action: str, client: str = "", session=None):
    """(principal, facts) when the caller may do `action` ("read" or "write") on the repo.
    `session` is (cookie, csrf token) of a browser upload from the web pages (no Authorization)."""
    principal = await authenticate(peers, authorization, client, session)
    try:
        info = await peers.get_repo(ref)
    except errors.NotFound:
        raise _missing(principal) from None
    decision = await peers.authorize(principal, info.facts, action)
    if decision.allowed:
        return principal, info.facts
    if principal.anonymous:
        raise _missing(principal)
    if decision.error_code in ("Forbidden", "GatedRepo"):
        raise LfsError(403, decision.message or "You do not have write access to this repository",
                       code=decision.error_code)
    raise _missing(principal)


_PR_REF = re.compile(r"^refs/pr/([1-9][0-9]{0,8})$")


async def open_for_upload(peers, ref, authorization: str, target_ref: str, client: str = "", session=None):
    """(principal, facts, contributor) for an upload. Writers upload for any ref. Someone who may
    not write still uploads for a pull request of their own (auth decides: "push-pr" for
    `refs/pr/N` with its owner, "contribute" when the client names no ref, as huggingface_hub does
    with create_pr); `contributor` is then True and the uploads count against their quota. A branch
    or tag named as the ref needs write, as before."""
    try:
        principal, facts = await open_repo(peers, ref, authorization, "write", client, session)
        return principal, facts, False
    except LfsError as refused:
        if refused.status != 403 or refused.code != "Forbidden":
            raise
        denied = refused
    principal = await authenticate(peers, authorization, client, session)
    facts = (await peers.get_repo(ref)).facts
    match = _PR_REF.match(target_ref or "")
    if target_ref and not match:
        raise denied
    owner = ""
    if match:
        try:
            owner = (await peers.pull_ref(facts.repo, int(match.group(1)))).owner_user_id
        except errors.NotFound:
            raise LfsError(404, f"Pull request ref {target_ref} not found", code="RevisionNotFound") from None
    decision = await peers.authorize(principal, facts, "push-pr" if match else "contribute", owner)
    if not decision.allowed:
        raise LfsError(403, decision.message or denied.message, code=decision.error_code or "Forbidden")
    return principal, facts, True

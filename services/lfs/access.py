"""Who may use the LFS API (and take a Xet token) of a repository: credentials through auth, repo
facts from metadata, the decision from auth, and the client's error from hangar_common.edge's rule.
On the LFS surface git-lfs sends credentials only after a 401 with `WWW-Authenticate`, so anonymous
requests for a private or missing repo get exactly that (the same answer for both: no existence
leak); signed-in callers who may not see the repo get 404 (docs/clients.md "Errors")."""
from __future__ import annotations

import re
from dataclasses import dataclass

from hangar_common import edge, errors
from hangar_protos import common_pb2

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
    ref = common_pb2.RepoRef(type=edge.type_of_prefix(prefix), namespace=namespace, name=name)
    base = f"/{prefix + '/' if prefix else ''}{namespace}/{name}.git/info/lfs"
    return LfsPath(ref=ref, rest=rest or "", base=base)


async def authenticate(peers, authorization: str, client: str, session=None, surface=edge.LFS):
    try:
        return await peers.authenticate(authorization, client, session)
    except errors.Unauthorized as exc:
        raise edge.unauthenticated(exc.message, surface) from None


async def open_repo(peers, ref, authorization: str, action: str, client: str = "", session=None,
                    surface=edge.LFS):
    """(principal, facts) when the caller may do `action` ("read", "download" or "write") on the
    repo. `session` is (cookie, csrf token) of a browser upload from the web pages (no Authorization)."""
    principal = await authenticate(peers, authorization, client, session, surface)
    try:
        info = await peers.get_repo(ref)
    except errors.NotFound:
        raise edge.refusal(principal, "RepoNotFound", surface=surface) from None
    edge.enforce(principal, await peers.authorize(principal, info.facts, action), surface)
    return principal, info.facts


PR_REF = re.compile(r"^refs/pr/([1-9][0-9]{0,8})$")


async def open_for_upload(peers, ref, authorization: str, target_ref: str, client: str = "", session=None,
                          *, create_pr: bool | None = None, surface=edge.LFS):
    """(principal, facts, contributor) for an upload. Writers upload for any ref. Someone who may
    not write still uploads for a pull request of their own (auth decides: "push-pr" for
    `refs/pr/N` with its owner, "contribute" for a pull request about to be opened: `create_pr`, by
    default when the client names no ref, as huggingface_hub does with create_pr); `contributor` is
    then True and the uploads count against their quota. A branch or tag named as the ref needs
    write, as before."""
    try:
        principal, facts = await open_repo(peers, ref, authorization, "write", client, session, surface)
        return principal, facts, False
    except errors.Forbidden as refused:
        if refused.code != "Forbidden":
            raise
        denied = refused
    principal = await authenticate(peers, authorization, client, session, surface)
    facts = (await peers.get_repo(ref)).facts
    match = PR_REF.match(target_ref or "")
    if not match and not (not target_ref if create_pr is None else create_pr):
        raise denied
    owner = ""
    if match:
        try:
            owner = (await peers.pull_ref(facts.repo, int(match.group(1)))).owner_user_id
        except errors.NotFound:
            raise errors.RevisionNotFound(f"Invalid rev id: {target_ref}") from None
    edge.enforce(principal, await peers.authorize(principal, facts, "push-pr" if match else "contribute", owner),
                 surface)
    return principal, facts, True

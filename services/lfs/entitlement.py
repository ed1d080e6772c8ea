"""Who may use an LFS object in a repository (docs/data-safety.md: knowing a hash is not access).

- Reference (a commit, a push, or batch "already present"): the object is verified AND the caller
  uploaded it for this repo, or may read (download from) a repository whose history references it,
  or may download from an upstream cache the mirror fetched (and verified) these bytes for; a cache's
  pointers alone never count (they came from the upstream unchecked), and for a gated or private
  upstream repo "may download" is the upstream's own answer for the caller (auth asks the mirror).
- Download from a repo: the object is verified AND referenced by that repo or uploaded for it.
"""
from __future__ import annotations

from . import catalog

MAX_HOLDERS_ASKED = 50  # authorization questions per oid before giving up (then: upload it again)


async def referencable(ctx, conn, *, principal, facts, oids: list[str], holders: dict | None = None) -> set[str]:
    """The subset of (verified) `oids` that `principal` may reference in the repo `facts`. `holders`
    (oid -> the repositories referencing it) when the caller brought metadata's answer along (a
    commit's CheckObjects); else metadata is asked."""
    if principal.anonymous or not oids:
        return set()
    ok = await catalog.granted(conn, oids=oids, repo_id=facts.repo_id, user_id=principal.user_id)
    rest = [oid for oid in oids if oid not in ok]
    if not rest:
        return ok
    if holders is None:
        holders = await ctx.peers.holders(rest)
    decisions: dict[str, bool] = {facts.repo_id: True}  # the caller may already write this repo
    for oid in rest:
        for repo in holders.get(oid, [])[:MAX_HOLDERS_ASKED]:
            if repo.repo_id not in decisions:
                # "download": seeing a gated repo's page must not give its bytes to another repo.
                decision = await ctx.peers.authorize(principal, repo, "download")
                decisions[repo.repo_id] = decision.allowed
            if decisions[repo.repo_id]:
                ok.add(oid)
                break
    rest = [oid for oid in rest if oid not in ok]
    mirrored = await catalog.mirrored(conn, rest)
    caches = {f.repo_id: f for f in await ctx.peers.upstream_caches(
        sorted({r for ids in mirrored.values() for r in ids} - set(decisions)))}
    for oid in rest:
        for repo_id in mirrored.get(oid, [])[:MAX_HOLDERS_ASKED]:
            if repo_id not in decisions and repo_id in caches:
                decisions[repo_id] = (await ctx.peers.authorize(principal, caches[repo_id], "download")).allowed
            if decisions.get(repo_id):
                ok.add(oid)
                break
    return ok


async def downloadable(ctx, conn, *, facts, oids: list[str]) -> set[str]:
    """The subset of `oids` referenced by the repo's history or uploaded for it."""
    if not oids:
        return set()
    ok = await catalog.granted(conn, oids=oids, repo_id=facts.repo_id)
    rest = [oid for oid in oids if oid not in ok]
    if rest:
        holders = await ctx.peers.holders(rest)
        ok.update(oid for oid in rest if any(r.repo_id == facts.repo_id for r in holders.get(oid, [])))
    return ok

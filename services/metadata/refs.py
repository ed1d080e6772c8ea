"""Refs and revisions. Refs change only by compare-and-swap inside a transaction:
`UPDATE refs SET target = new WHERE target = expected` (or INSERT for a new ref), so two writers
racing on one branch never lose a commit."""
from __future__ import annotations

import re
from dataclasses import dataclass

import asyncpg

from hangar_common.errors import BadRequest, Conflict, RevisionNotFound

from . import forcedupdates, indexes, outbox
from . import gitformat as gf
from .objects import ObjectStore

HEADS, TAGS = "refs/heads/", "refs/tags/"
# An abbreviated commit id, as `git rev-parse` takes it: at least 7 lowercase hex digits.
ABBREVIATED = re.compile(r"^[0-9a-f]{7,39}$")


@dataclass(frozen=True, slots=True)
class Resolved:
    commit: str
    ref: str        # full ref name, "" when the revision was a commit id


def short(ref: str) -> str:
    for prefix in (HEADS, TAGS):
        if ref.startswith(prefix):
            return ref[len(prefix):]
    return ref


async def peel(store: ObjectStore, oid: str) -> tuple[int, str]:
    """Follow annotated tags to the object they finally point to: (type, oid)."""
    for _ in range(10):
        facts = (await store.facts([oid])).get(oid)
        if facts is None or facts.type != gf.TAG:
            return (facts.type if facts else gf.COMMIT), oid
        _, oid = gf.parse_tag(await store.small(oid))
    raise BadRequest("Tag chain too long", code="InvalidRevision")


async def resolve(conn, store: ObjectStore, repo_id: int, default_branch: str, revision: str) -> Resolved:
    """A branch, tag, full ref (refs/heads/x, refs/tags/x, refs/pr/N), a 40-hex commit id, or an
    abbreviated one (7+ hex digits), of a commit that belongs to this repository; RevisionNotFound
    otherwise. Refs win over an abbreviation that spells the same name (as in git)."""
    revision = revision or default_branch
    if gf.HEX40.match(revision) and await indexes.belongs(conn, repo_id, revision):
        return Resolved(revision, "")
    candidates = [revision] if revision.startswith("refs/") else [HEADS + revision, TAGS + revision]
    rows = {r["name"]: r["target"] for r in await conn.fetch(
        "SELECT name, target FROM refs WHERE repo_id = $1 AND name = ANY($2)", repo_id, candidates)}
    for name in candidates:
        if name in rows:
            kind, target = await peel(store, rows[name])
            if kind == gf.COMMIT:
                return Resolved(target, name)
    if ABBREVIATED.match(revision):
        return Resolved(await expand_abbreviated(conn, repo_id, revision), "")
    raise RevisionNotFound(f"Invalid rev id: {revision}")


async def expand_abbreviated(conn, repo_id: int, prefix: str) -> str:
    """The one commit of this repository whose id starts with `prefix`. A range scan on the
    (repo_id, oid) primary key: only this repository's commits are ever looked at, so neither the
    answer nor the ambiguity error says anything about other repositories."""
    rows = await indexes.with_prefix(conn, repo_id, prefix)
    if not rows:
        raise RevisionNotFound(f"Invalid rev id: {prefix}")
    if len(rows) > 1:
        raise BadRequest(f"Ambiguous revision {prefix}: several commits of this repository start with it; "
                         "give more digits", code="AmbiguousRevision")
    return rows[0]


async def get(conn, repo_id: int, ref: str) -> str | None:
    return await conn.fetchval("SELECT target FROM refs WHERE repo_id = $1 AND name = $2", repo_id, ref)


async def all_refs(conn, repo_id: int) -> list[tuple[str, str]]:
    return [(r["name"], r["target"]) for r in await conn.fetch(
        "SELECT name, target FROM refs WHERE repo_id = $1 ORDER BY name", repo_id)]


async def compare_and_swap(conn, repo_id: int, ref: str, expected: str | None, new: str | None) -> bool:
    """Move `ref` from `expected` (None: must not exist) to `new` (None: delete). False when the
    ref was not at `expected`. Runs inside the caller's transaction, which also records the move in
    the event outbox (webhooks), so every ref that moves has its event and no other does."""
    if not await _swap(conn, repo_id, ref, expected, new):
        return False
    await outbox.ref_moved(conn, repo_id, ref, expected, new)
    return True


async def _swap(conn, repo_id: int, ref: str, expected: str | None, new: str | None) -> bool:
    if expected is None and new is not None:
        try:
            async with conn.transaction():   # savepoint: a lost race must not abort the caller
                await conn.execute("INSERT INTO refs (repo_id, name, target) VALUES ($1, $2, $3)",
                                   repo_id, ref, new)
            return True
        except asyncpg.UniqueViolationError:
            return False
    if new is None:
        status = await conn.execute("DELETE FROM refs WHERE repo_id = $1 AND name = $2 AND target = $3",
                                    repo_id, ref, expected)
    else:
        status = await conn.execute("UPDATE refs SET target = $4 WHERE repo_id = $1 AND name = $2 AND target = $3",
                                    repo_id, ref, expected, new)
    return status.endswith(" 1")


async def create(conn, repo_id: int, ref: str, target: str, *, exist_ok: bool, what: str) -> None:
    if not await compare_and_swap(conn, repo_id, ref, None, target):
        if exist_ok:
            return
        code = "BranchExists" if what == "branch" else "TagExists"
        raise Conflict(f"Reference {ref} already exists", code=code)   # the Hub's wording


async def delete(conn, repo_id: int, ref: str, *, what: str) -> None:
    current = await get(conn, repo_id, ref)
    if current is None or not await compare_and_swap(conn, repo_id, ref, current, None):
        raise RevisionNotFound(f"Invalid rev id: {short(ref)}")   # the Hub's wording


async def prune_unreachable(conn, store: ObjectStore, repo_id: int) -> None:
    """Forget commits no ref reaches any more (after a branch/tag deletion, a super-squash or a
    forced update). Tips a force push replaced stay roots for their grace period (forcedupdates.py).
    Tags are peeled through the object store (its own connections: safe inside the caller's
    transaction)."""
    targets = [target for _, target in await all_refs(conn, repo_id)] + await forcedupdates.kept_tips(conn, repo_id)
    tips = [(await peel(store, target))[1] for target in targets]
    await indexes.forget_unreachable(conn, repo_id, tips)

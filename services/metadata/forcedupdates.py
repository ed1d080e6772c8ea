"""Forced branch updates (`git push --force`), accepted from writers as on the Hub, and recorded:
who moved which branch from which tip to which. The old tip stays a root of reachability for a grace
period (HANGAR_FORCE_PUSH_GRACE seconds, a week by default), so the commits the push made unreachable
stay readable by id and safe from garbage collection until then; the first prune after it forgets
them. Branches listed in the repository's `protected_branches` (a Hangar extension, none by default)
refuse force pushes."""
from __future__ import annotations

from dataclasses import dataclass

from hangar_protos import metadata_pb2 as pb

from . import gitformat as gf


@dataclass(frozen=True, slots=True)
class Forced:
    ref: str
    old: str
    new: str


async def record(conn, repo_id: int, forced: list[Forced], pusher: str, *, grace: int) -> None:
    """In the transaction that moves the refs; `grace`: Settings.force_push_grace."""
    if not forced:
        return
    await conn.executemany(
        """INSERT INTO forced_updates (repo_id, ref, old_oid, new_oid, pusher, keep_until)
           VALUES ($1, $2, $3, $4, $5, now() + make_interval(secs => $6))""",
        [(repo_id, f.ref, f.old, f.new, pusher, grace) for f in forced])


async def kept_tips(conn, repo_id: int) -> list[str]:
    """Old tips still within their grace period: extra roots for indexes.prune_unreachable."""
    rows = await conn.fetch(
        "SELECT DISTINCT old_oid FROM forced_updates WHERE repo_id = $1 AND keep_until > now()", repo_id)
    return [r["old_oid"] for r in rows]


async def listing(conn, repo_id: int, *, offset: int, limit: int) -> list[pb.ForcedUpdate]:
    """Newest first."""
    rows = await conn.fetch(
        """SELECT ref, old_oid, new_oid, pusher, created_at, keep_until FROM forced_updates
           WHERE repo_id = $1 ORDER BY id DESC LIMIT $2 OFFSET $3""", repo_id, limit, offset)
    return [pb.ForcedUpdate(ref=r["ref"], old_oid=r["old_oid"], new_oid=r["new_oid"], pusher=r["pusher"],
                            date=gf.rfc3339(r["created_at"]), kept_until=gf.rfc3339(r["keep_until"]))
            for r in rows]

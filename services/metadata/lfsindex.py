"""The LFS reference index (lfs_refs), and the one module that queries it: rows written with each
indexed commit (indexes.write), and the queries for entitlement, accounting and garbage collection.
Rows exist only for commits some ref of the repository still reaches (pruned on deletions and
squashes), so "referenced" means "referenced by some revision"."""
from __future__ import annotations

from hangar_protos import common_pb2
from hangar_protos import metadata_pb2 as pb


async def add(conn, repo_id: int, commit_oid: str, lfs: dict[str, int], paths: dict[str, str] | None = None) -> None:
    """The LFS oids (oid -> size) a commit introduced, with a path each was put at (list_lfs_files'
    filename), in the caller's transaction."""
    if lfs:
        paths = paths or {}
        await conn.execute(
            """INSERT INTO lfs_refs (repo_id, commit_oid, lfs_oid, size, path)
               SELECT $1, $2, o, s, n FROM unnest($3::text[], $4::int8[], $5::text[]) AS t(o, s, n)
               ON CONFLICT DO NOTHING""",
            repo_id, commit_oid, list(lfs), list(lfs.values()), [paths.get(o) for o in lfs])


async def sizes_in_repo(conn, repo_id: int, oids: list[str]) -> dict[str, int]:
    """oid -> size of those of `oids` the repository's pointers already name."""
    return {r["lfs_oid"]: r["size"] for r in await conn.fetch(
        "SELECT lfs_oid, max(size) AS size FROM lfs_refs WHERE repo_id = $1 AND lfs_oid = ANY($2) GROUP BY lfs_oid",
        repo_id, oids)}


async def held(conn, repo_id: int, oids: list[str]) -> set[str]:
    """Those of `oids` the repository's history references."""
    return {r["lfs_oid"] for r in await conn.fetch(
        "SELECT DISTINCT lfs_oid FROM lfs_refs WHERE repo_id = $1 AND lfs_oid = ANY($2)", repo_id, oids)}


async def introductions(conn, repo_id: int) -> list:
    """(lfs_oid, size, path, commit_oid) of every commit that introduced an LFS object here."""
    return list(await conn.fetch(
        "SELECT lfs_oid, size, path, commit_oid FROM lfs_refs WHERE repo_id = $1", repo_id))


async def repo_bytes(conn, repo_id: int) -> int:
    return int(await conn.fetchval(
        "SELECT coalesce(sum(size), 0) FROM (SELECT DISTINCT lfs_oid, size FROM lfs_refs WHERE repo_id = $1) t",
        repo_id))


async def repos_bytes(conn, repo_ids: list[int]) -> dict[int, int]:
    """LFS bytes of each repository (each oid counted once per repository), in one query."""
    rows = await conn.fetch(
        """SELECT repo_id, sum(size) AS bytes FROM (SELECT DISTINCT repo_id, lfs_oid, size FROM lfs_refs
           WHERE repo_id = ANY($1::bigint[])) t GROUP BY repo_id""", repo_ids)
    return {r["repo_id"]: int(r["bytes"]) for r in rows}


async def holders(conn, oids: list[str]) -> dict[str, list[common_pb2.RepoFacts]]:
    """For each oid, the repositories whose history references it."""
    rows = await conn.fetch(
        """SELECT DISTINCT l.lfs_oid, r.id, r.type, r.namespace, r.name, r.private, r.gated
           FROM lfs_refs l JOIN repos r ON r.id = l.repo_id WHERE l.lfs_oid = ANY($1)
             -- An upstream cache's pointers came from the upstream, unchecked by the LFS rule:
             -- holding one proves nothing about the bytes here, so caches never count as holders.
             AND NOT EXISTS (SELECT 1 FROM upstream_repos u WHERE u.repo_id = r.id AND u.cache)
           ORDER BY l.lfs_oid, r.id""", [o.lower() for o in oids])
    found: dict[str, list[common_pb2.RepoFacts]] = {}
    for r in rows:
        found.setdefault(r["lfs_oid"], []).append(common_pb2.RepoFacts(
            repo=common_pb2.RepoRef(type=r["type"], namespace=r["namespace"], name=r["name"]),
            repo_id=str(r["id"]), private=r["private"], gated=r["gated"]))
    return found


async def repos_referencing(conn, oids: list[str]) -> pb.ReposReferencingOidsResponse:
    return pb.ReposReferencingOidsResponse(holders=[
        pb.ReposReferencingOidsResponse.Holders(oid=oid, repos=facts)
        for oid, facts in (await holders(conn, oids)).items()])


async def unreferenced(conn, oids: list[str]) -> list[str]:
    wanted = sorted({o.lower() for o in oids})
    # An object a lakeFS commit links (lakeFS engine) stays while its lakeFS repository exists.
    used = {r["lfs_oid"] for r in await conn.fetch(
        "SELECT lfs_oid FROM lfs_refs WHERE lfs_oid = ANY($1) "
        "UNION SELECT lfs_oid FROM lakefs_links WHERE lfs_oid = ANY($1)", wanted)}
    return [o for o in wanted if o not in used]


async def namespace_usage(conn, namespace: str) -> pb.NamespaceUsageResponse:
    """Each oid counted once: as public if any public repo of the namespace references it, else as
    private."""
    row = await conn.fetchrow(
        """SELECT coalesce(sum(size) FILTER (WHERE any_public), 0) AS public_bytes,
                  coalesce(sum(size) FILTER (WHERE NOT any_public), 0) AS private_bytes
           FROM (SELECT l.lfs_oid, max(l.size) AS size, bool_or(NOT r.private) AS any_public
                 FROM lfs_refs l JOIN repos r ON r.id = l.repo_id
                 WHERE lower(r.namespace) = lower($1) GROUP BY l.lfs_oid) t""", namespace)
    return pb.NamespaceUsageResponse(public_bytes=int(row["public_bytes"]), private_bytes=int(row["private_bytes"]))


NAMESPACE_OIDS_PAGE = 10_000


async def namespace_oids(conn, namespace: str, after: str, limit: int) -> list[str]:
    """The oids the namespace's repositories reference, ascending, after `after`."""
    limit = min(limit, NAMESPACE_OIDS_PAGE) if limit > 0 else NAMESPACE_OIDS_PAGE
    rows = await conn.fetch(
        """SELECT DISTINCT l.lfs_oid FROM lfs_refs l JOIN repos r ON r.id = l.repo_id
           WHERE lower(r.namespace) = lower($1) AND l.lfs_oid > $2 ORDER BY l.lfs_oid LIMIT $3""",
        namespace, after, limit)
    return [r["lfs_oid"] for r in rows]

"""The commit index, written in the same transaction as the ref update, and the one module that
queries its tables:

- repo_commits: which commits belong to a repository (a 40-hex revision must be one of them), their
  trees and parents, and what list_repo_commits shows, with generation numbers;
- path_changes: which paths each commit changed relative to its first parent, so `lastCommit` of
  tree entries and history filtered by path are index queries.

The LFS oids each commit introduced are planned here too and written by lfsindex.py (lfs_refs).
"""
from __future__ import annotations

from dataclasses import dataclass

from hangar_common.errors import BadRequest

from . import gitformat as gf
from . import lfsindex, pathrules, trees
from .commitgraph import CommitGraph
from .objects import ObjectStore

# Ancestors of a commit inside one repository, following every parent through the commit index.
ANCESTORS = """
WITH RECURSIVE anc(oid) AS (
    SELECT unnest($2::text[])
    UNION
    SELECT unnest(c.parents) FROM repo_commits c JOIN anc ON c.oid = anc.oid WHERE c.repo_id = $1
)"""


@dataclass(frozen=True, slots=True)
class Planned:
    """Index rows of one commit, computed before the transaction that writes them."""
    commit: gf.CommitFacts
    paths: list[str]
    lfs: dict[str, int]
    # (path, mode, oid) of what pathrules looks at: every tree that differs from the first
    # parent's at its path (the root included), and new symbolic links and .gitmodules files
    checked: tuple[tuple[str, int, str], ...] = ()
    lfs_paths: tuple[tuple[str, str], ...] = ()   # (lfs oid, a path the commit put it at)


async def plan(store: ObjectStore, commits: list[gf.CommitFacts], parent_trees: dict[str, str]) -> list[Planned]:
    """Changed paths and new LFS oids of commits (parents before children). Runs OUTSIDE the ref
    transaction: it reads immutable trees through the store's own connections, and a transaction
    that waited for a second pool connection could starve the pool under load.

    Paths count as changed relative to EVERY parent (git's history simplification: a merge that took
    a path from one side did not change it); LFS oids are new relative to the first parent, which
    keeps "every LFS oid of a reachable tree was introduced by a reachable commit" true, and is what
    lfscheck.LfsRule checks before any commit lands. The same induction makes the trees, links and
    .gitmodules that differ from the first parent all that pathrules must see (admission.py)."""
    tree_of = dict(parent_trees)
    out = []
    for c in commits:
        tree_of[c.oid] = c.tree
        bases = [tree_of[p] for p in c.parents if p in tree_of] or [None]
        changes = await trees.diff(store, bases[0], c.tree)
        changed = {ch.path for ch in changes}
        for other in bases[1:]:
            changed &= {ch.path for ch in await trees.diff(store, other, c.tree)}
        added = {ch.new.oid: ch.path for ch in changes if ch.new is not None and not gf.is_dir(ch.new.mode)
                 and not gf.is_gitlink(ch.new.mode)}
        lfs: dict[str, int] = {}
        lfs_paths: dict[str, str] = {}
        for blob_oid, f in (await store.facts(list(added))).items():
            if f.lfs_oid and lfs.setdefault(f.lfs_oid, f.lfs_size) != f.lfs_size:
                raise BadRequest(f"Pointers to LFS object {f.lfs_oid} disagree about its size",
                                 code="InvalidLfsPointer")
            if f.lfs_oid:
                lfs_paths.setdefault(f.lfs_oid, added[blob_oid])
        checked = [("", gf.DIR_MODE, c.tree), *((ch.path, ch.new.mode, ch.new.oid) for ch in changes
                                                if ch.new is not None and _path_checked(ch.new))]
        out.append(Planned(c, sorted(_db_text(p) for p in changed), lfs, tuple(checked),
                           tuple((o, _db_text(p)) for o, p in lfs_paths.items())))
    return out


async def write(conn, repo_id: int, planned: list[Planned]) -> None:
    """Insert the planned rows of commits the repository does not index yet (in the caller's
    transaction, with only this connection)."""
    commits = [p.commit for p in planned]
    known = await generations(conn, repo_id, list({p for c in commits for p in c.parents} | {c.oid for c in commits}))
    for p in planned:
        c = p.commit
        if c.oid in known:
            continue
        generation = 1 + max((known[x] for x in c.parents if x in known), default=0)
        known[c.oid] = generation
        await conn.execute(
            """INSERT INTO repo_commits (repo_id, oid, tree, parents, generation, author_name, author_email,
                                         date, title, message)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT DO NOTHING""",
            repo_id, c.oid, c.tree, list(c.parents), generation, c.author_name, c.author_email, c.date,
            c.title, c.message)
        await conn.execute(
            """INSERT INTO path_changes (repo_id, commit_oid, path, generation)
               SELECT $1, $2, p, $3 FROM unnest($4::text[]) AS p ON CONFLICT DO NOTHING""",
            repo_id, c.oid, generation, p.paths)
        await lfsindex.add(conn, repo_id, c.oid, p.lfs, dict(p.lfs_paths))


def _path_checked(item: gf.TreeItem) -> bool:
    kind = item.mode & 0o170000
    return kind in (gf.DIR_MODE, gf.LINK_MODE) or (kind == 0o100000 and pathrules.is_dotfile(item.name, "gitmodules"))


def _db_text(path: str) -> str:
    return path.replace("\x00", "")


async def forget_unreachable(conn, repo_id: int, tips: list[str]) -> None:
    """Forget the commits none of `tips` (the peeled ref targets, refs.prune_unreachable) reaches:
    their path and LFS index rows go with them (ON DELETE CASCADE)."""
    await conn.execute(
        ANCESTORS + """
        DELETE FROM repo_commits c WHERE c.repo_id = $1 AND NOT EXISTS (SELECT 1 FROM anc WHERE anc.oid = c.oid)""",
        repo_id, tips)


async def commit_order(conn, repo_id: int, oids: list[str]) -> dict[str, tuple]:
    """oid -> (generation, date) of those commits of the repository."""
    return {r["oid"]: (r["generation"], r["date"]) for r in await conn.fetch(
        "SELECT oid, generation, date FROM repo_commits WHERE repo_id = $1 AND oid = ANY($2)", repo_id, oids)}


async def belongs(conn, repo_id: int, oid: str) -> bool:
    return bool(await conn.fetchval("SELECT 1 FROM repo_commits WHERE repo_id = $1 AND oid = $2", repo_id, oid))


async def tree_of(conn, repo_id: int, oid: str) -> str | None:
    """The root tree of one of the repository's commits (None: not a commit of it)."""
    return await conn.fetchval("SELECT tree FROM repo_commits WHERE repo_id = $1 AND oid = $2", repo_id, oid)


async def commit_row(conn, repo_id: int, oid: str):
    """Everything the index holds of one commit (a record with the columns of repo_commits), or None."""
    return await conn.fetchrow("SELECT * FROM repo_commits WHERE repo_id = $1 AND oid = $2", repo_id, oid)


async def generations(conn, repo_id: int, oids: list[str]) -> dict[str, int]:
    """Generation numbers of those of `oids` the repository indexes."""
    return {r["oid"]: r["generation"] for r in await conn.fetch(
        "SELECT oid, generation FROM repo_commits WHERE repo_id = $1 AND oid = ANY($2)", repo_id, oids)}


async def with_prefix(conn, repo_id: int, prefix: str, *, limit: int = 2) -> list[str]:
    """Commit ids of this repository that start with `prefix` (a range scan on the (repo_id, oid)
    primary key: only this repository's commits are ever looked at)."""
    return [r["oid"] for r in await conn.fetch(
        "SELECT oid FROM repo_commits WHERE repo_id = $1 AND oid BETWEEN $2 AND $3 ORDER BY oid LIMIT $4",
        repo_id, prefix.ljust(40, "0"), prefix.ljust(40, "f"), limit)]


async def load_graph(conn, repo_id: int) -> CommitGraph:
    """The repository's whole commit graph, in one query (for the graph walks of git transport,
    pull request merges and upstream syncs)."""
    rows = await conn.fetch("SELECT oid, parents, tree FROM repo_commits WHERE repo_id = $1", repo_id)
    return CommitGraph({r["oid"]: tuple(r["parents"]) for r in rows}, {r["oid"]: r["tree"] for r in rows})


async def last_commits(conn, repo_id: int, commit: str, paths: list[str]) -> dict[str, dict]:
    """For each path, the newest ancestor of `commit` (itself included) that changed it."""
    if not paths:
        return {}
    rows = await conn.fetch(
        ANCESTORS + """
        SELECT DISTINCT ON (pc.path) pc.path, c.oid, c.title, c.date
        FROM path_changes pc JOIN anc ON anc.oid = pc.commit_oid
        JOIN repo_commits c ON c.repo_id = pc.repo_id AND c.oid = pc.commit_oid
        WHERE pc.repo_id = $1 AND pc.path = ANY($3::text[])
        ORDER BY pc.path, pc.generation DESC, c.date DESC""",
        repo_id, [commit], [_db_text(p) for p in paths])
    return {r["path"]: {"id": r["oid"], "title": r["title"], "date": gf.rfc3339(r["date"])} for r in rows}


async def list_commits(conn, repo_id: int, commit: str, *, offset: int, limit: int,
                       path: str = "") -> tuple[list, int]:
    """History of `commit` newest first (by generation, then date), optionally only the commits
    that changed `path`; with the total count."""
    where = "c.repo_id = $1"
    join = ""
    args: list = [repo_id, [commit]]
    if path:
        join = "JOIN path_changes pc ON pc.repo_id = c.repo_id AND pc.commit_oid = c.oid AND pc.path = $3"
        args.append(_db_text(path))
    base = f"{ANCESTORS} SELECT {{cols}} FROM repo_commits c JOIN anc ON anc.oid = c.oid {join} WHERE {where}"
    total = await conn.fetchval(base.format(cols="count(*)"), *args)
    n = len(args)
    rows = await conn.fetch(
        base.format(cols="c.*") + f" ORDER BY c.generation DESC, c.date DESC, c.oid LIMIT ${n + 1} OFFSET ${n + 2}",
        *args, limit, offset)
    return rows, total

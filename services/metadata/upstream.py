"""Repositories fed from the upstream Hub by the mirror service (issue 18, docs/mirror.md).

The mirror fetches the upstream's own git objects, so commits, trees and blobs keep their ids; this
module stores them and moves the refs, like a push (gitreceive.receive) with three differences the
header's `upstream` asks for: the repository may be created in the same transaction as its refs (a
failed sync leaves nothing visible), a cache follows the upstream's force pushes (non-fast-forward),
and LFS pointers are not checked for entitlement (the mirror stores verified LFS bytes itself).

A cache repository is read-only for everyone but the mirror and is shadowed by a local repository:
creating a local repository of the same name drops the cache (`drop_shadowed_cache`).
Trees that break Hangar's path rules are refused, naming the paths; never rewritten (that would
change the ids).
"""
from __future__ import annotations

from hangar_common.errors import (
    BadRequest,
    Conflict,
    Forbidden,
    HangarError,
    RepoNotFound,
)
from hangar_protos import metadata_pb2 as pb

from . import gitformat as gf
from . import indexes, names, refs, repos
from .commitgraph import CommitGraph
from .commits import max_regular_file
from .engine import Engine
from .gitfetch import tag_chains
from .gitreceive import Pushed, PushRefused, check_command, check_trees, collect_new, read_objects

MAX_REPORTED_PATHS = 50


async def is_cache(conn, repo_id: int) -> bool:
    return bool(await conn.fetchval("SELECT cache FROM upstream_repos WHERE repo_id = $1", repo_id))


async def is_mirrored(conn, repo_id: int) -> bool:
    """Fed from the upstream, as a cache or an import: its commit ids are the upstream's."""
    return bool(await conn.fetchval("SELECT 1 FROM upstream_repos WHERE repo_id = $1", repo_id))


async def refuse_if_cache(conn, repo_id: int) -> None:
    """Writes other than the mirror's own never touch a cache: it must keep the upstream's ids."""
    if await is_cache(conn, repo_id):
        raise Forbidden("This repository is a read-only mirror of the upstream Hub", code="ReadOnlyMirror")


async def drop_shadowed_cache(conn, repo_type: str, namespace: str, name: str) -> None:
    """A local repository takes the name of a cached upstream one: the cache goes (local repos win)."""
    await conn.execute(
        """DELETE FROM repos r USING upstream_repos u WHERE u.repo_id = r.id AND u.cache
           AND r.type = $1 AND lower(r.namespace) = lower($2) AND lower(r.name) = lower($3)""",
        repo_type, namespace, name)


async def sync(engine: Engine, stream) -> pb.GitReceiveResult:
    iterator = stream.__aiter__()
    try:
        first = await iterator.__anext__()
    except StopAsyncIteration:
        raise BadRequest("empty sync", code="InvalidPush") from None
    if first.WhichOneof("kind") != "header":
        raise BadRequest("a sync starts with its header", code="InvalidPush")
    header = first.header
    up = header.upstream
    repo = await _existing(engine, header.repo, up)
    pushed = Pushed(engine.store, tree_problems={})
    await read_objects(iterator, pushed, max_regular_file(engine.settings))
    commands = list(header.commands)
    try:
        for cmd in commands:
            try:
                check_command(cmd)
            except HangarError as exc:
                raise PushRefused(cmd.ref, exc.message) from None
        new_commits, graph = await _validate(engine, repo, pushed, commands, force=up.force)
        await check_paths(engine, [graph.trees[c] for c in new_commits], pushed.tree_problems or {})
        await _apply(engine, header, repo, commands, graph, new_commits, pushed)
    except PushRefused as refused:
        return pb.GitReceiveResult(ok=False, error=refused.reason if not refused.ref else "", results=[
            pb.RefResult(ref=c.ref, ok=False,
                         error=refused.reason if c.ref == refused.ref or not refused.ref else "atomic sync failed")
            for c in commands])
    return pb.GitReceiveResult(ok=True, results=[pb.RefResult(ref=c.ref, ok=True) for c in commands])


async def _existing(engine: Engine, ref, up) -> repos.Repo | None:
    async with engine.pool.acquire() as conn:
        try:
            repo = await repos.get(conn, ref.type, ref.namespace, ref.name, follow_redirects=False)
        except RepoNotFound:
            if not up.create:
                raise
            return None
        if up.cache and not await is_cache(conn, repo.id):
            raise Conflict("A local repository of this name shadows the upstream one", code="RepoExists")
        if up.create and not up.cache:
            # An import creates its repository: it never syncs into one that exists (nor replaces a
            # cache by a sync; `_create` drops the cache of that name in the same transaction).
            if await is_cache(conn, repo.id):
                return None
            raise Conflict("A repository of this name exists", code="RepoExists")
    return repo


async def _validate(engine: Engine, repo: repos.Repo | None, pushed: Pushed, commands, *,
                    force: bool) -> tuple[list[str], CommitGraph]:
    graph, current = CommitGraph({}, {}), {}
    if repo is not None:
        async with engine.pool.acquire() as conn:
            graph = await indexes.load_graph(conn, repo.id)
            current = dict(await refs.all_refs(conn, repo.id))
    known_tags = await tag_chains(engine.store, current.values())
    new_commits: set[str] = set()
    for cmd in commands:
        if current.get(cmd.ref, gf.ZERO_OID) != cmd.old_oid:
            raise PushRefused(cmd.ref, "stale info (the ref moved since it was read)")
        if cmd.new_oid == gf.ZERO_OID:
            continue
        target = cmd.new_oid
        while target in pushed.tags or target in known_tags:
            target = pushed.tags[target][1] if target in pushed.tags else known_tags[target]
        collect_new(cmd.ref, target, graph, pushed, new_commits)
        if cmd.old_oid != gf.ZERO_OID and not force and cmd.ref.startswith(refs.HEADS) \
                and not graph.is_ancestor(cmd.old_oid, target):
            raise PushRefused(cmd.ref, "non-fast-forward")
    await check_trees(engine.store, graph, pushed, new_commits)
    return graph.topological(new_commits), graph


async def check_paths(engine: Engine, roots: list[str], tree_problems: dict[str, str]) -> None:
    """Every path in these trees passes Hangar's path rules, and symlinks stay inside the tree;
    otherwise the whole sync is refused with the offending paths. `tree_problems`: what git's tree
    checks found in the sync's trees (by tree id), reported under the tree's path."""
    bad: list[str] = []
    seen: set[str] = set()
    frontier = [("", r) for r in dict.fromkeys(roots)]
    while frontier and len(bad) < MAX_REPORTED_PATHS:
        todo = [(p, t) for p, t in frontier if t not in seen]
        seen.update(t for _, t in todo)
        loaded = await engine.store.trees([t for _, t in todo])
        frontier = []
        for prefix, tree in todo:
            before = len(bad)
            for item in loaded.get(tree, ()):
                path = f"{prefix}{item.text}"
                try:
                    names.validate_path(path)
                except HangarError as exc:
                    bad.append(f"{path} ({exc.message.rsplit(': ', 1)[-1]})")
                    continue
                if gf.is_dir(item.mode):
                    frontier.append((path + "/", item.oid))
                elif item.mode == gf.LINK_MODE and not await _link_inside(engine, prefix, item.oid):
                    bad.append(f"{path} (symlink out of the repository)")
            if tree in tree_problems and len(bad) == before:
                bad.append(f"{prefix or './'}: {tree_problems[tree]}")
    if bad:
        raise PushRefused("", "upstream tree breaks the path rules: " + "; ".join(bad[:MAX_REPORTED_PATHS]))


async def _link_inside(engine: Engine, prefix: str, blob: str) -> bool:
    target = (await engine.store.small(blob) or b"").decode("utf-8", "replace")
    if not target or target.startswith("/") or "\\" in target:
        return False
    depth = prefix.count("/")
    for seg in target.split("/"):
        depth += -1 if seg == ".." else 0 if seg in ("", ".") else 1
        if depth < 0 or seg.lower() == ".git":
            return False
    return True


async def _apply(engine: Engine, header, repo: repos.Repo | None, commands, graph: CommitGraph,
                 new_commits: list[str], pushed: Pushed) -> None:
    up = header.upstream
    planned = await indexes.plan(engine.store, [pushed.commits[c] for c in new_commits], graph.trees)
    async with engine.pool.acquire() as conn, conn.transaction():
        if repo is None:
            repo_id = await _create(conn, header.repo, up)
        else:
            repo_id = repo.id
        await repos.touch(conn, repo_id)
        for cmd in commands:
            old = None if cmd.old_oid == gf.ZERO_OID else cmd.old_oid
            new = None if cmd.new_oid == gf.ZERO_OID else cmd.new_oid
            if not await refs.compare_and_swap(conn, repo_id, cmd.ref, old, new):
                raise PushRefused(cmd.ref, "stale info (the ref moved during the sync)")
        await indexes.write(conn, repo_id, planned)
        if any(c.new_oid == gf.ZERO_OID or c.old_oid != gf.ZERO_OID for c in commands):
            await refs.prune_unreachable(conn, engine.store, repo_id)
        for alias in up.aliases:
            await _alias(conn, repo_id, alias)


async def _create(conn, ref, up) -> int:
    # A cache replaces an older cache of its name; an import (a local repository) shadows one.
    await drop_shadowed_cache(conn, ref.type or "model", ref.namespace, ref.name)
    repo_id = await repos.insert(conn, ref.type or "model", ref.namespace, ref.name, private=up.private,
                                 space_sdk="")
    names.validate_ref_name(up.default_branch or "main", "branch")
    await conn.execute("UPDATE repos SET default_branch = $2, gated = $3 WHERE id = $1", repo_id,
                       up.default_branch or "main", up.gated if up.gated in ("auto", "manual") else "")
    await conn.execute("INSERT INTO upstream_repos (repo_id, cache) VALUES ($1, $2)", repo_id, up.cache)
    return repo_id


async def _alias(conn, repo_id: int, alias) -> None:
    """An old upstream name (a renamed repo) redirects here, as a moved local repo's would; a repo
    that holds that name keeps it."""
    await conn.execute(
        """INSERT INTO repo_redirects (type, namespace_lower, name_lower, repo_id)
           SELECT $1, lower($2), lower($3), $4 WHERE NOT EXISTS (
               SELECT 1 FROM repos WHERE type = $1 AND lower(namespace) = lower($2) AND lower(name) = lower($3))
           ON CONFLICT (type, namespace_lower, name_lower) DO UPDATE SET repo_id = EXCLUDED.repo_id""",
        alias.type or "model", alias.namespace, alias.name, repo_id)

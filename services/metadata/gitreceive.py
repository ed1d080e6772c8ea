"""Git transport, the push side (services/git/receive_pack.py is its caller): pushed objects stored
as they arrive, then the ref commands checked (fast-forward, complete trees, path and LFS rules at
admission) and applied all-or-nothing. gitfetch.py is the fetch side."""
from __future__ import annotations

from hangar_common.errors import BadRequest, HangarError, PayloadTooLarge
from hangar_protos import metadata_pb2 as pb

from . import admission, forcedupdates, indexes, names, pathrules, pullrefs, refs, repos
from . import gitformat as gf
from .commitgraph import CommitGraph
from .commits import max_regular_file
from .engine import Engine
from .gitfetch import tag_chains, walk_trees
from .lfscheck import LfsRule, repo_facts
from .objects import ObjectStore

STORE_BATCH = 16 * 1024 * 1024     # pushed bytes written per insert


class PushRefused(Exception):
    """A reason to refuse the whole push (reported per ref)."""

    def __init__(self, ref: str, reason: str) -> None:
        super().__init__(reason)
        self.ref, self.reason = ref, reason


class Pushed:
    """What a push brought: objects are stored as they arrive (insert-if-absent), commits and tags
    are kept parsed for validation."""

    def __init__(self, store: ObjectStore, *, tree_problems: dict[str, str] | None = None) -> None:
        self.store = store
        # When given (an upstream sync), a tree breaking the path rules is recorded here instead of
        # refusing the stream at once, so the refusal can name every offending path.
        self.tree_problems = tree_problems
        self.types: dict[str, int] = {}
        self.commits: dict[str, gf.CommitFacts] = {}
        self.tags: dict[str, tuple[int, str]] = {}
        self._pending: list[gf.RawObject] = []
        self._pending_bytes = 0

    async def add(self, type_num: int, data: bytes, claimed: str) -> None:
        if type_num not in gf.TYPE_NAMES:
            raise BadRequest(f"unknown object type {type_num}", code="InvalidObject")
        obj = gf.raw_object(type_num, data)
        if claimed and claimed != obj.oid:
            raise BadRequest(f"object {claimed} hashes to {obj.oid}", code="InvalidObject")
        problem = _fsck(obj)
        if problem and type_num == gf.TREE and self.tree_problems is not None:
            self.tree_problems[obj.oid] = problem
        elif problem:
            raise BadRequest(f"object {obj.oid}: {problem}", code="InvalidObject")
        try:
            if type_num == gf.COMMIT:
                self.commits[obj.oid] = gf.parse_commit(obj.oid, data)
            elif type_num == gf.TAG:
                self.tags[obj.oid] = gf.parse_tag(data)
        except Exception as exc:
            raise BadRequest(f"malformed {gf.TYPE_NAMES[type_num]} {obj.oid}: {exc}", code="InvalidObject") from None
        self.types[obj.oid] = type_num
        self._pending.append(obj)
        self._pending_bytes += len(data)
        if self._pending_bytes >= STORE_BATCH:
            await self.flush()

    async def flush(self) -> None:
        if self._pending:
            await self.store.put(self._pending)
            self._pending, self._pending_bytes = [], 0


def _fsck(obj: gf.RawObject) -> str | None:
    """git fsck's object checks on a pushed object: commits and tags well-formed, trees following
    git's path rules (pathrules.py; where a tree sits is checked at admission)."""
    if obj.type == gf.TREE:
        return admission.tree_checked(obj.oid, obj.data)
    if obj.type in (gf.COMMIT, gf.TAG):
        return pathrules.object_problem(obj.type, obj.data)
    return None


async def read_objects(stream, pushed: Pushed, max_object: int) -> None:
    """Pushed objects, reassembled from their pieces and stored as they complete. Objects are
    bounded like regular files of API commits: large files belong in LFS (and a bounded object
    keeps both this process's memory and PostgreSQL's sliced reads cheap)."""
    current: tuple[str, int, bytearray] | None = None
    async for chunk in stream:
        if chunk.WhichOneof("kind") != "objects":
            raise BadRequest("only one header per push", code="InvalidPush")
        for obj in chunk.objects.objects:
            if current is not None and obj.oid != current[0]:
                raise BadRequest(f"object {current[0]} was cut short", code="InvalidPush")
            if current is None:
                current = (obj.oid, obj.type, bytearray())
            current[2].extend(obj.data)
            if len(current[2]) > max_object:
                raise PayloadTooLarge(f"object {current[0]} is larger than {max_object} bytes: track it with git lfs",
                                      code="ObjectTooLarge")
            if not obj.more:
                await pushed.add(current[1], bytes(current[2]), current[0])
                current = None
    if current is not None:
        raise BadRequest(f"object {current[0]} was cut short", code="InvalidPush")
    await pushed.flush()


def check_command(cmd: pb.RefCommand) -> None:
    if not (gf.HEX40.match(cmd.old_oid) and gf.HEX40.match(cmd.new_oid)):
        raise PushRefused(cmd.ref, "invalid object id")
    if cmd.ref.startswith(refs.HEADS):
        names.validate_ref_name(cmd.ref[len(refs.HEADS):], "branch")
    elif cmd.ref.startswith(refs.TAGS):
        names.validate_ref_name(cmd.ref[len(refs.TAGS):], "tag")
    elif pullrefs.number_of(cmd.ref) is not None:
        if cmd.old_oid == gf.ZERO_OID or cmd.new_oid == gf.ZERO_OID:
            raise PushRefused(cmd.ref, "pull request refs are opened and closed through the API, "
                                       "not created or deleted by a push")
    else:
        raise PushRefused(cmd.ref, "only refs/heads/*, refs/tags/* and existing refs/pr/N can be pushed")


async def receive(engine: Engine, stream, get_repo) -> pb.GitReceiveResult:
    iterator = stream.__aiter__()
    try:
        first = await iterator.__anext__()
    except StopAsyncIteration:
        raise BadRequest("empty push", code="InvalidPush") from None
    if first.WhichOneof("kind") != "header":
        raise BadRequest("a push starts with its header", code="InvalidPush")
    header = first.header
    repo = await get_repo(header.repo)
    pushed = Pushed(engine.store)
    await read_objects(iterator, pushed, max_regular_file(engine.settings))
    commands = list(header.commands)
    try:
        for cmd in commands:
            try:
                check_command(cmd)
            except HangarError as exc:
                raise PushRefused(cmd.ref, exc.message) from None
        new_commits, graph, forced = await _validate(engine, repo, pushed, commands)
        await _apply(engine, repo, commands, graph, new_commits, pushed, LfsRule(engine.lfs, header.pusher,
                                                                                 repo_facts(repo)),
                     forced=forced, pusher=header.pusher.username)
    except PushRefused as refused:
        return pb.GitReceiveResult(ok=False, error="", results=[
            pb.RefResult(ref=c.ref, ok=False,
                         error=refused.reason if c.ref == refused.ref or not refused.ref else "atomic push failed")
            for c in commands])
    return pb.GitReceiveResult(ok=True, results=[pb.RefResult(ref=c.ref, ok=True) for c in commands])


async def _validate(engine: Engine, repo: repos.Repo, pushed: Pushed,
                    commands) -> tuple[list[str], CommitGraph, list[forcedupdates.Forced]]:
    """Every new ref target exists, is complete and of the right type. A branch that does not move
    forward is a force push: accepted as on the Hub (forcedupdates.py), unless the branch is protected;
    pull request refs and tags only move forward."""
    async with engine.pool.acquire() as conn:
        graph = await indexes.load_graph(conn, repo.id)
        current = dict(await refs.all_refs(conn, repo.id))
    known_tags = await tag_chains(engine.store, current.values())
    new_commits: set[str] = set()
    forced: list[forcedupdates.Forced] = []
    for cmd in commands:
        have = current.get(cmd.ref, gf.ZERO_OID)
        if have != cmd.old_oid:
            raise PushRefused(cmd.ref, "stale info (fetch first)")
        if cmd.new_oid == gf.ZERO_OID:
            if have == gf.ZERO_OID:
                raise PushRefused(cmd.ref, "no such ref to delete")
            if cmd.ref == refs.HEADS + repo.default_branch:
                raise PushRefused(cmd.ref, "refusing to delete the current branch")
            continue
        target = cmd.new_oid
        while target in pushed.tags or target in known_tags:
            if cmd.ref.startswith(refs.HEADS) or pullrefs.is_pr_ref(cmd.ref):
                raise PushRefused(cmd.ref, "a branch must point to a commit")
            target = pushed.tags[target][1] if target in pushed.tags else known_tags[target]
        collect_new(cmd.ref, target, graph, pushed, new_commits)
        if cmd.old_oid != gf.ZERO_OID:
            if cmd.ref.startswith(refs.TAGS):
                raise PushRefused(cmd.ref, "tag already exists")
            if not graph.is_ancestor(cmd.old_oid, target):
                forced.append(_forced(repo, cmd))
    await check_trees(engine.store, graph, pushed, new_commits)
    return graph.topological(new_commits), graph, forced


def _forced(repo: repos.Repo, cmd: pb.RefCommand) -> forcedupdates.Forced:
    if not cmd.ref.startswith(refs.HEADS):
        raise PushRefused(cmd.ref, "non-fast-forward")
    if cmd.ref[len(refs.HEADS):] in repo.protected_branches:
        raise PushRefused(cmd.ref, "non-fast-forward: force pushes to this protected branch are refused")
    return forcedupdates.Forced(cmd.ref, cmd.old_oid, cmd.new_oid)


def collect_new(ref: str, target: str, graph: CommitGraph, pushed: Pushed, new: set[str]) -> None:
    """Add to the graph the pushed commits `target` brings; every parent must be pushed or known."""
    stack = [target]
    while stack:
        oid = stack.pop()
        if oid in graph:
            continue
        facts = pushed.commits.get(oid)
        if facts is None:
            raise PushRefused(ref, f"missing commit {oid}")
        if oid not in graph:
            new.add(oid)
            graph.add(oid, facts.parents, facts.tree)
        stack.extend(facts.parents)


async def check_trees(store: ObjectStore, graph: CommitGraph, pushed: Pushed, new_commits: set[str]) -> None:
    """Trees of new commits are complete: each object was pushed, or is reachable from the trees of
    commits the repository already had (what the client assumed we have). Knowing an object id is not
    access: an object held only by another repository does not count."""
    external: set[str] = set()
    frontier = list({graph.trees[c] for c in new_commits})
    seen: set[str] = set()
    while frontier:
        pushed_trees = [t for t in frontier if pushed.types.get(t) == gf.TREE]
        external.update(t for t in frontier if pushed.types.get(t) != gf.TREE)
        loaded = await store.trees(pushed_trees)
        nxt = []
        for oid in pushed_trees:
            for item in loaded.get(oid, ()):
                if item.oid in seen or gf.is_gitlink(item.mode):
                    continue
                seen.add(item.oid)
                if gf.is_dir(item.mode):
                    nxt.append(item.oid)
                elif pushed.types.get(item.oid) != gf.BLOB:
                    external.add(item.oid)
        frontier = nxt
    if not external:
        return
    old = {c for c in graph.parents if c not in new_commits}
    edges = {p for c in new_commits for p in graph.parents[c] if p in old}
    known: set[str] = set()
    await walk_trees(store, (graph.trees[c] for c in edges), known)
    missing = external - known
    if missing and len(edges) < len(old):   # rare: objects from older history (a revert)
        await walk_trees(store, (graph.trees[c] for c in old), known)
        missing = external - known
    if missing:
        raise PushRefused("", f"missing object {sorted(missing)[0]}")


async def _apply(engine: Engine, repo: repos.Repo, commands, graph: CommitGraph, new_commits: list[str],
                 pushed: Pushed, rule: LfsRule, *, forced: list[forcedupdates.Forced], pusher: str) -> None:
    """Admission of the new commits (path rules, LFS rule: admission.py), then one transaction:
    compare-and-swap every ref, record force pushes, index the new commits, prune after deletions
    and force pushes (their old tips stay roots for the grace period)."""
    try:
        planned = await admission.admit(engine.store, rule, [pushed.commits[c] for c in new_commits], graph.trees)
    except HangarError as exc:
        raise PushRefused("", exc.message) from None
    async with engine.pool.acquire() as conn, conn.transaction():
        await repos.touch(conn, repo.id)
        for cmd in commands:
            if pullrefs.is_pr_ref(cmd.ref):
                try:
                    await pullrefs.lock_unmerged(conn, repo.id, cmd.ref)
                except HangarError as exc:
                    raise PushRefused(cmd.ref, exc.message) from None
        for cmd in commands:
            old = None if cmd.old_oid == gf.ZERO_OID else cmd.old_oid
            new = None if cmd.new_oid == gf.ZERO_OID else cmd.new_oid
            if not await refs.compare_and_swap(conn, repo.id, cmd.ref, old, new):
                raise PushRefused(cmd.ref, "stale info (the ref moved during the push)")
        await forcedupdates.record(conn, repo.id, forced, pusher, grace=engine.settings.force_push_grace)
        await indexes.write(conn, repo.id, planned)
        if forced or any(c.new_oid == gf.ZERO_OID for c in commands):
            await refs.prune_unreachable(conn, engine.store, repo.id)

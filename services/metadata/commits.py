"""Commits through the API: operations applied atomically to a branch.

With `parent_commit`, the branch must still point at it (else 412 Precondition Failed, code
ParentCommitMismatch, with the Hub's message).
Without it, the operations apply to the current tip and the ref compare-and-swap is retried on
the new tip, so parallel committers all land. New objects are written (insert-if-absent, one
batch) before the transaction that moves the ref and indexes the commit.
"""
from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass, field

from hangar_common.errors import (
    BadRequest,
    Conflict,
    EntryNotFound,
    PayloadTooLarge,
    PreconditionFailed,
    RevisionNotFound,
)
from hangar_protos import common_pb2

from . import admission, indexes, lfsindex, names, pullrefs, refs, repos, trees
from . import gitformat as gf
from .engine import Engine
from .lfscheck import LfsObjectRefused, LfsRule, repo_facts
from .treeops import TreeEditor

MIN_REGULAR_FILE_CAP = 64 * 1024 * 1024  # a regular file may exceed the LFS threshold up to this


def max_regular_file(settings) -> int:
    """Files at or above the LFS threshold are LFS files (preupload says so); a client ignoring that
    may still send regular files up to a bounded size."""
    return max(settings.lfs_threshold, MIN_REGULAR_FILE_CAP)
MAX_OPERATIONS = 100_000
MAX_ATTEMPTS = 64
EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


@dataclass
class Operation:
    kind: str                    # "file" | "lfs" | "delete" | "delete_folder" | "copy"
    path: str
    blob: gf.RawObject | None = None
    src_path: str = ""
    src_revision: str = ""
    lfs_oid: str = ""
    lfs_size: int = 0


@dataclass
class CommitRequest:
    repo: common_pb2.RepoRef
    branch: str
    summary: str
    description: str
    parent_commit: str
    author: common_pb2.Principal
    create_pr: bool
    operations: list[Operation] = field(default_factory=list)
    pr_number: int = 0


def message_of(summary: str, description: str) -> str:
    summary = summary.strip() or "Update files"
    return f"{summary}\n\n{description.strip()}\n" if description.strip() else f"{summary}\n"


def check_paths(request: CommitRequest) -> None:
    """Every path valid and named by at most one operation (BadRequest InvalidPath/DuplicatePath)."""
    if len(request.operations) > MAX_OPERATIONS:
        raise PayloadTooLarge(f"At most {MAX_OPERATIONS} operations per commit", code="TooManyOperations")
    seen: set[str] = set()
    for op in request.operations:
        if op.kind == "delete_folder":
            op.path = names.normalize_folder(op.path)
            if op.path:
                names.validate_path(op.path, existing=True)
        else:
            names.validate_path(op.path, existing=op.kind == "delete")
        if op.kind == "copy":
            names.validate_path(op.src_path, existing=True)
        key = (op.path + "/") if op.kind == "delete_folder" else op.path
        if key in seen:
            raise BadRequest(f"Path '{op.path}' appears in more than one operation", code="DuplicatePath")
        seen.add(key)


async def _lfs_objects(engine: Engine, repo: repos.Repo, ops: list[Operation], principal) -> dict[str, int]:
    """oid -> size of the lfsFile operations of a commit, with their pointer blobs built. A size of 0
    means "unknown" (huggingface_hub copies LFS files without one): it comes from the pointer this
    repository already references for that oid, else from lfs for an object the committer may use
    here (a cross-repository copy, after `lfs-files/duplicate`), else the object counts as missing.
    Whether the commit may reference them is decided with every other pointer it brings, in `land`."""
    lfs_ops = [op for op in ops if op.kind == "lfs"]
    unknown = list({op.lfs_oid for op in lfs_ops if op.lfs_size == 0})
    known: dict[str, int] = {}
    if unknown:
        async with engine.pool.acquire() as conn:
            known = await lfsindex.sizes_in_repo(conn, repo.id, unknown)
        rest = [oid for oid in unknown if oid not in known and oid != EMPTY_SHA256]
        if rest:
            known.update(await engine.lfs.usable_sizes(principal, repo_facts(repo), rest))
    sizes: dict[str, int] = {}
    for op in lfs_ops:
        size = op.lfs_size or known.get(op.lfs_oid, 0)
        if size == 0 and op.lfs_oid != EMPTY_SHA256:
            raise LfsObjectRefused(f"LFS object {op.lfs_oid} has no known size in this repository; "
                                   "send its size or upload it first")
        if sizes.setdefault(op.lfs_oid, size) != size:
            raise BadRequest(f"LFS object {op.lfs_oid} given with two sizes", code="InvalidLfsPointer")
        op.lfs_size = size
        op.blob = gf.blob(gf.lfs_pointer(op.lfs_oid, size))
    return sizes


async def _target_ref(engine: Engine, repo: repos.Repo, revision: str) -> str:
    """The ref a commit moves: an existing branch, or an unmerged pull request's `refs/pr/N`."""
    if pullrefs.is_pr_ref(revision):
        async with engine.pool.acquire() as conn:
            await pullrefs.check_writable(conn, repo.id, revision)
        return revision
    return await _branch_ref(engine, repo, revision)


async def _branch_ref(engine: Engine, repo: repos.Repo, revision: str) -> str:
    branch = revision or repo.default_branch
    if branch.startswith(refs.HEADS):
        branch = branch[len(refs.HEADS):]
    ref = refs.HEADS + branch
    async with engine.pool.acquire() as conn:
        if await refs.get(conn, repo.id, ref) is None:
            raise RevisionNotFound(f"Invalid rev id: {revision} (commits go to an existing branch)")
    return ref


async def _apply(engine: Engine, repo: repos.Repo, base_tree: str, ops: list[Operation]) -> TreeEditor:
    editor = TreeEditor(engine.store, base_tree)
    for op in ops:
        if op.kind in ("file", "lfs"):
            await editor.put(op.path, gf.FILE_MODE, op.blob.oid)
        elif op.kind == "delete":
            await editor.delete_file(op.path)
        elif op.kind == "delete_folder":
            await editor.delete_folder(op.path)
        elif op.kind == "copy":
            mode, oid = await _copy_source(engine, repo, base_tree, op)
            await editor.put(op.path, mode, oid)
    return editor


async def _copy_source(engine: Engine, repo: repos.Repo, base_tree: str, op: Operation) -> tuple[int, str]:
    """The (mode, oid) a copy refers to: the same blob, so copying an LFS file keeps its pointer."""
    root = base_tree
    if op.src_revision:
        async with engine.pool.acquire() as conn:
            resolved = await refs.resolve(conn, engine.store, repo.id, repo.default_branch, op.src_revision)
            root = await indexes.tree_of(conn, repo.id, resolved.commit)
    entry = await trees.lookup(engine.store, root, op.src_path)
    if entry is None or entry.is_dir:
        raise EntryNotFound(f"Cannot copy {op.src_path}: file not found")
    return entry.mode, entry.oid


async def create_commit(engine: Engine, request: CommitRequest) -> tuple[str, str, repos.Repo]:
    """Apply the operations on the branch and move it; returns (commit id, ref, repo)."""
    async with engine.pool.acquire() as conn:
        repo = await repos.get(conn, request.repo.type, request.repo.namespace, request.repo.name)
    if request.parent_commit and not gf.HEX40.match(request.parent_commit):
        raise BadRequest(f"Invalid parent commit '{request.parent_commit}'", code="InvalidParentCommit")
    check_paths(request)
    if request.create_pr:
        base_ref = await pullrefs.base_branch_ref(engine, repo, request.branch)
        ref = pullrefs.ref_name(request.pr_number)
    else:
        ref = await _target_ref(engine, repo, request.branch)
    await _lfs_objects(engine, repo, request.operations, request.author)
    await engine.store.put(op.blob for op in request.operations if op.blob is not None)
    author = gf.identity(request.author.username)
    message = message_of(request.summary, request.description)
    rule = LfsRule(engine.lfs, request.author, repo_facts(repo))
    if request.create_pr:
        return await _open_pull_request(engine, repo, ref, base_ref, request, author, message, rule), ref, repo
    for attempt in range(MAX_ATTEMPTS):
        oid = await _attempt(engine, repo, ref, request, author, message, rule)
        if oid is not None:
            return oid, ref, repo
        await asyncio.sleep(random.uniform(0, 0.005 * (attempt + 1)))
    raise Conflict("The branch moved too often while committing; retry", code="CommitContention")


async def _attempt(engine: Engine, repo: repos.Repo, ref: str, request: CommitRequest, author: bytes,
                   message: str, rule: LfsRule) -> str | None:
    async with engine.pool.acquire() as conn:
        tip = await refs.get(conn, repo.id, ref)
        if tip is None:
            raise RevisionNotFound(f"Branch {refs.short(ref)} was deleted")
        if request.parent_commit and request.parent_commit != tip:
            raise _parent_mismatch(request.parent_commit, tip)
        base_tree = await indexes.tree_of(conn, repo.id, tip)
    editor = await _apply(engine, repo, base_tree, request.operations)
    root, new_trees = editor.build()
    commit = gf.commit(root, [tip], author=author, message=message)
    await engine.store.put([*new_trees, commit])
    check = (lambda conn: pullrefs.lock_unmerged(conn, repo.id, ref)) if pullrefs.is_pr_ref(ref) else None
    landed = await land(engine, repo.id, ref, tip, commit, {tip: base_tree}, rule=rule, on_land=check)
    if not landed and request.parent_commit:
        raise _parent_mismatch(request.parent_commit, "a newer commit")
    return commit.oid if landed else None


async def _open_pull_request(engine: Engine, repo: repos.Repo, ref: str, base_ref: str, request: CommitRequest,
                             author: bytes, message: str, rule: LfsRule) -> str:
    """create_pr: the commit on the base branch's tip (or `parent_commit`), landed as the new
    `refs/pr/N` together with the PR's record: the branch itself never moves."""
    async with engine.pool.acquire() as conn:
        start = request.parent_commit or await refs.get(conn, repo.id, base_ref)
        if request.parent_commit and not await indexes.belongs(conn, repo.id, start):
            raise RevisionNotFound(f"Invalid rev id: {start} (not a commit of this repository)")
        base_tree = await indexes.tree_of(conn, repo.id, start)
    editor = await _apply(engine, repo, base_tree, request.operations)
    root, new_trees = editor.build()
    commit = gf.commit(root, [start], author=author, message=message)
    await engine.store.put([*new_trees, commit])

    async def record(conn) -> None:   # the repo row is locked: PR creations are serialized
        if await refs.get(conn, repo.id, ref) is not None or await pullrefs.exists(conn, repo.id, request.pr_number):
            raise Conflict(f"Pull request #{request.pr_number} already exists", code="PullRequestExists")
        await pullrefs.insert(conn, repo.id, request.pr_number, base_ref, start, request.author.user_id)

    if not await land(engine, repo.id, ref, None, commit, {start: base_tree}, rule=rule, on_land=record):
        raise Conflict(f"Pull request #{request.pr_number} already exists", code="PullRequestExists")
    return commit.oid


STALE_PARENT = "The branch was updated since you opened this page. Please refresh and try again."


def _parent_mismatch(parent: str, tip: str) -> PreconditionFailed:
    """412 with exactly the Hub's message: scripts match on it."""
    return PreconditionFailed(STALE_PARENT, code="ParentCommitMismatch")


async def land(engine: Engine, repo_id: int, ref: str, expected: str | None, commit: gf.RawObject,
               parent_trees: dict[str, str], *, rule: LfsRule, prune: bool = False, on_land=None) -> bool:
    """Admission (path rules and the LFS rule, admission.py), then in one transaction: lock the
    repo row, compare-and-swap the ref, index the commit. `on_land(conn)` runs first in that
    transaction (a pull request's own checks and record)."""
    planned = await admission.admit(engine.store, rule, [gf.parse_commit(commit.oid, commit.data)], parent_trees)
    async with engine.pool.acquire() as conn, conn.transaction():
        await repos.touch(conn, repo_id)
        if on_land is not None:
            await on_land(conn)
        if not await refs.compare_and_swap(conn, repo_id, ref, expected, commit.oid):
            return False
        await indexes.write(conn, repo_id, planned)
        if prune:
            await refs.prune_unreachable(conn, engine.store, repo_id)
    return True


async def super_squash(engine: Engine, repo_ref, branch: str, message: str, principal) -> tuple[str, str, repos.Repo]:
    """One parentless commit holding the branch's current tree; history no ref reaches is dropped
    from the indexes (and with it its LFS references)."""
    async with engine.pool.acquire() as conn:
        repo = await repos.get(conn, repo_ref.type, repo_ref.namespace, repo_ref.name)
    ref = await _branch_ref(engine, repo, branch)
    author = gf.identity(principal.username)
    rule = LfsRule(engine.lfs, principal, repo_facts(repo))
    for attempt in range(MAX_ATTEMPTS):
        async with engine.pool.acquire() as conn:
            tip = await refs.get(conn, repo.id, ref)
            tree = await indexes.tree_of(conn, repo.id, tip)
        commit = gf.commit(tree, [], author=author, message=message_of(message or "Super-squash branch", ""))
        await engine.store.put([commit])
        if await land(engine, repo.id, ref, tip, commit, {}, rule=rule, prune=True):
            return commit.oid, ref, repo
        await asyncio.sleep(random.uniform(0, 0.005 * (attempt + 1)))
    raise Conflict("The branch moved too often while squashing; retry", code="CommitContention")

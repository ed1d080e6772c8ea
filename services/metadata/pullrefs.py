"""Pull request refs: `refs/pr/N` as real refs (docs/architecture.md "Who owns what").

A PR ref is created from its base branch's tip (or a given commit of the repository), takes ordinary
commits (API commits, pushes by those allowed), and is merged into its base by the ref
compare-and-swap: a fast-forward when the base has not moved, otherwise a merge commit when the
paths the PR changed and the paths the base changed since their merge base do not overlap,
otherwise a MergeConflict. The `pull_refs` row is locked by every writer of the PR ref and by the
merge, and `merged_commit` is set in the transaction that moves the base branch: racing merges land
once, and nothing lands on a merged PR. Merged PR refs stay readable.
"""
from __future__ import annotations

import asyncio
import difflib
import random
import re
from dataclasses import dataclass

from hangar_common.errors import BadRequest, Conflict, HangarError, NotFound, RevisionNotFound
from hangar_protos import metadata_pb2 as pb

from . import admission, indexes, refs, repos, trees
from . import gitformat as gf
from .commitgraph import CommitGraph
from .engine import Engine
from .lfscheck import LfsRule, repo_facts
from .treeops import TreeEditor

PREFIX = "refs/pr/"
_PR_REF = re.compile(r"^refs/pr/([1-9][0-9]{0,8})$")
MAX_ATTEMPTS = 32
MAX_DIFF_BYTES = 1024 * 1024          # unified diff text in one answer
MAX_DIFF_FILE = 256 * 1024            # files larger than this are listed, not diffed


class PullRequestNotFound(NotFound):
    code = "PullRequestNotFound"


def ref_name(number: int) -> str:
    if not isinstance(number, int) or number <= 0 or number > 999_999_999:
        raise BadRequest(f"Invalid pull request number {number}", code="InvalidPullRequestNumber")
    return f"{PREFIX}{number}"


def number_of(ref: str) -> int | None:
    """N for `refs/pr/N`, else None."""
    match = _PR_REF.match(ref)
    return int(match.group(1)) if match else None


def is_pr_ref(ref: str) -> bool:
    return ref.startswith(PREFIX)


@dataclass(frozen=True, slots=True)
class Row:
    number: int
    base_ref: str
    start_commit: str
    owner_user_id: str
    merged_commit: str


async def _row(conn, repo_id: int, number: int, *, lock: str = "") -> Row | None:
    r = await conn.fetchrow(
        "SELECT num, base_ref, start_commit, owner_user_id, merged_commit FROM pull_refs "
        f"WHERE repo_id = $1 AND num = $2 {lock}", repo_id, number)
    if r is None:
        return None
    return Row(r["num"], r["base_ref"], r["start_commit"], r["owner_user_id"], r["merged_commit"] or "")


async def _existing(conn, repo_id: int, number: int, *, lock: str = "") -> Row:
    row = await _row(conn, repo_id, number, lock=lock)
    if row is None:
        raise PullRequestNotFound(f"Pull request #{number} not found")
    return row


async def exists(conn, repo_id: int, number: int) -> bool:
    return await _row(conn, repo_id, number) is not None


async def insert(conn, repo_id: int, number: int, base_ref: str, start: str, owner_user_id: str) -> None:
    """Record a new PR ref (inside the transaction that creates `refs/pr/N`)."""
    await conn.execute(
        "INSERT INTO pull_refs (repo_id, num, base_ref, start_commit, owner_user_id) VALUES ($1, $2, $3, $4, $5)",
        repo_id, number, base_ref, start, owner_user_id)


async def lock_unmerged(conn, repo_id: int, ref: str) -> None:
    """Inside the transaction that moves `refs/pr/N`: the PR exists and is not merged (the row lock
    orders this write with a concurrent merge)."""
    number = number_of(ref)
    if number is None:
        raise BadRequest(f"{ref} is not a pull request ref", code="InvalidRevision")
    row = await _row(conn, repo_id, number, lock="FOR SHARE")
    if row is None:
        raise RevisionNotFound(f"Invalid rev id: {ref}")
    if row.merged_commit:
        raise Conflict(f"Pull request #{number} is merged; open a new one", code="PullRequestMerged")


async def check_writable(conn, repo_id: int, ref: str) -> None:
    """Before building a commit for `refs/pr/N` (checked again when it lands)."""
    await lock_unmerged(conn, repo_id, ref)


async def _message(conn, repo_id: int, row: Row, tip: str | None) -> pb.PullRef:
    return pb.PullRef(number=row.number, ref=ref_name(row.number), base_ref=row.base_ref,
                      start_commit=row.start_commit, tip=tip or "", owner_user_id=row.owner_user_id,
                      merged_commit=row.merged_commit)


async def get(engine: Engine, repo: repos.Repo, number: int) -> pb.PullRef:
    ref_name(number)
    async with engine.pool.acquire() as conn:
        row = await _existing(conn, repo.id, number)
        return await _message(conn, repo.id, row, await refs.get(conn, repo.id, ref_name(number)))


async def create(engine: Engine, repo: repos.Repo, request: pb.CreatePullRefRequest) -> pb.PullRef:
    """`refs/pr/N` at the base branch's tip (or `start_commit`), recorded with its owner."""
    ref = ref_name(request.number)
    base_ref = await base_branch_ref(engine, repo, request.base_branch)
    async with engine.pool.acquire() as conn:
        start = await _start(conn, repo, base_ref, request.start_commit)
    async with engine.pool.acquire() as conn, conn.transaction():
        await repos.touch(conn, repo.id)
        if await _row(conn, repo.id, request.number) is not None or \
                not await refs.compare_and_swap(conn, repo.id, ref, None, start):
            raise Conflict(f"Pull request #{request.number} already exists", code="PullRequestExists")
        await insert(conn, repo.id, request.number, base_ref, start, request.owner.user_id)
        row = await _existing(conn, repo.id, request.number)
        return await _message(conn, repo.id, row, start)


async def base_branch_ref(engine: Engine, repo: repos.Repo, branch: str) -> str:
    """The existing branch a PR targets (`refs/heads/...`); the default branch when empty."""
    branch = branch or repo.default_branch
    if branch.startswith(refs.HEADS):
        branch = branch[len(refs.HEADS):]
    if branch.startswith("refs/"):
        raise BadRequest(f"A pull request targets a branch, not {branch}", code="InvalidRevision")
    ref = refs.HEADS + branch
    async with engine.pool.acquire() as conn:
        if await refs.get(conn, repo.id, ref) is None:
            raise RevisionNotFound(f"Invalid rev id: {branch} (a pull request targets an existing branch)")
    return ref


async def _start(conn, repo: repos.Repo, base_ref: str, start_commit: str) -> str:
    if not start_commit:
        return await refs.get(conn, repo.id, base_ref)
    if not gf.HEX40.match(start_commit) or not await indexes.belongs(conn, repo.id, start_commit):
        raise RevisionNotFound(f"Invalid rev id: {start_commit} (not a commit of this repository)")
    return start_commit


async def delete(engine: Engine, repo: repos.Repo, number: int) -> None:
    ref = ref_name(number)
    async with engine.pool.acquire() as conn, conn.transaction():
        await repos.touch(conn, repo.id)
        row = await _existing(conn, repo.id, number, lock="FOR UPDATE")
        if row.merged_commit:
            raise Conflict(f"Pull request #{number} is merged", code="PullRequestMerged")
        tip = await refs.get(conn, repo.id, ref)
        if tip is not None:
            await refs.compare_and_swap(conn, repo.id, ref, tip, None)
        await conn.execute("DELETE FROM pull_refs WHERE repo_id = $1 AND num = $2", repo.id, number)
        await refs.prune_unreachable(conn, engine.store, repo.id)


# --- merge ------------------------------------------------------------------------------------------

@dataclass
class _Plan:
    base_tip: str
    pr_tip: str
    new: gf.RawObject | None           # the merge commit; None for a fast-forward
    new_trees: list[gf.RawObject]
    target: str                        # what the base branch will point to
    parent_trees: dict[str, str]


async def _state(engine: Engine, repo: repos.Repo, number: int):
    # One snapshot: a merge moves the base ref and marks the PR merged in one transaction, so a
    # racing merger sees both or neither (never "nothing to merge" for a PR that another just merged).
    async with engine.pool.acquire() as conn, conn.transaction(isolation="repeatable_read", readonly=True):
        row = await _existing(conn, repo.id, number)
        pr_tip = await refs.get(conn, repo.id, ref_name(number))
        base_tip = await refs.get(conn, repo.id, row.base_ref)
        graph = await indexes.load_graph(conn, repo.id)
        if base_tip is None:
            raise RevisionNotFound(f"The base branch {refs.short(row.base_ref)} of pull request #{number} is gone")
        base = await merge_base(conn, repo.id, graph, base_tip, pr_tip)
    return row, pr_tip, base_tip, graph, base


async def merge_base(conn, repo_id: int, graph: CommitGraph, a: str, b: str) -> str | None:
    """The best common ancestor of two commits: the common one of highest generation."""
    common = graph.reachable([a]) & graph.reachable([b])
    if not common:
        return None
    generation = await indexes.generations(conn, repo_id, list(common))
    return max(generation, key=lambda oid: (generation[oid], oid))


def _file_changes(changes: list[trees.Change]) -> dict[str, trees.Change]:
    """Changes of files (blobs, symlinks, gitlinks) by path; directory entries are implied."""
    return {c.path: c for c in changes
            if (c.old is not None and not gf.is_dir(c.old.mode)) or (c.new is not None and not gf.is_dir(c.new.mode))}


def _same_result(a: trees.Change, b: trees.Change) -> bool:
    def file_of(c):
        return None if c.new is None or gf.is_dir(c.new.mode) else (c.new.mode, c.new.oid)
    return file_of(a) == file_of(b)


def conflicts(pr: dict[str, trees.Change], base: dict[str, trees.Change]) -> list[str]:
    """Paths both sides changed differently, including a file on one side under or above a path
    the other side changed (a file replaced by a folder)."""
    out = set()
    for path, change in pr.items():
        if path in base and not _same_result(change, base[path]):
            out.add(path)
    for mine, theirs in ((pr, base), (base, pr)):
        for path in mine:
            parts = path.split("/")
            for i in range(1, len(parts)):
                if "/".join(parts[:i]) in theirs:
                    out.add(path)
    return sorted(out)


async def _diff_files(engine: Engine, graph: CommitGraph, old: str | None, new: str) -> dict[str, trees.Change]:
    if old == new:
        return {}
    return _file_changes(await trees.diff(engine.store, graph.trees[old] if old else None, graph.trees[new]))


async def _plan(engine: Engine, repo: repos.Repo, number: int, merger, message: str) -> tuple[Row, _Plan]:
    row, pr_tip, base_tip, graph, base = await _state(engine, repo, number)
    if row.merged_commit:
        raise Conflict(f"Pull request #{number} is already merged", code="PullRequestAlreadyMerged")
    if graph.is_ancestor(pr_tip, base_tip):
        raise Conflict(f"Pull request #{number} has no changes to merge into {refs.short(row.base_ref)}",
                       code="NothingToMerge")
    if graph.is_ancestor(base_tip, pr_tip):
        return row, _Plan(base_tip, pr_tip, None, [], pr_tip, {})
    pr_changes = await _diff_files(engine, graph, base, pr_tip)
    base_changes = await _diff_files(engine, graph, base, base_tip)
    clashing = conflicts(pr_changes, base_changes)
    if clashing:
        raise _conflict_error(number, clashing)
    editor = TreeEditor(engine.store, graph.trees[base_tip])
    try:
        for path, change in sorted(pr_changes.items()):
            if path in base_changes:
                continue               # both sides made the same change
            if change.new is None or gf.is_dir(change.new.mode):
                await editor.delete_file(path)
        for path, change in sorted(pr_changes.items()):
            if path not in base_changes and change.new is not None and not gf.is_dir(change.new.mode):
                await editor.put(path, change.new.mode, change.new.oid)
    except HangarError:
        raise _conflict_error(number, sorted(pr_changes)) from None
    root, new_trees = editor.build()
    commit = gf.commit(root, [base_tip, pr_tip], author=gf.identity(merger.username),
                       message=message or f"Merge pull request #{number}\n")
    parents = {base_tip: graph.trees[base_tip], pr_tip: graph.trees[pr_tip]}
    return row, _Plan(base_tip, pr_tip, commit, new_trees, commit.oid, parents)


def _conflict_error(number: int, paths: list[str]) -> Conflict:
    shown = ", ".join(paths[:20]) + (" ..." if len(paths) > 20 else "")
    return Conflict(f"Pull request #{number} cannot be merged automatically: conflicting files: {shown}",
                    code="MergeConflict")


async def merge(engine: Engine, repo: repos.Repo, request: pb.MergePullRefRequest) -> pb.PullRef:
    ref = ref_name(request.number)
    rule = LfsRule(engine.lfs, request.merger, repo_facts(repo))
    for attempt in range(MAX_ATTEMPTS):
        row, plan = await _plan(engine, repo, request.number, request.merger, request.message)
        planned = []
        if plan.new is not None:
            await engine.store.put([*plan.new_trees, plan.new])
            # Admission (admission.py) of the merge commit; a fast-forward adds only commits of
            # this repository's PR ref, admitted when they landed.
            planned = await admission.admit(engine.store, rule, [gf.parse_commit(plan.new.oid, plan.new.data)],
                                            plan.parent_trees)
        async with engine.pool.acquire() as conn, conn.transaction():
            await repos.touch(conn, repo.id)
            locked = await _existing(conn, repo.id, request.number, lock="FOR UPDATE")
            if locked.merged_commit:
                raise Conflict(f"Pull request #{request.number} is already merged", code="PullRequestAlreadyMerged")
            moved = await refs.get(conn, repo.id, ref) != plan.pr_tip
            if not moved and await refs.compare_and_swap(conn, repo.id, row.base_ref, plan.base_tip, plan.target):
                await indexes.write(conn, repo.id, planned)
                await conn.execute("UPDATE pull_refs SET merged_commit = $3, merged_at = now() "
                                   "WHERE repo_id = $1 AND num = $2", repo.id, request.number, plan.target)
                answer = await _message(conn, repo.id, await _existing(conn, repo.id, request.number), plan.pr_tip)
                answer.fast_forward = plan.new is None
                return answer
        await asyncio.sleep(random.uniform(0, 0.005 * (attempt + 1)))
    raise Conflict("The branch moved too often while merging; retry", code="CommitContention")


# --- changes ----------------------------------------------------------------------------------------

async def changes(engine: Engine, repo: repos.Repo, request: pb.PullRefRequest) -> pb.PullRefChangesResponse:
    """What the PR changes against the merge base with its base branch (against the base as it was
    when merged, for a merged PR), the files both changed, and optionally a unified diff."""
    row, pr_tip, base_tip, graph, base = await _state(engine, repo, request.number)
    pull = await get(engine, repo, request.number)
    if row.merged_commit:
        # After the merge the PR is part of its base: show it against the base as it was then.
        merged = row.merged_commit
        if merged != pr_tip and merged in graph and graph.parents[merged]:
            async with engine.pool.acquire() as conn:
                base = await merge_base(conn, repo.id, graph, graph.parents[merged][0], pr_tip)
        else:
            base = row.start_commit if row.start_commit in graph else base
    pr_changes = await _diff_files(engine, graph, base, pr_tip)
    if not row.merged_commit:
        pull.conflicting_files.extend(conflicts(pr_changes, await _diff_files(engine, graph, base, base_tip)))
    oids = [o for c in pr_changes.values() for o in (c.old.oid if c.old else None, c.new.oid if c.new else None) if o]
    facts = await engine.store.facts(oids)
    answer = pb.PullRefChangesResponse(pull=pull, merge_base=base or "")
    for path, change in sorted(pr_changes.items()):
        answer.files.append(_changed_file(path, change, facts))
    if request.with_diff:
        answer.diff, answer.diff_truncated = await _unified(engine, answer.files, facts)
    return answer


def _lfs_info(oid: str, facts) -> pb.LfsInfo | None:
    f = facts.get(oid)
    if f is None or not f.lfs_oid:
        return None
    return pb.LfsInfo(oid=f.lfs_oid, size=f.lfs_size, pointer_size=f.size)


def _changed_file(path: str, change: trees.Change, facts) -> pb.ChangedFile:
    old = change.old.oid if change.old is not None and not gf.is_dir(change.old.mode) else ""
    new = change.new.oid if change.new is not None and not gf.is_dir(change.new.mode) else ""
    status = "added" if not old else "deleted" if not new else "modified"
    item = pb.ChangedFile(path=path, status=status, old_oid=old, new_oid=new)
    for oid, field in ((old, item.old_lfs), (new, item.new_lfs)):
        info = _lfs_info(oid, facts) if oid else None
        if info is not None:
            field.CopyFrom(info)
    item.binary = bool(item.HasField("old_lfs") or item.HasField("new_lfs")) or any(
        oid and (oid not in facts or facts[oid].size > MAX_DIFF_FILE) for oid in (old, new))
    return item


async def _unified(engine: Engine, files, facts) -> tuple[str, bool]:
    """A git-style unified diff of the changed text files, at most MAX_DIFF_BYTES."""
    out: list = []
    size = 0
    for f in files:
        text = await _file_diff(engine, f)
        if size + len(text) > MAX_DIFF_BYTES:
            return "".join(out), True
        out.append(text)
        size += len(text)
    return "".join(out), False


async def _file_diff(engine: Engine, f: pb.ChangedFile) -> str:
    head = f"diff --git a/{f.path} b/{f.path}\n"
    if f.status == "added":
        head += "new file mode 100644\n"
    elif f.status == "deleted":
        head += "deleted file mode 100644\n"
    head += f"index {(f.old_oid or gf.ZERO_OID)[:7]}..{(f.new_oid or gf.ZERO_OID)[:7]}\n"
    old_name = f"a/{f.path}" if f.old_oid else "/dev/null"
    new_name = f"b/{f.path}" if f.new_oid else "/dev/null"
    texts: list = []
    if not f.binary:
        raw = await engine.store.raw([o for o in (f.old_oid, f.new_oid) if o])
        for oid in (f.old_oid, f.new_oid):
            data = raw[oid][1] if oid else b""
            if b"\0" in data:
                texts = None
                break
            texts.append(data.decode("utf-8", "replace").splitlines(keepends=True))
    if f.binary or texts is None:
        return head + f"Binary files {old_name} and {new_name} differ\n"
    lines = difflib.unified_diff(texts[0], texts[1], old_name, new_name)
    return head + "".join(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n"
                          for line in lines)


async def follow_rewrite(conn, repo_id: int, rewritten: dict[str, str]) -> None:
    """Pull requests' recorded start and merge commits follow a history rewrite (lfsfiles.py)."""
    for row in await conn.fetch("SELECT num, start_commit, merged_commit FROM pull_refs WHERE repo_id = $1",
                                repo_id):
        start = rewritten.get(row["start_commit"], row["start_commit"])
        merged = rewritten.get(row["merged_commit"], row["merged_commit"]) if row["merged_commit"] else None
        if start != row["start_commit"] or merged != row["merged_commit"]:
            await conn.execute("UPDATE pull_refs SET start_commit = $3, merged_commit = $4 "
                               "WHERE repo_id = $1 AND num = $2", repo_id, row["num"], start, merged)

"""Property: over random histories made with the real client (commits, deletions, branches, branch
deletions, squashes, and collections in between), garbage collection never deletes an object that
some revision references."""
from __future__ import annotations

import os
import random

from huggingface_hub import CommitOperationAdd, CommitOperationDelete, HfApi
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .gcutil import run_gc
from .lfsutil import batch, bearer, create_repo

STEPS = st.lists(st.sampled_from(["add", "reuse", "delete", "branch", "drop_branch", "squash", "gc"]),
                 min_size=2, max_size=8)


def _referenced(api: HfApi, repo: str) -> dict[str, int]:
    """Every LFS oid in any commit reachable from any branch or tag."""
    refs = api.list_repo_refs(repo)
    found: dict[str, int] = {}
    for ref in [*refs.branches, *refs.tags]:
        for commit in api.list_repo_commits(repo, revision=ref.target_commit):
            for entry in api.list_repo_tree(repo, revision=commit.commit_id, recursive=True):
                lfs = getattr(entry, "lfs", None)
                if lfs:
                    found[lfs.sha256] = lfs.size
    return found


def _apply(stack, api, repo, step, rng, contents, paths, branches):
    if step == "gc":  # collect mid-history: later commits re-upload what was collected
        run_gc(stack, "--grace", "0")
    elif step in ("add", "reuse") or not paths:
        data = rng.choice(contents) if step == "reuse" and contents else os.urandom(rng.randint(100, 3000))
        contents.append(data)
        path = f"f{len(contents)}.bin"
        api.create_commit(repo, [CommitOperationAdd(path, data)], commit_message=step)
        paths.append(path)
    elif step == "delete":
        path = paths.pop(rng.randrange(len(paths)))
        api.create_commit(repo, [CommitOperationDelete(path)], commit_message="delete")
    elif step == "branch":
        name = f"b{len(branches)}-{rng.randrange(1 << 20)}"
        api.create_branch(repo, branch=name)
        branches.append(name)
    elif step == "drop_branch" and branches:
        api.delete_branch(repo, branch=branches.pop(rng.randrange(len(branches))))
    elif step == "squash":
        api.super_squash_history(repo, commit_message="squash")


@settings(max_examples=5, deadline=None, suppress_health_check=list(HealthCheck))
@given(steps=STEPS, seed=st.integers(0, 2 ** 32))
def test_gc_never_deletes_a_referenced_object(stack, endpoint, user, s3, steps, seed):
    api = HfApi(endpoint=endpoint, token=user.token)
    repo = create_repo(endpoint, user.token)
    rng = random.Random(seed)
    contents, paths, branches = [], [], []
    for step in steps:
        _apply(stack, api, repo, step, rng, contents, paths, branches)
    run_gc(stack, "--grace", "0")
    referenced = _referenced(api, repo)
    for oid, size in referenced.items():
        assert s3.has(oid), f"referenced object {oid} was collected"
        answer = batch(endpoint, repo, "download", [(oid, size)], headers=bearer(user.token)).json()
        assert "actions" in answer["objects"][0]

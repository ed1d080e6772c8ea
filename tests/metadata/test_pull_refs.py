"""refs/pr/N in metadata (issue 13): created from the base tip or a given commit, committed onto,
read at, listed, pushed to only while unmerged, merged by compare-and-swap on the base branch
(fast-forward, merge commit when paths do not overlap, MergeConflict otherwise), racing merges
landing once, and the changed files with their diff."""
from __future__ import annotations

import asyncio

import grpc
import pytest

from hangar_protos import common_pb2
from hangar_protos import metadata_pb2 as pb

from .conftest import ALICE, commit, error_code, new_repo, tree_entries

BOB = common_pb2.Principal(user_id="2", username="bob")


async def _tip(md, repo, revision="main") -> str:
    return (await md.ResolveRevision(pb.RevisionRequest(repo=repo, revision=revision))).commit


async def _files(md, repo, revision) -> dict[str, str]:
    entries, _, _ = await tree_entries(md, repo, revision=revision)
    out = {}
    for e in entries:
        if e.type == "file":
            async for chunk in md.ReadFile(pb.ReadFileRequest(repo=repo, revision=revision, path=e.path)):
                if chunk.WhichOneof("kind") == "data":
                    out[e.path] = out.get(e.path, "") + chunk.data.decode()
            out.setdefault(e.path, "")
    return out


async def _refused(awaitable, code: str):
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await awaitable
    assert error_code(err.value) == code, err.value
    return err.value


async def test_create_pr_commit_opens_the_ref_and_leaves_the_branch(md):
    repo = await new_repo(md)
    await commit(md, repo, {"a.txt": b"a\n"})
    main = await _tip(md, repo)
    result = await md.Commit(_stream(repo, {"b.txt": b"b\n"}, create_pr=True, pr_number=1, author=BOB))
    assert result.ref == "refs/pr/1"
    assert await _tip(md, repo) == main
    assert await _tip(md, repo, "refs/pr/1") == result.commit_oid
    main_files = await _files(md, repo, "main")
    assert (await _files(md, repo, "refs/pr/1")) == {".gitattributes": main_files[".gitattributes"],
                                                      "a.txt": "a\n", "b.txt": "b\n"}
    pull = await md.GetPullRef(pb.PullRefRequest(repo=repo, number=1))
    assert (pull.base_ref, pull.start_commit, pull.owner_user_id, pull.tip) == (
        "refs/heads/main", main, "2", result.commit_oid)
    refs = await md.ListRefs(pb.RepoRequest(repo=repo))
    assert [(r.ref, r.target_commit) for r in refs.pull_requests] == [("refs/pr/1", result.commit_oid)]
    assert [b.name for b in refs.branches] == ["main"]
    # the same number twice is refused and changes nothing
    await _refused(md.Commit(_stream(repo, {"c.txt": b"c"}, create_pr=True, pr_number=1)), "PullRequestExists")
    assert await _tip(md, repo, "refs/pr/1") == result.commit_oid


async def test_create_pr_from_parent_commit_and_commits_onto_the_ref(md):
    repo = await new_repo(md)
    first = await commit(md, repo, {"a.txt": b"1"})
    await commit(md, repo, {"a.txt": b"2"})
    opened = await md.Commit(_stream(repo, {"p.txt": b"p"}, create_pr=True, pr_number=3, parent=first))
    pull = await md.GetPullRef(pb.PullRefRequest(repo=repo, number=3))
    assert pull.start_commit == first
    assert (await _files(md, repo, "refs/pr/3"))["a.txt"] == "1"
    second = await commit(md, repo, {"q.txt": b"q"}, revision="refs/pr/3")
    listed = await md.ListCommits(pb.ListCommitsRequest(repo=repo, revision="refs/pr/3", limit=10))
    assert [c.id for c in listed.commits[:2]] == [second, opened.commit_oid]
    await _refused(commit(md, repo, {"x": b"x"}, revision="refs/pr/99"), "RevisionNotFound")
    await _refused(md.Commit(_stream(repo, {"x": b"x"}, create_pr=True, pr_number=4, parent="f" * 40)),
                   "RevisionNotFound")


async def test_create_branch_named_like_a_pr_ref_is_refused(md):
    repo = await new_repo(md)
    await _refused(md.CreateBranch(pb.CreateBranchRequest(repo=repo, name="refs/pr/1")), "InvalidRefName")


async def test_draft_pr_ref_then_fast_forward_merge(md):
    repo = await new_repo(md)
    main = await _tip(md, repo)
    pull = await md.CreatePullRef(pb.CreatePullRefRequest(repo=repo, number=1, owner=BOB))
    assert pull.tip == main and pull.ref == "refs/pr/1"
    await _refused(md.MergePullRef(pb.MergePullRefRequest(repo=repo, number=1, merger=ALICE)), "NothingToMerge")
    pr_commit = await commit(md, repo, {"new.txt": b"n"}, revision="refs/pr/1")
    merged = await md.MergePullRef(pb.MergePullRefRequest(repo=repo, number=1, merger=ALICE))
    assert merged.fast_forward and merged.merged_commit == pr_commit
    assert await _tip(md, repo) == pr_commit
    # merged: the ref stays readable, takes no more commits, merges no more
    assert await _tip(md, repo, "refs/pr/1") == pr_commit
    await _refused(commit(md, repo, {"late.txt": b"l"}, revision="refs/pr/1"), "PullRequestMerged")
    await _refused(md.MergePullRef(pb.MergePullRefRequest(repo=repo, number=1, merger=ALICE)),
                   "PullRequestAlreadyMerged")
    await _refused(md.DeletePullRef(pb.PullRefRequest(repo=repo, number=1)), "PullRequestMerged")
    changes = await md.PullRefChanges(pb.PullRefRequest(repo=repo, number=1, with_diff=True))
    assert [(f.path, f.status) for f in changes.files] == [("new.txt", "added")]


async def test_merge_commit_when_paths_do_not_overlap_and_conflict_when_they_do(md):
    repo = await new_repo(md)
    await commit(md, repo, {"shared.txt": b"base\n", "dir/keep.txt": b"k\n"})
    await md.Commit(_stream(repo, {"pr.txt": b"from pr\n", "dir/pr.txt": b"p\n"}, create_pr=True, pr_number=1))
    await md.Commit(_stream(repo, {"shared.txt": b"pr side\n"}, create_pr=True, pr_number=2))
    main_change = await commit(md, repo, {"shared.txt": b"main side\n", "dir/main.txt": b"m\n"})
    changes = await md.PullRefChanges(pb.PullRefRequest(repo=repo, number=2, with_diff=True))
    assert list(changes.pull.conflicting_files) == ["shared.txt"]
    assert "-base\n+pr side\n" in changes.diff and changes.diff.startswith("diff --git a/shared.txt b/shared.txt\n")
    before = await _tip(md, repo)
    await _refused(md.MergePullRef(pb.MergePullRefRequest(repo=repo, number=2, merger=ALICE)), "MergeConflict")
    assert await _tip(md, repo) == before
    merged = await md.MergePullRef(pb.MergePullRefRequest(repo=repo, number=1, merger=ALICE, message="Merge #1\n"))
    assert not merged.fast_forward
    info = await md.ListCommits(pb.ListCommitsRequest(repo=repo, revision="main", limit=1))
    assert info.commits[0].id == merged.merged_commit
    assert list(info.commits[0].parents) == [main_change, merged.tip]
    files = await _files(md, repo, "main")
    assert (files["shared.txt"], files["pr.txt"], files["dir/pr.txt"], files["dir/main.txt"]) == \
        ("main side\n", "from pr\n", "p\n", "m\n")
    # a merged PR still shows what it changed
    changes = await md.PullRefChanges(pb.PullRefRequest(repo=repo, number=1))
    assert [f.path for f in changes.files] == ["dir/pr.txt", "pr.txt"]


async def test_racing_merges_of_one_pr_land_once(md):
    repo = await new_repo(md)
    await md.Commit(_stream(repo, {"x.txt": b"x"}, create_pr=True, pr_number=1))
    await commit(md, repo, {"other.txt": b"o"})   # forces a merge commit
    results = await asyncio.gather(*(md.MergePullRef(pb.MergePullRefRequest(repo=repo, number=1, merger=ALICE))
                                     for _ in range(4)), return_exceptions=True)
    landed = [r for r in results if not isinstance(r, BaseException)]
    assert len(landed) == 1
    assert all(error_code(r) == "PullRequestAlreadyMerged" for r in results if isinstance(r, BaseException))
    history = await md.ListCommits(pb.ListCommitsRequest(repo=repo, revision="main", limit=5))
    assert sum(1 for c in history.commits if len(c.parents) == 2) == 1


async def test_racing_merges_of_two_prs_both_land_without_losing_either(md):
    repo = await new_repo(md)
    await md.Commit(_stream(repo, {"one.txt": b"1"}, create_pr=True, pr_number=1))
    await md.Commit(_stream(repo, {"two.txt": b"2"}, create_pr=True, pr_number=2))
    await asyncio.gather(*(md.MergePullRef(pb.MergePullRefRequest(repo=repo, number=n, merger=ALICE)) for n in (1, 2)))
    files = await _files(md, repo, "main")
    assert files["one.txt"] == "1" and files["two.txt"] == "2"


async def test_delete_unmerged_pull_ref(md):
    repo = await new_repo(md)
    await md.CreatePullRef(pb.CreatePullRefRequest(repo=repo, number=5, owner=BOB))
    await md.DeletePullRef(pb.PullRefRequest(repo=repo, number=5))
    await _refused(md.GetPullRef(pb.PullRefRequest(repo=repo, number=5)), "PullRequestNotFound")
    await _refused(md.ResolveRevision(pb.RevisionRequest(repo=repo, revision="refs/pr/5")), "RevisionNotFound")


def _stream(repo, files, **kw):
    from .conftest import commit_stream
    return commit_stream(repo, files, **kw)

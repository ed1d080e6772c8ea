"""Git transport RPCs against a real local git: object ids, fetch object sets (haves, depth),
receive all-or-nothing, force pushes (recorded; refused on protected branches)."""
from __future__ import annotations

import grpc
import pytest

from hangar_protos import metadata_pb2 as pb

from .conftest import ALICE, commit, new_repo, read
from .gitlocal import ZERO, fetch, git, init, local_objects, new_objects, receive_stream, store


async def _clone(md, repo, path):
    refs = await md.GitListRefs(pb.RepoRequest(repo=repo))
    tips = {r.name: r.target for r in refs.refs}
    _, objects = await fetch(md, repo, list(set(tips.values())))
    init(path)
    store(path, objects)
    for name, target in tips.items():
        git(path, "update-ref", name, target)
    git(path, "reset", "-q", "--hard", tips["refs/heads/main"])
    return tips, objects


async def test_clone_objects_are_a_complete_git_repository(md, tmp_path):
    repo = await new_repo(md)
    await commit(md, repo, {"a.txt": b"hello\n", "dir/b.bin": b"\x00" * 3_000_000, "dir/sub/c.md": b"c"})
    tips, _ = await _clone(md, repo, tmp_path / "clone")
    git(tmp_path / "clone", "fsck", "--strict", "--no-dangling")
    assert (tmp_path / "clone" / "a.txt").read_bytes() == b"hello\n"
    assert (tmp_path / "clone" / "dir" / "b.bin").read_bytes() == b"\x00" * 3_000_000
    assert git(tmp_path / "clone", "rev-list", "--count", "HEAD") == "2"
    assert git(tmp_path / "clone", "hash-object", "a.txt") == git(tmp_path / "clone", "rev-parse", "HEAD:a.txt")


async def test_fetch_with_haves_sends_only_new_objects(md):
    repo = await new_repo(md)
    c1 = await commit(md, repo, {"keep/big.txt": b"x" * 1000, "a.txt": b"1"})
    c2 = await commit(md, repo, {"a.txt": b"2"})
    first, objects = await fetch(md, repo, [c2], haves=[c1, "f" * 40])
    assert list(first.common) == [c1]
    kinds = sorted(k for k, _ in objects.values())
    assert kinds == [1, 2, 3]      # the commit, the new root tree, the new a.txt blob
    assert c2 in objects
    negotiation = [b async for b in md.GitFetchObjects(pb.GitFetchRequest(
        repo=repo, wants=[c2], haves=[c1], negotiate_only=True))]
    assert len(negotiation) == 1 and list(negotiation[0].common) == [c1] and not negotiation[0].objects


async def test_fetch_with_depth_marks_shallow_boundary(md):
    repo = await new_repo(md)
    c1 = await commit(md, repo, {"a.txt": b"1"})
    c2 = await commit(md, repo, {"a.txt": b"2"})
    c3 = await commit(md, repo, {"a.txt": b"3"})
    first, objects = await fetch(md, repo, [c3], depth=1)
    assert list(first.shallow) == [c3]
    assert {o for o, (k, _) in objects.items() if k == 1} == {c3}
    first, objects = await fetch(md, repo, [c3], haves=[c3], depth=3, shallows=[c3])
    assert list(first.unshallow) == [c3]
    assert list(first.shallow) == [c1]
    assert {o for o, (k, _) in objects.items() if k == 1} >= {c2, c1}


async def test_fetch_refuses_commits_of_other_repos(md):
    repo, other = await new_repo(md), await new_repo(md)
    foreign = await commit(md, other, {"secret.txt": b"s"})
    with pytest.raises(Exception) as err:
        await fetch(md, repo, [foreign])
    assert "not our ref" in str(err.value)


async def test_push_fast_forward_lands_and_keeps_exact_bytes(md, tmp_path):
    repo = await new_repo(md)
    await commit(md, repo, {"a.txt": b"1"})
    tips, _ = await _clone(md, repo, tmp_path / "w")
    w = tmp_path / "w"
    (w / "pushed.txt").write_text("from git\n")
    (w / "deep" / "er").mkdir(parents=True)
    (w / "deep" / "er" / "x.txt").write_text("x\n")
    git(w, "add", "-A")
    git(w, "commit", "-q", "-m", "pushed with git\n\nbody")
    git(w, "tag", "-a", "v1", "-m", "annotated")
    head, tag = git(w, "rev-parse", "HEAD"), git(w, "rev-parse", "v1")
    objects = new_objects(w, head, [tips["refs/heads/main"]])
    objects.update(local_objects(w, [tag]))
    result = await md.GitReceive(receive_stream(repo, [
        ("refs/heads/main", tips["refs/heads/main"], head), ("refs/tags/v1", ZERO, tag)], objects, ALICE, piece=7))
    assert result.ok, result
    assert (await md.ResolveRevision(pb.RevisionRequest(repo=repo, revision="main"))).commit == head
    assert (await md.ResolveRevision(pb.RevisionRequest(repo=repo, revision="v1"))).commit == head
    _, data = await read(md, repo, "deep/er/x.txt")
    assert data == b"x\n"
    history = await md.ListCommits(pb.ListCommitsRequest(repo=repo, revision="main"))
    assert history.commits[0].id == head and history.commits[0].title == "pushed with git"
    # What we serve back is byte-identical: a fresh clone has the same ids.
    tips2, _ = await _clone(md, repo, tmp_path / "again")
    assert tips2["refs/heads/main"] == head and tips2["refs/tags/v1"] == tag


async def test_push_non_fast_forward_is_a_recorded_force_push(md, tmp_path):
    """As on the Hub, a non-fast-forward branch update lands (git sends it with --force); it is
    recorded, and the replaced tip stays readable by id for the grace period. A stale old value is
    still refused, and a protected branch refuses the force push."""
    repo = await new_repo(md)
    await commit(md, repo, {"a.txt": b"1"})
    tips, _ = await _clone(md, repo, tmp_path / "w")
    w = tmp_path / "w"
    server_tip = await commit(md, repo, {"a.txt": b"server"})
    (w / "a.txt").write_text("client")
    git(w, "commit", "-qam", "diverged")
    head = git(w, "rev-parse", "HEAD")
    objects = new_objects(w, head, [tips["refs/heads/main"]])
    # a stale old value is refused
    result = await md.GitReceive(receive_stream(repo, [("refs/heads/main", tips["refs/heads/main"], head)],
                                                objects, ALICE))
    assert not result.ok and "stale" in result.results[0].error
    await md.UpdateRepoSettings(pb.UpdateRepoSettingsRequest(repo=repo, set_protected_branches=True,
                                                             protected_branches=["main"]))
    result = await md.GitReceive(receive_stream(repo, [("refs/heads/main", server_tip, head)], objects, ALICE))
    assert not result.ok and "protected branch" in result.results[0].error
    assert (await md.ResolveRevision(pb.RevisionRequest(repo=repo, revision="main"))).commit == server_tip
    await md.UpdateRepoSettings(pb.UpdateRepoSettingsRequest(repo=repo, set_protected_branches=True))
    result = await md.GitReceive(receive_stream(repo, [("refs/heads/main", server_tip, head)], objects, ALICE))
    assert result.ok, result
    assert (await md.ResolveRevision(pb.RevisionRequest(repo=repo, revision="main"))).commit == head
    assert (await md.ResolveRevision(pb.RevisionRequest(repo=repo, revision=server_tip))).commit == server_tip
    [forced] = (await md.ListForcedUpdates(pb.ListForcedUpdatesRequest(repo=repo))).updates
    assert (forced.ref, forced.old_oid, forced.new_oid, forced.pusher) == ("refs/heads/main", server_tip, head, "alice")


async def test_push_is_all_or_nothing(md, tmp_path):
    repo = await new_repo(md)
    await commit(md, repo, {"a.txt": b"1"})
    tips, _ = await _clone(md, repo, tmp_path / "w")
    w = tmp_path / "w"
    (w / "b.txt").write_text("b")
    git(w, "add", "b.txt")
    git(w, "commit", "-qm", "b")
    head = git(w, "rev-parse", "HEAD")
    objects = new_objects(w, head, [tips["refs/heads/main"]])
    result = await md.GitReceive(receive_stream(repo, [
        ("refs/heads/feature", ZERO, head),                       # fine on its own
        ("refs/heads/main", "1" * 40, head),                      # stale: refuses the whole push
    ], objects, ALICE))
    assert not result.ok
    assert [r.ok for r in result.results] == [False, False]
    refs = await md.ListRefs(pb.RepoRequest(repo=repo))
    assert [b.name for b in refs.branches] == ["main"]
    with pytest.raises(grpc.aio.AioRpcError):
        await md.ResolveRevision(pb.RevisionRequest(repo=repo, revision=head))


async def test_push_with_missing_objects_is_refused(md, tmp_path):
    repo, other = await new_repo(md), await new_repo(md)
    await commit(md, repo, {"a.txt": b"1"})
    secret = await commit(md, other, {"secret.txt": b"top secret"})
    tips, _ = await _clone(md, repo, tmp_path / "w")
    w = tmp_path / "w"
    (w / "b.txt").write_text("b")
    git(w, "add", "b.txt")
    git(w, "commit", "-qm", "b")
    head = git(w, "rev-parse", "HEAD")
    objects = new_objects(w, head, [tips["refs/heads/main"]])
    blob = next(o for o, (k, _) in objects.items() if k == 3)
    del objects[blob]
    result = await md.GitReceive(receive_stream(repo, [("refs/heads/main", tips["refs/heads/main"], head)],
                                                objects, ALICE))
    assert not result.ok and "missing object" in result.results[0].error
    # a commit of another repository cannot be adopted by naming it
    result = await md.GitReceive(receive_stream(repo, [("refs/heads/stolen", ZERO, secret)], {}, ALICE))
    assert not result.ok and "missing" in result.results[0].error


async def test_push_deletes_branch_but_not_default(md, tmp_path):
    repo = await new_repo(md)
    c1 = await commit(md, repo, {"a.txt": b"1"})
    await md.CreateBranch(pb.CreateBranchRequest(repo=repo, name="dev"))
    result = await md.GitReceive(receive_stream(repo, [("refs/heads/main", c1, ZERO)], {}, ALICE))
    assert not result.ok and "current branch" in result.results[0].error
    result = await md.GitReceive(receive_stream(repo, [("refs/heads/dev", c1, ZERO)], {}, ALICE))
    assert result.ok
    refs = await md.ListRefs(pb.RepoRequest(repo=repo))
    assert [b.name for b in refs.branches] == ["main"]


async def test_signed_commit_keeps_its_bytes_and_id(md, tmp_path):
    repo = await new_repo(md)
    await commit(md, repo, {"a.txt": b"1"})
    tips, objects = await _clone(md, repo, tmp_path / "w")
    w = tmp_path / "w"
    parent = tips["refs/heads/main"]
    tree = git(w, "rev-parse", f"{parent}^{{tree}}")
    raw = (f"tree {tree}\nparent {parent}\nauthor Bob <bob@example.com> 1700000000 +0200\n"
           f"committer Bob <bob@example.com> 1700000000 +0200\n"
           "gpgsig -----BEGIN PGP SIGNATURE-----\n \n iQEzBAABCAAdFiEE\n -----END PGP SIGNATURE-----\n"
           "\nsigned  message with  odd spacing\n").encode()
    signed = git(w, "hash-object", "-w", "-t", "commit", "--stdin", input=raw)
    result = await md.GitReceive(receive_stream(repo, [("refs/heads/main", parent, signed)],
                                                {signed: (1, raw)}, ALICE))
    assert result.ok, result
    _, served = await fetch(md, repo, [signed], haves=[parent])
    assert served[signed] == (1, raw)
    history = await md.ListCommits(pb.ListCommitsRequest(repo=repo, revision="main"))
    assert history.commits[0].id == signed and history.commits[0].date.startswith("2023-11-14T22:13:20")


async def test_merge_history_and_last_commit_follow_git(md, tmp_path):
    repo = await new_repo(md)
    await commit(md, repo, {"x.txt": b"0", "y.txt": b"0"})
    tips, _ = await _clone(md, repo, tmp_path / "w")
    w = tmp_path / "w"
    git(w, "checkout", "-q", "-b", "side")
    (w / "y.txt").write_text("side")
    git(w, "commit", "-qam", "side changes y")
    side = git(w, "rev-parse", "HEAD")
    git(w, "checkout", "-q", "main")
    (w / "x.txt").write_text("main")
    git(w, "commit", "-qam", "main changes x")
    main_commit = git(w, "rev-parse", "HEAD")
    git(w, "merge", "-q", "--no-edit", "side")
    merge = git(w, "rev-parse", "HEAD")
    objects = new_objects(w, merge, [tips["refs/heads/main"]])
    result = await md.GitReceive(receive_stream(repo, [("refs/heads/main", tips["refs/heads/main"], merge)],
                                                objects, ALICE))
    assert result.ok, result
    entries = {}
    async for page in md.ListTree(pb.ListTreeRequest(repo=repo, revision="main", expand=True)):
        entries.update({e.path: e.last_commit.id for e in page.entries})
    assert entries["x.txt"] == git(w, "log", "-1", "--format=%H", "--", "x.txt") == main_commit
    assert entries["y.txt"] == git(w, "log", "-1", "--format=%H", "--", "y.txt") == side
    history = await md.ListCommits(pb.ListCommitsRequest(repo=repo, revision="main", path="y.txt"))
    assert [c.id for c in history.commits] == git(w, "log", "--format=%H", "--", "y.txt").split()
    everything = await md.ListCommits(pb.ListCommitsRequest(repo=repo, revision="main", limit=100))
    assert everything.commits[0].id == merge and everything.total == int(git(w, "rev-list", "--count", "HEAD"))


async def test_push_of_pointer_to_unknown_lfs_object_is_refused(md, tmp_path):
    repo = await new_repo(md)
    await commit(md, repo, {"a.txt": b"1"})
    tips, _ = await _clone(md, repo, tmp_path / "w")
    w = tmp_path / "w"
    (w / "model.bin").write_bytes(b"version https://git-lfs.github.com/spec/v1\noid sha256:" + b"ab" * 32
                                  + b"\nsize 1234\n")
    git(w, "add", "model.bin")
    git(w, "commit", "-qm", "pointer to nothing")
    head = git(w, "rev-parse", "HEAD")
    objects = new_objects(w, head, [tips["refs/heads/main"]])
    result = await md.GitReceive(receive_stream(repo, [("refs/heads/main", tips["refs/heads/main"], head)],
                                                objects, ALICE))
    assert not result.ok and "LFS object" in result.results[0].error
    assert (await md.ResolveRevision(pb.RevisionRequest(repo=repo, revision="main"))).commit == tips["refs/heads/main"]


async def test_push_of_oversized_object_is_refused(md):
    repo = await new_repo(md)
    before = (await md.ResolveRevision(pb.RevisionRequest(repo=repo, revision="main"))).commit
    piece = b"\x02" * (1024 * 1024)

    def chunks():
        yield pb.GitReceiveChunk(header=pb.GitReceiveHeader(repo=repo, pusher=ALICE, commands=[
            pb.RefCommand(ref="refs/heads/main", old_oid=before, new_oid="1" * 40)]))
        for i in range(65):
            yield pb.GitReceiveChunk(objects=pb.GitObjectBatch(objects=[pb.GitObject(
                oid="2" * 40, type=3, data=piece, more=i < 64, size=65 * len(piece) if i == 0 else 0)]))

    with pytest.raises(grpc.aio.AioRpcError) as err:
        await md.GitReceive(chunks())
    assert dict(err.value.trailing_metadata())["x-error-code"] == "ObjectTooLarge"
    assert (await md.ResolveRevision(pb.RevisionRequest(repo=repo, revision="main"))).commit == before

"""Repositories, revisions, branches and tags through the metadata gRPC API."""
from __future__ import annotations

import grpc
import pytest

from hangar_protos import metadata_pb2 as pb

from .conftest import ALICE, commit, error_code, new_repo, ref, tree_entries, unique_name


async def test_create_repo_has_initial_commit_with_gitattributes(md):
    r = ref(unique_name())
    info = await md.CreateRepo(pb.CreateRepoRequest(repo=r, creator=ALICE))
    assert len(info.sha) == 40 and info.default_branch == "main"
    assert info.created_at.endswith("Z")
    entries, _, commit_id = await tree_entries(md, r)
    assert commit_id == info.sha
    assert [e.path for e in entries] == [".gitattributes"]
    got = await md.GetRepo(pb.RepoRequest(repo=r))
    assert got.sha == info.sha and got.facts.repo.name == r.name


async def test_dataset_gitattributes_lists_media_patterns(md):
    r = await new_repo(md, repo_type="dataset")
    meta = None
    async for chunk in md.ReadFile(pb.ReadFileRequest(repo=r, revision="main", path=".gitattributes")):
        if chunk.HasField("data"):
            meta = (meta or b"") + chunk.data
    assert b"*.parquet filter=lfs" in meta and b"*.safetensors filter=lfs" in meta and b"*.png filter=lfs" in meta


@pytest.mark.parametrize("namespace,name", [
    ("alice", "a--b"), ("alice", "a..b"), ("alice", "-ab"), ("alice", "ab."), ("alice", "a b"),
    ("alice", "x" * 97), ("api", "fine"), ("models", "fine"), ("settings", "fine"), ("alice", ""),
    ("alice", "repo.git"),
])
async def test_invalid_repo_names_are_refused(md, namespace, name):
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await md.CreateRepo(pb.CreateRepoRequest(repo=ref(name, namespace), creator=ALICE))
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert error_code(err.value) == "InvalidRepoName"


async def test_repo_names_are_unique_case_insensitively(md):
    r = await new_repo(md)
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await md.CreateRepo(pb.CreateRepoRequest(repo=ref(r.name.upper()), creator=ALICE))
    assert error_code(err.value) == "RepoExists"
    got = await md.GetRepo(pb.RepoRequest(repo=ref(r.name.upper())))
    assert got.facts.repo.name == r.name


async def test_move_keeps_history_and_old_name_redirects(md):
    r = await new_repo(md)
    c1 = await commit(md, r, {"a.txt": b"a"})
    await md.CreateBranch(pb.CreateBranchRequest(repo=r, name="dev"))
    await md.CreateTag(pb.CreateTagRequest(repo=r, tag="v1", revision="main"))
    new = ref(unique_name("moved"))
    moved = await md.MoveRepo(pb.MoveRepoRequest(**{"from": r, "to": new}))
    assert moved.facts.repo.name == new.name and moved.sha == c1
    old = await md.GetRepo(pb.RepoRequest(repo=r))
    assert old.facts.repo.name == new.name and old.redirected_from.name == r.name
    refs = await md.ListRefs(pb.RepoRequest(repo=new))
    assert {b.name for b in refs.branches} == {"main", "dev"} and [t.name for t in refs.tags] == ["v1"]
    history = await md.ListCommits(pb.ListCommitsRequest(repo=new, revision="main"))
    assert history.total == 2


async def test_delete_repo(md):
    r = await new_repo(md)
    await md.DeleteRepo(pb.RepoRequest(repo=r))
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await md.GetRepo(pb.RepoRequest(repo=r))
    assert error_code(err.value) == "RepoNotFound"


async def test_settings_and_private_listing(md):
    ns = unique_name("org")[:40]
    public = await new_repo(md, namespace=ns)
    private = await new_repo(md, namespace=ns)
    info = await md.UpdateRepoSettings(pb.UpdateRepoSettingsRequest(repo=private, private=True, gated="auto"))
    assert info.facts.private and info.facts.gated == "auto"
    listed = await md.ListRepos(pb.ListReposRequest(author=ns))
    assert [x.facts.repo.name for x in listed.repos] == [public.name]
    listed = await md.ListRepos(pb.ListReposRequest(author=ns, private_namespaces=[ns], sort="createdAt",
                                                    direction=1))
    assert [x.facts.repo.name for x in listed.repos] == [public.name, private.name]
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await md.UpdateRepoSettings(pb.UpdateRepoSettingsRequest(repo=private, gated="sometimes"))
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT


async def test_list_repos_pages_with_cursor(md):
    ns = unique_name("pg")[:40]
    made = [(await new_repo(md, namespace=ns)).name for _ in range(5)]
    seen, cursor = [], ""
    while True:
        page = await md.ListRepos(pb.ListReposRequest(author=ns, sort="id", direction=1, limit=2, cursor=cursor))
        seen += [x.facts.repo.name for x in page.repos]
        cursor = page.next_cursor
        if not cursor:
            break
    assert seen == sorted(made, key=str.lower)
    found = await md.ListRepos(pb.ListReposRequest(search=made[3][-10:]))
    assert [x.facts.repo.name for x in found.repos] == [made[3]]


async def test_resolve_revisions(md):
    r = await new_repo(md)
    c1 = await commit(md, r, {"a.txt": b"1"})
    await md.CreateTag(pb.CreateTagRequest(repo=r, tag="v1", revision="main", message="annotated", tagger=ALICE))
    c2 = await commit(md, r, {"a.txt": b"2"})
    for revision, expected in [("main", c2), ("refs/heads/main", c2), ("v1", c1), ("refs/tags/v1", c1), (c1, c1)]:
        got = await md.ResolveRevision(pb.RevisionRequest(repo=r, revision=revision))
        assert got.commit == expected, revision
    other = await new_repo(md)
    for revision in ["nope", c1, "0" * 40]:
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await md.ResolveRevision(pb.RevisionRequest(repo=other, revision=revision))
        assert error_code(err.value) == "RevisionNotFound"


async def test_branches_and_tags(md):
    r = await new_repo(md)
    c1 = await commit(md, r, {"a.txt": b"1"})
    branch = await md.CreateBranch(pb.CreateBranchRequest(repo=r, name="dev"))
    assert branch.target_commit == c1
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await md.CreateBranch(pb.CreateBranchRequest(repo=r, name="dev"))
    assert err.value.code() == grpc.StatusCode.ALREADY_EXISTS and error_code(err.value) == "BranchExists"
    await md.CreateBranch(pb.CreateBranchRequest(repo=r, name="dev", exist_ok=True))
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await md.CreateBranch(pb.CreateBranchRequest(repo=r, name="bad..name"))
    assert error_code(err.value) == "InvalidRefName"
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await md.DeleteBranch(pb.RefRequest(repo=r, name="main"))
    assert error_code(err.value) == "DefaultBranchProtected"
    c2 = await commit(md, r, {"b.txt": b"2"}, revision="dev")
    await md.CreateTag(pb.CreateTagRequest(repo=r, tag="t", revision="dev"))
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await md.CreateTag(pb.CreateTagRequest(repo=r, tag="t", revision="main"))
    assert error_code(err.value) == "TagExists"
    refs = await md.ListRefs(pb.RepoRequest(repo=r))
    assert {(b.name, b.target_commit) for b in refs.branches} == {("main", c1), ("dev", c2)}
    await md.DeleteBranch(pb.RefRequest(repo=r, name="dev"))
    # The tag still holds c2, so it is still a commit of this repo.
    assert (await md.ResolveRevision(pb.RevisionRequest(repo=r, revision=c2))).commit == c2
    await md.DeleteTag(pb.RefRequest(repo=r, name="t"))
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await md.ResolveRevision(pb.RevisionRequest(repo=r, revision=c2))
    assert error_code(err.value) == "RevisionNotFound"
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await md.DeleteTag(pb.RefRequest(repo=r, name="t"))
    assert error_code(err.value) == "RevisionNotFound"


async def test_annotated_tag_object_is_what_git_builds(md, tmp_path):
    r = await new_repo(md)
    c1 = await commit(md, r, {"a.txt": b"1"})
    await md.CreateTag(pb.CreateTagRequest(repo=r, tag="v2", revision="main", message="release", tagger=ALICE))
    refs = await md.GitListRefs(pb.RepoRequest(repo=r))
    tag = next(x for x in refs.refs if x.name == "refs/tags/v2")
    assert tag.peeled == c1 and tag.target != c1
    assert refs.head == "refs/heads/main"


async def test_list_repos_filters_type_and_admin_view(md):
    ns = unique_name("ty")[:40]
    model = await new_repo(md, namespace=ns)
    dataset = await new_repo(md, namespace=ns, repo_type="dataset")
    await md.UpdateRepoSettings(pb.UpdateRepoSettingsRequest(repo=dataset, private=True))
    listed = await md.ListRepos(pb.ListReposRequest(type="dataset", author=ns))
    assert not listed.repos
    listed = await md.ListRepos(pb.ListReposRequest(type="dataset", author=ns, include_all_private=True))
    assert [r.facts.repo.name for r in listed.repos] == [dataset.name]
    listed = await md.ListRepos(pb.ListReposRequest(type="model", author=ns.upper()))
    assert [r.facts.repo.name for r in listed.repos] == [model.name]


async def test_new_repo_takes_back_a_redirected_name(md):
    old = await new_repo(md)
    moved = ref(unique_name("moved"))
    await md.MoveRepo(pb.MoveRepoRequest(**{"from": old, "to": moved}))
    fresh = await md.CreateRepo(pb.CreateRepoRequest(repo=old, creator=ALICE))
    got = await md.GetRepo(pb.RepoRequest(repo=old))
    assert got.facts.repo_id == fresh.facts.repo_id and not got.HasField("redirected_from")
    assert (await md.GetRepo(pb.RepoRequest(repo=moved))).facts.repo_id != fresh.facts.repo_id

"""Commits through the metadata API: git-identical ids, atomicity, path validation, CAS races,
history and lastCommit, reads, listings, preupload, super-squash."""
from __future__ import annotations

import asyncio
import hashlib

import grpc
import pytest

from hangar_protos import metadata_pb2 as pb

from .conftest import ALICE, commit, commit_stream, error_code, new_repo, read, tree_entries
from .gitlocal import fetch, git, init


async def _sha(md, repo, revision="main") -> str:
    return (await md.ResolveRevision(pb.RevisionRequest(repo=repo, revision=revision))).commit


async def test_blob_and_tree_ids_equal_what_git_computes(md, tmp_path):
    repo = await new_repo(md)
    files = {"README.md": b"# hi\n", "src/a.py": b"print(1)\n", "src/a.py.txt": b"", "src-b/x": b"x",
             "src/sub/deep.txt": b"deep", "z": b"\x00\x01binary"}
    c = await commit(md, repo, files)
    local = init(tmp_path / "g")
    entries, _, _ = await tree_entries(md, repo)
    for path, data in files.items():
        (local / path).parent.mkdir(parents=True, exist_ok=True)
        (local / path).write_bytes(data)
        blob = git(local, "hash-object", path)
        assert next(e.oid for e in entries if e.path == path) == blob
    _, attrs = await read(md, repo, ".gitattributes")
    (local / ".gitattributes").write_bytes(attrs)
    git(local, "add", "-A")
    assert git(local, "write-tree") == await commit_tree(md, repo, c)
    for e in entries:
        if e.type == "directory":
            assert git(local, "rev-parse", f"{git(local, 'write-tree')}:{e.path}") == e.oid


async def commit_tree(md, repo, commit_id) -> str:
    """The tree id written in a commit object, as served to git."""
    _, objects = await fetch(md, repo, [commit_id], depth=1)
    return objects[commit_id][1].split(b"\n", 1)[0].split()[1].decode()


async def test_commit_message_author_and_history(md):
    repo = await new_repo(md)
    c1 = await commit(md, repo, {"a.txt": b"1"}, summary="first")
    result = await md.Commit(commit_stream(repo, {"b.txt": b"2"}, summary="second"))
    c2 = result.commit_oid
    assert result.ref == "refs/heads/main" and result.repo.sha == c2
    history = await md.ListCommits(pb.ListCommitsRequest(repo=repo, revision="main"))
    assert history.total == 3
    assert [c.id for c in history.commits][:2] == [c2, c1]
    assert history.commits[0].title == "second" and history.commits[0].authors[0].user == "alice"
    assert history.commits[0].authors[0].email == "alice@users.noreply.hangar"
    assert history.commits[0].date.endswith("Z") and list(history.commits[0].parents) == [c1]
    page = await md.ListCommits(pb.ListCommitsRequest(repo=repo, revision="main", offset=1, limit=1))
    assert [c.id for c in page.commits] == [c1] and page.total == 3
    by_path = await md.ListCommits(pb.ListCommitsRequest(repo=repo, revision="main", path="a.txt"))
    assert [c.id for c in by_path.commits] == [c1]


async def test_file_data_spanning_messages(md):
    repo = await new_repo(md)
    data = bytes(range(256)) * 20_000
    await commit(md, repo, {"big.bin": data}, chunk=100_000)
    _, got = await read(md, repo, "big.bin")
    assert got == data


async def test_read_file_ranges_and_meta(md):
    repo = await new_repo(md)
    data = bytes(i % 251 for i in range(5 * 1024 * 1024 + 17))
    c = await commit(md, repo, {"f.bin": data, "s.txt": b"small file"}, chunk=1024 * 1024)
    meta, got = await read(md, repo, "f.bin")
    assert got == data and meta.commit == c and meta.entry.size == len(data)
    assert meta.entry.oid == hashlib.sha1(f"blob {len(data)}\0".encode() + data).hexdigest()
    for offset, length in [(0, 10), (3, 5), (1024 * 1024 - 3, 10), (5 * 1024 * 1024, 100), (len(data) + 5, 10)]:
        _, part = await read(md, repo, "f.bin", offset=offset, length=length)
        assert part == data[offset:offset + length]
    _, tail = await read(md, repo, "s.txt", offset=6)
    assert tail == b"file"
    chunks = [c async for c in md.ReadFile(pb.ReadFileRequest(repo=repo, revision="main", path="f.bin"))]
    assert all(len(c.data) <= 1024 * 1024 for c in chunks)
    only_meta = [c async for c in md.ReadFile(pb.ReadFileRequest(repo=repo, revision="main", path="f.bin",
                                                                  meta_only=True))]
    assert len(only_meta) == 1
    for path in ["missing.txt", "", "f.bin/x"]:
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await read(md, repo, path)
        assert error_code(err.value) == "EntryNotFound"


@pytest.mark.parametrize("path", ["../x", "a/../../x", "/abs", "a\\b", "a\x00b", "a//b", "a/", ".git/config",
                                  "x/.git/hooks", "./a", "", "a/" + "x" * 300])
async def test_invalid_paths_are_refused_and_nothing_changes(md, path):
    repo = await new_repo(md)
    before = await _sha(md, repo)
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await commit(md, repo, {"ok.txt": b"fine", path: b"bad"})
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT and error_code(err.value) == "InvalidPath"
    assert await _sha(md, repo) == before


async def test_duplicate_paths_and_bad_ops_are_refused(md):
    repo = await new_repo(md)
    await commit(md, repo, {"a.txt": b"1", "dir/b.txt": b"2"})
    before = await _sha(md, repo)
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await md.Commit(commit_stream(repo, {"x.txt": b"1"}, copies=[("a.txt", "x.txt")]))
    assert error_code(err.value) == "DuplicatePath"
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await commit(md, repo, {"new.txt": b"n"}, deletes=["nope.txt"])
    assert error_code(err.value) == "EntryNotFound"
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await commit(md, repo, {"a.txt/inner": b"n"})
    assert error_code(err.value) == "PathConflict"
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await commit(md, repo, {"dir": b"n"})
    assert error_code(err.value) == "PathConflict"
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await commit(md, repo, {"x": b"1"}, create_pr=True)   # no number reserved for the PR
    assert error_code(err.value) == "InvalidPullRequestNumber"
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await commit(md, repo, {"x": b"1"}, revision="no-such-branch")
    assert error_code(err.value) == "RevisionNotFound"
    assert await _sha(md, repo) == before


async def test_lfs_file_without_uploaded_object_is_refused(md):
    repo = await new_repo(md)
    before = await _sha(md, repo)
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await commit(md, repo, {"ok.txt": b"1"}, lfs=[("model.bin", "ab" * 32, 123)])
    assert error_code(err.value) == "LfsObjectMissing"
    with pytest.raises(grpc.aio.AioRpcError) as err:   # size 0 = unknown, and this repo has no such pointer
        await commit(md, repo, lfs=[("copy.bin", "cd" * 32, 0)])
    assert error_code(err.value) == "LfsObjectMissing"
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await commit(md, repo, lfs=[("bad.bin", "not-hex", 1)])
    assert error_code(err.value) == "InvalidLfsPointer"
    assert await _sha(md, repo) == before


async def test_delete_folder_copy_and_empty_dirs_disappear(md):
    repo = await new_repo(md)
    await commit(md, repo, {"d/a.txt": b"a", "d/e/b.txt": b"b", "keep.txt": b"k"})
    await commit(md, repo, {"c.txt": b"c"}, copies=[("keep.txt", "copied/keep.txt")], folders=["d/"])
    entries, _, _ = await tree_entries(md, repo)
    assert sorted(e.path for e in entries) == [".gitattributes", "c.txt", "copied", "copied/keep.txt", "keep.txt"]
    copied = next(e for e in entries if e.path == "copied/keep.txt")
    assert copied.oid == next(e for e in entries if e.path == "keep.txt").oid
    await commit(md, repo, deletes=["copied/keep.txt"])
    entries, _, _ = await tree_entries(md, repo)
    assert "copied" not in {e.path for e in entries}


async def test_parallel_commits_without_parent_all_land(md):
    repo = await new_repo(md)
    oids = await asyncio.gather(*[commit(md, repo, {f"f{i}.txt": str(i).encode()}) for i in range(16)])
    assert len(set(oids)) == 16
    history = await md.ListCommits(pb.ListCommitsRequest(repo=repo, revision="main", limit=100))
    assert {c.id for c in history.commits} >= set(oids) and history.total == 17
    entries, _, _ = await tree_entries(md, repo)
    assert {f"f{i}.txt" for i in range(16)} <= {e.path for e in entries}


async def test_parallel_commits_with_shared_parent_exactly_one_lands(md):
    repo = await new_repo(md)
    parent = await _sha(md, repo)

    async def attempt(i):
        try:
            return await commit(md, repo, {f"f{i}.txt": b"x"}, parent=parent)
        except grpc.aio.AioRpcError as exc:
            assert exc.code() == grpc.StatusCode.FAILED_PRECONDITION   # 412 at the HTTP edge
            return error_code(exc)

    results = await asyncio.gather(*[attempt(i) for i in range(16)])
    landed = [r for r in results if r != "ParentCommitMismatch"]
    assert len(landed) == 1 and results.count("ParentCommitMismatch") == 15
    history = await md.ListCommits(pb.ListCommitsRequest(repo=repo, revision="main"))
    assert [c.id for c in history.commits] == [landed[0], parent]


async def test_last_commit_of_entries(md):
    repo = await new_repo(md)
    c1 = await commit(md, repo, {"a.txt": b"1", "d/x.txt": b"x"}, summary="one")
    c2 = await commit(md, repo, {"b.txt": b"2"}, summary="two")
    c3 = await commit(md, repo, {"d/y.txt": b"y"}, summary="three")
    entries, _, _ = await tree_entries(md, repo, expand=True)
    last = {e.path: e.last_commit.id for e in entries}
    assert last == {".gitattributes": last[".gitattributes"], "a.txt": c1, "b.txt": c2, "d": c3, "d/x.txt": c1,
                    "d/y.txt": c3}
    assert next(e for e in entries if e.path == "b.txt").last_commit.title == "two"
    # at an older revision, newer commits do not count
    entries, _, _ = await tree_entries(md, repo, revision=c2, expand=True)
    assert {e.path: e.last_commit.id for e in entries}["d"] == c1
    pages = [p async for p in md.GetPathsInfo(pb.PathsInfoRequest(repo=repo, revision="main",
                                                                   paths=["d", "a.txt", "nope"], expand=True))]
    info = {e.path: e for p in pages for e in p.entries}
    assert set(info) == {"d", "a.txt"} and info["d"].type == "directory" and info["a.txt"].last_commit.id == c1
    assert info["a.txt"].size == 1


async def test_list_tree_paging_and_subpaths(md):
    repo = await new_repo(md)
    files = {f"dir{i % 3}/f{i:03d}.txt": b"x" * i for i in range(50)}
    files.update({"dir0.txt": b"s", "dir1/sub/deep.txt": b"d"})
    await commit(md, repo, files)
    full, cursor, _ = await tree_entries(md, repo)
    assert not cursor
    seen, cursor = [], ""
    while True:
        page, cursor, _ = await tree_entries(md, repo, limit=7, cursor=cursor)
        assert len(page) <= 7
        seen += [e.path for e in page]
        if not cursor:
            break
    assert seen == [e.path for e in full] and len(seen) == len(set(seen))
    # git order: "dir0.txt" sorts before the directory "dir0" ("dir0/")
    top, _, _ = await tree_entries(md, repo, recursive=False)
    assert [e.path for e in top] == [".gitattributes", "dir0.txt", "dir0", "dir1", "dir2"]
    sub, _, _ = await tree_entries(md, repo, path="dir1", recursive=False)
    assert [e.path for e in sub][-1] == "dir1/sub" and all(e.path.startswith("dir1/") for e in sub)
    whole, _, _ = await tree_entries(md, repo, path="dir1")
    seen, cursor = [], ""
    while True:
        page, cursor, _ = await tree_entries(md, repo, path="dir1", limit=3, cursor=cursor)
        seen += [e.path for e in page]
        if not cursor:
            break
    assert seen == [e.path for e in whole] and "dir1/sub/deep.txt" in seen
    sizes = {e.path: e.size for e in full}
    assert sizes["dir0/f003.txt"] == 3
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await tree_entries(md, repo, path="nope")
    assert error_code(err.value) == "EntryNotFound"


async def test_preupload_modes_ignore_and_oids(md):
    repo = await new_repo(md)
    await commit(md, repo, {"a.txt": b"hello"})
    answer = await md.Preupload(pb.PreuploadRequest(repo=repo, revision="main", files=[
        pb.PreuploadFile(path="a.txt", size=5), pb.PreuploadFile(path="model.safetensors", size=10),
        pb.PreuploadFile(path="saved_model/v/x.pb2", size=10), pb.PreuploadFile(path="huge.txt", size=11 * 2**20),
        pb.PreuploadFile(path="logs/x.log", size=1), pb.PreuploadFile(path="keep.log", size=1),
    ], git_ignore=["*.log", "!keep.log", "# comment"]))
    got = {f.path: f for f in answer.files}
    assert got["a.txt"].upload_mode == "regular" and got["a.txt"].oid == git_blob(b"hello")
    assert got["model.safetensors"].upload_mode == "lfs" and got["model.safetensors"].oid == ""
    assert got["saved_model/v/x.pb2"].upload_mode == "lfs"
    assert got["huge.txt"].upload_mode == "lfs"
    assert got["logs/x.log"].should_ignore and not got["keep.log"].should_ignore
    assert not got["a.txt"].should_ignore
    # the .gitattributes of the revision decides
    await commit(md, repo, {".gitattributes": b"*.txt filter=lfs diff=lfs merge=lfs -text\n"})
    answer = await md.Preupload(pb.PreuploadRequest(repo=repo, revision="main", files=[
        pb.PreuploadFile(path="b.txt", size=1), pb.PreuploadFile(path="m.safetensors", size=1)]))
    assert [f.upload_mode for f in answer.files] == ["lfs", "regular"]


def git_blob(data: bytes) -> str:
    return hashlib.sha1(f"blob {len(data)}\0".encode() + data).hexdigest()


async def test_super_squash(md):
    repo = await new_repo(md)
    await commit(md, repo, {"a.txt": b"1"})
    c2 = await commit(md, repo, {"b.txt": b"2"})
    before, _, _ = await tree_entries(md, repo)
    result = await md.SuperSquash(pb.SuperSquashRequest(repo=repo, branch="main", message="squashed", author=ALICE))
    history = await md.ListCommits(pb.ListCommitsRequest(repo=repo, revision="main"))
    assert [c.id for c in history.commits] == [result.commit_oid] and not history.commits[0].parents
    assert history.commits[0].title == "squashed"
    after, _, _ = await tree_entries(md, repo)
    assert [(e.path, e.oid) for e in after] == [(e.path, e.oid) for e in before]
    with pytest.raises(grpc.aio.AioRpcError):
        await md.ResolveRevision(pb.RevisionRequest(repo=repo, revision=c2))


async def test_card_data_and_lfs_index_rpcs(md):
    repo = await new_repo(md)
    await commit(md, repo, {"README.md": b"---\nlicense: mit\ntags: [a, b]\n---\n# Model\n"})
    info = await md.GetRepo(pb.RepoRequest(repo=repo))
    assert '"license": "mit"' in info.card_data_json and info.lfs_bytes == 0
    oid = "ef" * 32
    unref = await md.UnreferencedOids(pb.OidsRequest(oids=[oid]))
    assert list(unref.oids) == [oid]
    holders = await md.ReposReferencingOids(pb.OidsRequest(oids=[oid]))
    assert not holders.holders
    usage = await md.NamespaceUsage(pb.NamespaceUsageRequest(namespace="nobody-here"))
    assert usage.public_bytes == 0 and usage.private_bytes == 0


async def test_oversized_regular_file_is_refused(md):
    repo = await new_repo(md)
    before = await _sha(md, repo)
    piece = b"\x01" * (1024 * 1024)

    def chunks():
        stream = commit_stream(repo)
        yield next(stream)
        for i in range(65):   # 65 MiB > max(LFS threshold, 64 MiB)
            yield pb.CommitChunk(file=pb.FileOp(path="huge.bin", data=piece, more=i < 64))

    with pytest.raises(grpc.aio.AioRpcError) as err:
        await md.Commit(chunks())
    assert err.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED and error_code(err.value) == "FileTooLarge"
    assert await _sha(md, repo) == before


async def test_more_parallel_committers_than_database_connections_all_land(md):
    repo = await new_repo(md)
    oids = await asyncio.gather(*[commit(md, repo, {f"many/f{i}.txt": b"x"}) for i in range(48)])
    history = await md.ListCommits(pb.ListCommitsRequest(repo=repo, revision="main", limit=100))
    assert set(oids) <= {c.id for c in history.commits} and history.total == 49

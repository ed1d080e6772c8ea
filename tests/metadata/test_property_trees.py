"""Property: any sequence of commits through the API yields exactly the tree ids real `git` builds
from the same files, and refused operations leave the branch unchanged."""
from __future__ import annotations

import shutil
from pathlib import Path

import grpc
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from hangar_protos import metadata_pb2 as pb
from hangar_protos import metadata_pb2_grpc

from .conftest import ALICE, ref, unique_name
from .gitlocal import git, init

SEGMENTS = ["a", "a.txt", "a-b", "a0", "b", "A", "z.bin", "a b"]
paths = st.lists(st.sampled_from(SEGMENTS), min_size=1, max_size=3).map("/".join)
contents = st.binary(max_size=40)
operation = st.one_of(
    st.tuples(st.just("put"), paths, contents),
    st.tuples(st.just("delete"), paths, st.just(b"")),
    st.tuples(st.just("delete_folder"), paths, st.just(b"")),
)
commits = st.lists(st.lists(operation, min_size=1, max_size=6), min_size=1, max_size=4)


@pytest.fixture(scope="module")
def sync_md(stack):
    channel = grpc.insecure_channel(f"127.0.0.1:{stack.service_ports['metadata']['grpc']}")
    yield metadata_pb2_grpc.MetadataStub(channel)
    channel.close()


def expected_error(files: dict[str, bytes], ops) -> str | None:
    """What the hub must answer for these operations, applying them to `files` when valid."""
    state = dict(files)
    seen = set()
    for kind, path, _data in ops:
        key = path + ("/" if kind == "delete_folder" else "")
        if key in seen:
            return "DuplicatePath"
        seen.add(key)
    for kind, path, data in ops:
        is_dir = any(p.startswith(path + "/") for p in state)
        if kind == "put":
            parts = path.split("/")
            if any("/".join(parts[:i]) in state for i in range(1, len(parts))) or is_dir:
                return "PathConflict"
            state[path] = data
        elif kind == "delete":
            if path not in state:
                return "EntryNotFound"
            del state[path]
        else:
            if not is_dir:
                return "EntryNotFound"
            for p in [p for p in state if p.startswith(path + "/")]:
                del state[p]
    files.clear()
    files.update(state)
    return None


def stream(repo, ops):
    yield pb.CommitChunk(header=pb.CommitHeader(repo=repo, revision="main", summary="p", author=ALICE))
    for kind, path, data in ops:
        if kind == "put":
            yield pb.CommitChunk(file=pb.FileOp(path=path, data=data))
        else:
            yield pb.CommitChunk(delete=pb.DeleteOp(path=path, folder=kind == "delete_folder"))


def hub_tree(md, repo, commit_id: str) -> str:
    for batch in md.GitFetchObjects(pb.GitFetchRequest(repo=repo, wants=[commit_id], depth=1)):
        for obj in batch.objects:
            if obj.oid == commit_id:
                return obj.data.split(b"\n", 1)[0].split()[1].decode()
    raise AssertionError("commit not served")


def git_tree(work: Path, files: dict[str, bytes]) -> str:
    for child in work.iterdir():
        if child.name != ".git":
            shutil.rmtree(child) if child.is_dir() else child.unlink()
    for path, data in files.items():
        (work / path).parent.mkdir(parents=True, exist_ok=True)
        (work / path).write_bytes(data)
    git(work, "add", "-A")
    return git(work, "write-tree")


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(sequence=commits)
@example(sequence=[[("put", "z.bin", b"\x00")]])                        # matches an LFS pattern: still a plain blob
@example(sequence=[[("put", "a/b", b"1"), ("put", "a.txt", b"2"), ("put", "a-b", b"3")], [("delete_folder", "a", b"")]])
def test_random_commit_sequences_match_git(sync_md, tmp_path_factory, sequence):
    work = init(tmp_path_factory.mktemp("prop") / "w")
    repo = ref(unique_name("prop"))
    sync_md.CreateRepo(pb.CreateRepoRequest(repo=repo, creator=ALICE))
    attrs = b"".join(c.data for c in sync_md.ReadFile(pb.ReadFileRequest(repo=repo, revision="main",
                                                                            path=".gitattributes")) if c.data)
    files = {".gitattributes": attrs}
    for ops in sequence:
        before = sync_md.ResolveRevision(pb.RevisionRequest(repo=repo, revision="main")).commit
        error = expected_error(files, ops)
        if error is not None:
            with pytest.raises(grpc.RpcError) as err:
                sync_md.Commit(stream(repo, ops))
            assert dict(err.value.trailing_metadata())["x-error-code"] == error
            assert sync_md.ResolveRevision(pb.RevisionRequest(repo=repo, revision="main")).commit == before
            continue
        result = sync_md.Commit(stream(repo, ops))
        assert hub_tree(sync_md, repo, result.commit_oid) == git_tree(work, files)

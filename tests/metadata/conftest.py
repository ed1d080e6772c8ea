"""Fixtures driving the metadata gRPC API of the session stack directly (real PostgreSQL)."""
from __future__ import annotations

import itertools
import os
import uuid

import grpc
import pytest

from hangar_protos import common_pb2, metadata_pb2_grpc
from hangar_protos import metadata_pb2 as pb

_counter = itertools.count()


@pytest.fixture(scope="session")
async def md(stack):
    channel = grpc.aio.insecure_channel(f"127.0.0.1:{stack.service_ports['metadata']['grpc']}",
                                        options=[("grpc.max_receive_message_length", 4 * 1024 * 1024)])
    yield metadata_pb2_grpc.MetadataStub(channel)
    await channel.close()


ALICE = common_pb2.Principal(user_id="1", username="alice")


def unique_name(prefix: str = "repo") -> str:
    return f"{prefix}-{os.getpid()}-{next(_counter)}-{uuid.uuid4().hex[:6]}"


def ref(name: str, namespace: str = "alice", repo_type: str = "model") -> common_pb2.RepoRef:
    return common_pb2.RepoRef(type=repo_type, namespace=namespace, name=name)


async def new_repo(md, **kw) -> common_pb2.RepoRef:
    r = ref(unique_name(), **kw)
    await md.CreateRepo(pb.CreateRepoRequest(repo=r, creator=ALICE))
    return r


def commit_stream(repo, files=None, *, deletes=(), folders=(), copies=(), lfs=(), parent="", revision="main",
                  summary="test commit", create_pr=False, chunk=None, pr_number=0, author=ALICE):
    """CommitChunk messages: header, then operations (file data split into `chunk`-sized parts)."""
    yield pb.CommitChunk(header=pb.CommitHeader(repo=repo, revision=revision, summary=summary,
                                                parent_commit=parent, author=author, create_pr=create_pr,
                                                pr_number=pr_number))
    for path, data in (files or {}).items():
        if chunk and len(data) > chunk:
            parts = [data[i:i + chunk] for i in range(0, len(data), chunk)]
            for i, part in enumerate(parts):
                yield pb.CommitChunk(file=pb.FileOp(path=path, data=part, more=i < len(parts) - 1))
        else:
            yield pb.CommitChunk(file=pb.FileOp(path=path, data=data))
    for path, oid, size in lfs:
        yield pb.CommitChunk(lfs_file=pb.LfsFileOp(path=path, oid=oid, size=size))
    for path in deletes:
        yield pb.CommitChunk(delete=pb.DeleteOp(path=path))
    for path in folders:
        yield pb.CommitChunk(delete=pb.DeleteOp(path=path, folder=True))
    for src, dest in copies:
        yield pb.CommitChunk(copy=pb.CopyOp(src_path=src, dest_path=dest))


async def commit(md, repo, files=None, **kw) -> str:
    result = await md.Commit(commit_stream(repo, files, **kw))
    return result.commit_oid


def error_code(exc: grpc.aio.AioRpcError) -> str:
    return dict(exc.trailing_metadata() or ()).get("x-error-code", "")


async def tree_entries(md, repo, revision="main", path="", recursive=True, expand=False, limit=0, cursor=""):
    entries, next_cursor, commit_id = [], "", ""
    async for page in md.ListTree(pb.ListTreeRequest(repo=repo, revision=revision, path=path, recursive=recursive,
                                                     expand=expand, limit=limit, cursor=cursor)):
        commit_id = commit_id or page.commit
        entries.extend(page.entries)
        next_cursor = page.next_cursor or next_cursor
    return entries, next_cursor, commit_id


async def read(md, repo, path, revision="main", offset=0, length=-1):
    meta, data = None, b""
    async for chunk in md.ReadFile(pb.ReadFileRequest(repo=repo, revision=revision, path=path, offset=offset,
                                                      length=length)):
        if chunk.HasField("meta"):
            meta = chunk.meta
        else:
            data += chunk.data
    return meta, data

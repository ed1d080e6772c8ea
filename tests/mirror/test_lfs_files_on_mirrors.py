"""permanently_delete_lfs_files rewrites history, which a mirrored repository cannot do: its commits
keep the upstream's ids. A pull-through cache is read-only for every write (the gateway answers
ReadOnlyMirror before any other rule); an imported mirror (an upstream repo kept under a local name, which
its owner may otherwise write) refuses the rewrite with 400 MirroredRepo, and nothing changes."""
from __future__ import annotations

import hashlib
import os
import uuid

import grpc
import httpx
from dulwich.objects import Blob, Commit, Tree
from huggingface_hub import HfApi

from hangar_protos import common_pb2, metadata_pb2, metadata_pb2_grpc

ZERO = "0" * 40


async def _plant_mirror(stack, namespace: str, name: str, *, cache: bool, oid: str, size: int) -> str:
    """What the mirror's UpstreamSync stores for an upstream repo holding one LFS pointer."""
    blob = Blob.from_string(f"version https://git-lfs.github.com/spec/v1\noid sha256:{oid}\nsize {size}\n".encode())
    tree = Tree()
    tree.add(b"weights.bin", 0o100644, blob.id)
    commit = Commit()
    commit.tree = tree.id
    commit.author = commit.committer = b"Upstream <up@example.test>"
    commit.author_time = commit.commit_time = 1_700_000_000
    commit.author_timezone = commit.commit_timezone = 0
    commit.message = b"upstream commit\n"
    objects = [(commit, 1), (tree, 2), (blob, 3)]
    batch_pb = metadata_pb2.GitObjectBatch(object_count=len(objects), objects=[
        metadata_pb2.GitObject(oid=o.id.decode(), type=kind, data=o.as_raw_string(), size=len(o.as_raw_string()))
        for o, kind in objects])
    header = metadata_pb2.GitReceiveHeader(
        repo=common_pb2.RepoRef(type="model", namespace=namespace, name=name),
        commands=[metadata_pb2.RefCommand(ref="refs/heads/main", old_oid=ZERO, new_oid=commit.id.decode())],
        upstream=metadata_pb2.UpstreamRepo(create=True, cache=cache, force=True, default_branch="main"))

    async def chunks():
        yield metadata_pb2.GitReceiveChunk(header=header)
        yield metadata_pb2.GitReceiveChunk(objects=batch_pb)

    async with grpc.aio.insecure_channel(f"127.0.0.1:{stack.service_ports['metadata']['grpc']}") as channel:
        result = await metadata_pb2_grpc.MetadataStub(channel).UpstreamSync(chunks())
    assert result.ok, result
    return commit.id.decode()


async def test_an_imported_mirror_refuses_the_rewrite(stack, endpoint, make_user):
    owner = make_user()
    data = os.urandom(2048)
    oid = hashlib.sha256(data).hexdigest()
    name = f"mirrored-{uuid.uuid4().hex[:8]}"
    tip = await _plant_mirror(stack, owner.name, name, cache=False, oid=oid, size=len(data))
    repo_id = f"{owner.name}/{name}"
    resp = httpx.post(f"{endpoint}/api/models/{repo_id}/lfs-files/batch",
                      json={"deletions": {"sha": [oid], "rewriteHistory": True}},
                      headers={"Authorization": f"Bearer {owner.token}"})
    assert (resp.status_code, resp.headers.get("X-Error-Code")) == (400, "MirroredRepo"), resp.text
    assert HfApi(endpoint=endpoint, token=owner.token).repo_info(repo_id).sha == tip

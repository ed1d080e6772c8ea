"""An upstream cache's LFS pointers come from the upstream, unchecked by the LFS rule (an attacker can
publish a pointer to any oid upstream). Holding such a pointer must give no access to bytes Hangar
holds under that oid for someone else: not by resolve, not by the LFS batch API, not as a "holder"
that entitles a local commit. Only bytes the mirror fetched for that cache (and verified) count."""
from __future__ import annotations

import os
import uuid

import grpc
import httpx
import pytest
from dulwich.objects import Blob, Commit, Tree
from huggingface_hub import HfApi

from hangar_protos import common_pb2, metadata_pb2, metadata_pb2_grpc
from tests.lfs.lfsutil import batch

ZERO = "0" * 40


def _pointer(oid: str, size: int) -> bytes:
    return f"version https://git-lfs.github.com/spec/v1\noid sha256:{oid}\nsize {size}\n".encode()


async def _plant_cache(stack, namespace: str, name: str, oid: str, size: int) -> None:
    """What the mirror's UpstreamSync would store for an upstream repo holding a pointer to `oid`."""
    blob = Blob.from_string(_pointer(oid, size))
    tree = Tree()
    tree.add(b"stolen.bin", 0o100644, blob.id)
    commit = Commit()
    commit.tree = tree.id
    commit.author = commit.committer = b"Eve <eve@example.test>"
    commit.author_time = commit.commit_time = 1_700_000_000
    commit.author_timezone = commit.commit_timezone = 0
    commit.message = b"pointer to someone else's weights\n"
    objects = [(commit, 1), (tree, 2), (blob, 3)]
    batch_pb = metadata_pb2.GitObjectBatch(object_count=len(objects), objects=[
        metadata_pb2.GitObject(oid=o.id.decode(), type=kind, data=o.as_raw_string(), size=len(o.as_raw_string()))
        for o, kind in objects])
    header = metadata_pb2.GitReceiveHeader(
        repo=common_pb2.RepoRef(type="model", namespace=namespace, name=name),
        commands=[metadata_pb2.RefCommand(ref="refs/heads/main", old_oid=ZERO, new_oid=commit.id.decode())],
        upstream=metadata_pb2.UpstreamRepo(create=True, cache=True, force=True, default_branch="main"))

    async def chunks():
        yield metadata_pb2.GitReceiveChunk(header=header)
        yield metadata_pb2.GitReceiveChunk(objects=batch_pb)

    async with grpc.aio.insecure_channel(f"127.0.0.1:{stack.service_ports['metadata']['grpc']}") as channel:
        result = await metadata_pb2_grpc.MetadataStub(channel).UpstreamSync(chunks())
    assert result.ok, result


@pytest.mark.parametrize("gated", [False, True])
async def test_a_cached_pointer_gives_no_access_to_local_bytes(stack, endpoint, make_user, gated):
    victim, eve = make_user(), make_user()
    api = HfApi(endpoint=endpoint, token=victim.token)
    secret_repo = f"{victim.name}/weights-{uuid.uuid4().hex[:6]}"
    api.create_repo(secret_repo, private=not gated)
    if gated:
        api.update_repo_settings(secret_repo, gated="manual")
    data = os.urandom(11 * 1024 * 1024)
    api.upload_file(path_or_fileobj=data, path_in_repo="model.bin", repo_id=secret_repo)
    oid = api.get_paths_info(secret_repo, ["model.bin"])[0].lfs.sha256

    cache = f"cache-{uuid.uuid4().hex[:8]}"
    await _plant_cache(stack, eve.name, cache, oid, len(data))
    cache_id = f"{eve.name}/{cache}"

    with httpx.Client(base_url=endpoint, timeout=30, follow_redirects=False) as http:
        for headers in ({}, {"Authorization": f"Bearer {eve.token}"}):
            resp = http.get(f"/{cache_id}/resolve/main/stolen.bin", headers=headers)
            assert resp.status_code != 302 and resp.status_code >= 400, (resp.status_code, resp.headers)
            assert data[:4096] not in resp.content
    answer = batch(endpoint, cache_id, "download", [(oid, len(data))])
    objects = answer.json().get("objects", []) if answer.status_code == 200 else []
    assert not any("actions" in o for o in objects), answer.text
    # Nor does reading the cache entitle Eve to reference the oid in a repo of her own.
    mine = f"{eve.name}/mine-{uuid.uuid4().hex[:6]}"
    eve_api = HfApi(endpoint=endpoint, token=eve.token)
    eve_api.create_repo(mine)
    before = eve_api.repo_info(mine).sha
    resp = httpx.post(f"{endpoint}/api/models/{mine}/commit/main", headers={
        "Authorization": f"Bearer {eve.token}", "Content-Type": "application/x-ndjson"}, content=(
        '{"key":"header","value":{"summary":"x"}}\n'
        f'{{"key":"lfsFile","value":{{"path":"w.bin","algo":"sha256","oid":"{oid}","size":{len(data)}}}}}\n'))
    assert 400 <= resp.status_code < 500 and resp.headers.get("X-Error-Code"), resp.text
    assert eve_api.repo_info(mine).sha == before

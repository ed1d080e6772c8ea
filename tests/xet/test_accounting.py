"""Storage accounting of Xet-uploaded files: a namespace's usage counts what its files occupy in S3 —
the xorbs they use and the shards that named them, each once — beside plain LFS objects at their size."""
from __future__ import annotations

import os

import grpc
import httpx
import pytest
from huggingface_hub import HfApi, constants

from hangar_protos import lfs_pb2, lfs_pb2_grpc

from .test_cas import _s3

MiB = 1024 * 1024


@pytest.fixture
def lfs_grpc(stack):
    channel = grpc.insecure_channel(f"127.0.0.1:{stack.service_ports['lfs']['grpc']}")
    yield lfs_pb2_grpc.LfsStub(channel)
    channel.close()


def _xet_objects(stack) -> dict[str, int]:
    """Every S3 object under xet/xorbs/ and xet/shards/, with its size."""
    s3 = _s3(stack)
    return {o.object_name: o.size for prefix in ("xet/xorbs/", "xet/shards/")
            for o in s3.client.list_objects(s3.bucket, prefix=prefix, recursive=True)}


def test_usage_counts_the_xorbs_and_shards_the_namespace_uses(stack, endpoint, make_user, lfs_grpc,
                                                              monkeypatch, tmp_path):
    monkeypatch.setattr(constants, "HF_HUB_DISABLE_XET", False)
    monkeypatch.setenv("HF_XET_CACHE", str(tmp_path / "xet-cache"))
    owner = make_user()
    api = HfApi(endpoint=endpoint, token=owner.token)
    public, private = f"{owner.name}/acct-pub", f"{owner.name}/acct-priv"
    api.create_repo(public)
    api.create_repo(private, private=True)
    data = os.urandom(6 * MiB + 123)
    (tmp_path / "w.bin").write_bytes(data)
    before = _xet_objects(stack)

    api.upload_file(path_or_fileobj=str(tmp_path / "w.bin"), path_in_repo="w.bin", repo_id=public)
    new = {k: v for k, v in _xet_objects(stack).items() if k not in before}
    xorbs = sum(v for k, v in new.items() if k.startswith("xet/xorbs/"))
    shards = sum(v for k, v in new.items() if k.startswith("xet/shards/"))
    assert xorbs > 0 and shards > 0
    usage = lfs_grpc.Usage(lfs_pb2.UsageRequest(namespace=owner.name))
    assert (usage.public_bytes, usage.private_bytes) == (len(data), 0)     # the file's own size
    assert (usage.xorb_bytes, usage.shard_bytes, usage.lfs_object_bytes) == (xorbs, shards, 0)
    assert usage.stored_bytes == xorbs + shards                            # exactly what S3 holds for it

    # The same file in a second repository of the namespace: its xorbs are not counted again (a
    # shard the client sends again for it is stored, and counted, once).
    api.upload_file(path_or_fileobj=str(tmp_path / "w.bin"), path_in_repo="copy.bin", repo_id=private)
    new = {k: v for k, v in _xet_objects(stack).items() if k not in before}
    again = lfs_grpc.Usage(lfs_pb2.UsageRequest(namespace=owner.name))
    assert again.xorb_bytes == xorbs
    assert again.stored_bytes == sum(new.values())

    # A plain LFS upload counts at its size.
    monkeypatch.setattr(constants, "HF_HUB_DISABLE_XET", True)
    plain = os.urandom(4000)
    api.upload_file(path_or_fileobj=plain, path_in_repo="plain.bin", repo_id=private)
    third = lfs_grpc.Usage(lfs_pb2.UsageRequest(namespace=owner.name))
    assert third.lfs_object_bytes == len(plain) and third.private_bytes == len(plain)
    assert third.stored_bytes == again.stored_bytes + len(plain)
    body = httpx.get(f"{endpoint}/api/storage/{owner.name}",
                     headers={"Authorization": f"Bearer {owner.token}"}).json()
    assert body["storedBytes"] == third.stored_bytes and body["totalBytes"] == len(data) + len(plain)

    # Another namespace using none of these files stores nothing.
    stranger = make_user()
    assert lfs_grpc.Usage(lfs_pb2.UsageRequest(namespace=stranger.name)).stored_bytes == 0

"""Storage accounting per namespace, the optional quota checked at commit time, and the in-service
collection schedule. Each test restarts lfs with the setting it needs (`lfs_settings`)."""
from __future__ import annotations

import os
import time

import pytest
from huggingface_hub import CommitOperationAdd, HfApi
from huggingface_hub.errors import HfHubHTTPError

from hangar_protos import lfs_pb2

from .lfsutil import create_repo, payload, upload_basic


def test_usage_is_dedup_aware_and_quota_refuses_only_new_bytes(endpoint, make_user, lfs_grpc, lfs_settings):
    lfs_settings(HANGAR_LFS_QUOTA_BYTES="5000")
    owner = make_user()
    api = HfApi(endpoint=endpoint, token=owner.token)
    public = create_repo(endpoint, owner.token)
    private = create_repo(endpoint, owner.token, private=True)
    first = os.urandom(3000)
    api.create_commit(public, [CommitOperationAdd("a.bin", first)], commit_message="a")
    api.create_commit(private, [CommitOperationAdd("a.bin", first)], commit_message="same bytes")
    usage = lfs_grpc.Usage(lfs_pb2.UsageRequest(namespace=owner.name))
    assert usage.quota_bytes == 5000
    # Counted once, as public (a public repo holds it), though two repos reference it.
    assert (usage.public_bytes, usage.private_bytes) == (3000, 0)
    with pytest.raises(HfHubHTTPError) as refused:
        api.create_commit(private, [CommitOperationAdd("b.bin", os.urandom(3000))], commit_message="over")
    assert refused.value.response.status_code == 403
    assert refused.value.response.headers.get("x-error-code") == "QuotaExceeded"
    assert "b.bin" not in api.list_repo_files(private)
    api.create_commit(public, [CommitOperationAdd("copy.bin", first)], commit_message="reuse is free")


def test_scheduled_collection_runs_in_the_service(endpoint, user, s3, lfs_settings):
    repo = create_repo(endpoint, user.token)
    data, oid = payload(2000)
    assert upload_basic(endpoint, repo, data, oid, user.token).status_code == 200
    lfs_settings(HANGAR_LFS_GC_INTERVAL="1", HANGAR_LFS_GC_GRACE="0")
    deadline = time.monotonic() + 60
    while s3.has(oid) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert not s3.has(oid)


def test_hrefs_use_the_origin_the_client_used_when_no_public_url_is_configured(endpoint, user, lfs_settings):
    from .lfsutil import batch, bearer
    repo = create_repo(endpoint, user.token)
    lfs_settings(HANGAR_PUBLIC_URL="")
    data, oid = payload(100)
    answer = batch(endpoint, repo, "upload", [(oid, len(data))],
                   headers={**bearer(user.token), "Host": "hub.example.test:8443"}).json()
    assert answer["objects"][0]["actions"]["verify"]["href"].startswith(
        f"http://hub.example.test:8443/{repo}.git/info/lfs/objects/uploads/")

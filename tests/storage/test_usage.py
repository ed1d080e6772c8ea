"""Storage accounting through the gateway: dedup-aware public/private LFS bytes per namespace."""
from __future__ import annotations

import os

import httpx
from huggingface_hub import HfApi

from tests.conftest import unique_name


def _usage(endpoint: str, namespace: str, token: str | None) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.get(f"{endpoint}/api/storage/{namespace}", headers=headers)


def test_usage_counts_each_object_once_and_splits_public_private(endpoint, make_user):
    owner = make_user()
    api = HfApi(endpoint=endpoint, token=owner.token)
    shared, private_only = os.urandom(3000), os.urandom(5000)
    public_repo, private_repo = f"{owner.name}/{unique_name('pub')}", f"{owner.name}/{unique_name('priv')}"
    api.create_repo(public_repo)
    api.create_repo(private_repo, private=True)
    assert _usage(endpoint, owner.name, owner.token).json()["totalBytes"] == 0
    api.upload_file(path_or_fileobj=shared, path_in_repo="a.bin", repo_id=public_repo)
    api.upload_file(path_or_fileobj=shared, path_in_repo="copy.bin", repo_id=public_repo)
    api.upload_file(path_or_fileobj=shared, path_in_repo="a.bin", repo_id=private_repo)
    api.upload_file(path_or_fileobj=private_only, path_in_repo="b.bin", repo_id=private_repo)
    usage = _usage(endpoint, owner.name, owner.token)
    assert usage.status_code == 200
    body = usage.json()
    assert body["publicBytes"] == len(shared)
    assert body["privateBytes"] == len(private_only)
    assert body["totalBytes"] == len(shared) + len(private_only)


def test_usage_is_only_for_the_namespace_itself(endpoint, make_user):
    owner, stranger = make_user(), make_user()
    assert _usage(endpoint, owner.name, None).status_code == 401
    denied = _usage(endpoint, owner.name, stranger.token)
    assert denied.status_code == 403
    assert denied.headers["X-Error-Code"]

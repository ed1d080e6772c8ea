"""Xet-aware downloads: files uploaded through Xet carry `xetHash` in tree entries and `X-Xet-Hash`
plus the read-token refresh route on resolve, so huggingface_hub downloads them by reconstruction;
files uploaded over plain LFS carry neither (never advertise Xet for what the CAS cannot serve)."""
from __future__ import annotations

import os

import httpx
from huggingface_hub import HfApi, get_hf_file_metadata, hf_hub_download, hf_hub_url

from tests.xet.test_hub_client import MiB, _repo, _write, xet_on  # noqa: F401  (fixture)


def _head(endpoint: str, repo: str, path: str, token: str) -> httpx.Response:
    return httpx.head(f"{endpoint}/{repo}/resolve/main/{path}", headers={"Authorization": f"Bearer {token}"})


def test_xet_uploaded_file_is_advertised_and_downloads_by_reconstruction(stack, endpoint, user, xet_on, tmp_path):
    repo = _repo(endpoint, user)
    src = tmp_path / "weights.safetensors"
    _write(src, 3 * MiB + 5)
    api = HfApi(endpoint=endpoint, token=user.token)
    api.upload_file(path_or_fileobj=str(src), path_in_repo="weights.safetensors", repo_id=repo)

    [info] = api.get_paths_info(repo, ["weights.safetensors"])
    assert info.xet_hash and len(info.xet_hash) == 64
    [listed] = [f for f in api.list_repo_tree(repo) if f.path == "weights.safetensors"]
    assert listed.xet_hash == info.xet_hash

    head = _head(endpoint, repo, "weights.safetensors", user.token)
    assert head.status_code == 302
    assert head.headers["X-Xet-Hash"] == info.xet_hash
    refresh = head.links["xet-auth"]["url"]
    assert refresh.startswith(endpoint) and "/xet-read-token/" in refresh
    token = httpx.get(refresh, headers={"Authorization": f"Bearer {user.token}"})
    assert token.status_code == 200 and token.json()["accessToken"]

    meta = get_hf_file_metadata(hf_hub_url(repo, "weights.safetensors", endpoint=endpoint), token=user.token)
    assert meta.xet_file_data is not None and meta.xet_file_data.file_hash == info.xet_hash
    local = hf_hub_download(repo, "weights.safetensors", token=user.token, endpoint=endpoint,
                            cache_dir=str(tmp_path / "cache"))
    assert open(local, "rb").read() == src.read_bytes()


def test_plain_lfs_upload_is_not_advertised_as_xet(stack, endpoint, user, tmp_path, monkeypatch):
    from huggingface_hub import constants
    monkeypatch.setattr(constants, "HF_HUB_DISABLE_XET", True)   # basic LFS upload
    repo = _repo(endpoint, user)
    api = HfApi(endpoint=endpoint, token=user.token)
    api.upload_file(path_or_fileobj=os.urandom(4096), path_in_repo="plain.bin", repo_id=repo)
    [info] = api.get_paths_info(repo, ["plain.bin"])
    assert info.lfs is not None and info.xet_hash is None
    head = _head(endpoint, repo, "plain.bin", user.token)
    assert head.status_code == 302 and "X-Xet-Hash" not in head.headers

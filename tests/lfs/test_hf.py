"""huggingface_hub 2.4 (HF_HUB_DISABLE_XET=1) against the whole hub: LFS uploads through the batch API
(basic for 24 MiB, multipart for 200 MiB) and downloads through resolve's redirect."""
from __future__ import annotations

import hashlib
import json
import os

import httpx
from huggingface_hub import HfApi, hf_hub_download

from .lfsutil import batch, bearer, create_repo

MiB = 1024 * 1024


def _file(tmp_path, size: int, name: str = "weights.bin") -> tuple[str, str]:
    path = tmp_path / name
    digest = hashlib.sha256()
    with open(path, "wb") as handle:
        for _ in range(size // MiB):
            block = os.urandom(MiB)
            digest.update(block)
            handle.write(block)
    return str(path), digest.hexdigest()


def _sha256(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(MiB), b""):
            digest.update(block)
    return digest.hexdigest()


def _roundtrip(tmp_path, endpoint, user, s3, size: int) -> None:
    api = HfApi(endpoint=endpoint, token=user.token)
    repo = create_repo(endpoint, user.token, private=True)
    path, oid = _file(tmp_path, size)
    api.upload_file(path_or_fileobj=path, path_in_repo="weights.bin", repo_id=repo)
    assert s3.has(oid)
    local = hf_hub_download(repo, "weights.bin", token=user.token, cache_dir=str(tmp_path / "cache"),
                            endpoint=endpoint)
    assert _sha256(local) == oid


def test_hf_uploads_and_downloads_24mib_basic(tmp_path, endpoint, user, s3):
    _roundtrip(tmp_path, endpoint, user, s3, 24 * MiB)


def test_hf_uploads_and_downloads_200mib_multipart(tmp_path, endpoint, user, s3):
    _roundtrip(tmp_path, endpoint, user, s3, 200 * MiB)


def test_same_file_in_two_repos_is_stored_once(tmp_path, endpoint, user, s3):
    api = HfApi(endpoint=endpoint, token=user.token)
    first = create_repo(endpoint, user.token, private=True)
    second = create_repo(endpoint, user.token, private=True)
    path, oid = _file(tmp_path, 2 * MiB)
    api.upload_file(path_or_fileobj=path, path_in_repo="a.bin", repo_id=first)
    # The caller can read a repo that holds the object: "already present", nothing to send.
    present = batch(endpoint, second, "upload", [(oid, 2 * MiB)], headers=bearer(user.token)).json()
    assert "actions" not in present["objects"][0]
    api.upload_file(path_or_fileobj=path, path_in_repo="b.bin", repo_id=second)
    assert len(s3.object_keys(oid)) == 1
    assert all(_sha256(hf_hub_download(r, f, token=user.token, cache_dir=str(tmp_path / "c"),
                                           endpoint=endpoint)) == oid
               for r, f in ((first, "a.bin"), (second, "b.bin")))


def test_another_user_cannot_commit_a_private_oid_by_its_hash(tmp_path, endpoint, user, other_user):
    api = HfApi(endpoint=endpoint, token=user.token)
    private = create_repo(endpoint, user.token, private=True)
    path, oid = _file(tmp_path, MiB)
    api.upload_file(path_or_fileobj=path, path_in_repo="secret.bin", repo_id=private)
    theirs = create_repo(endpoint, other_user.token)
    lines = [{"key": "header", "value": {"summary": "steal", "description": ""}},
             {"key": "lfsFile", "value": {"path": "stolen.bin", "algo": "sha256", "oid": oid, "size": MiB}}]
    resp = httpx.post(f"{endpoint}/api/models/{theirs}/commit/main",
                      content="\n".join(json.dumps(line) for line in lines).encode(),
                      headers={**bearer(other_user.token), "Content-Type": "application/x-ndjson"})
    assert 400 <= resp.status_code < 500 and resp.headers.get("x-error-code")
    files = HfApi(endpoint=endpoint, token=other_user.token).list_repo_files(theirs)
    assert "stolen.bin" not in files

"""The contributor upload right (issue 13): someone signed in without write access uploads LFS
objects (batch API) and gets a Xet write token only for a pull request of their own (create_pr, or
their own refs/pr/N), never for a branch or someone else's PR; what they upload counts against a
quota per user and repository and per user (HANGAR_LFS_CONTRIBUTOR_*_BYTES), for LFS and for Xet."""
from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import textwrap
import uuid

import httpx
import pytest

from tests.lfs.lfsutil import LFS_HEADERS, batch_url


def _batch(endpoint, repo_id, user_token, objects, ref=None):
    body = {"operation": "upload", "transfers": ["basic"], "hash_algo": "sha256",
            "objects": [{"oid": oid, "size": size} for oid, size in objects]}
    if ref is not None:
        body["ref"] = {"name": ref}
    headers = {**LFS_HEADERS, **({"Authorization": f"Bearer {user_token}"} if user_token else {})}
    return httpx.post(batch_url(endpoint, repo_id), json=body, headers=headers, timeout=60)


def _oid(seed: str) -> str:
    return hashlib.sha256(seed.encode()).hexdigest()


def _xet_token(endpoint, repo_id, token, revision="main", **params):
    return httpx.get(f"{endpoint}/api/models/{repo_id}/xet-write-token/{revision}", params=params,
                     headers={"Authorization": f"Bearer {token}"}, timeout=30)


def test_upload_right_is_limited_to_own_pull_requests(endpoint, owner, contributor, owner_api, contributor_api,
                                                      pr_repo):
    mine = contributor_api.create_pull_request(pr_repo, title="Mine")
    theirs = owner_api.create_pull_request(pr_repo, title="The owner's")
    obj = [(_oid(uuid.uuid4().hex), 10)]
    assert "actions" in _batch(endpoint, pr_repo, contributor.token, obj).json()["objects"][0]   # create_pr
    assert _batch(endpoint, pr_repo, contributor.token, obj, ref=mine.git_reference).status_code == 200
    for ref in ("refs/heads/main", "main", theirs.git_reference, "refs/tags/v1"):
        resp = _batch(endpoint, pr_repo, contributor.token, obj, ref=ref)
        assert resp.status_code == 403, (ref, resp.text)
    assert _batch(endpoint, pr_repo, contributor.token, obj, ref="refs/pr/404").status_code == 404
    assert _batch(endpoint, pr_repo, contributor.read_token, obj).status_code == 403
    assert _batch(endpoint, pr_repo, None, obj).status_code == 401

    assert _xet_token(endpoint, pr_repo, contributor.token).status_code == 403
    assert _xet_token(endpoint, pr_repo, contributor.token, create_pr="1").status_code == 200
    assert _xet_token(endpoint, pr_repo, contributor.token, mine.git_reference.replace("/", "%2F")).status_code == 200
    assert _xet_token(endpoint, pr_repo, contributor.token, theirs.git_reference.replace("/", "%2F")).status_code == 403
    assert _xet_token(endpoint, pr_repo, contributor.read_token, create_pr="1").status_code == 403

    # what they uploaded feeds their PR, never a branch
    payload = os.urandom(3000)
    refused = None
    try:
        contributor_api.upload_file(path_or_fileobj=payload, path_in_repo="w.bin", repo_id=pr_repo)
    except Exception as exc:  # noqa: BLE001
        refused = exc
    assert getattr(getattr(refused, "response", None), "status_code", None) == 403
    contributor_api.upload_file(path_or_fileobj=payload, path_in_repo="w.bin", repo_id=pr_repo,
                                revision=mine.git_reference)
    assert "w.bin" not in owner_api.list_repo_files(pr_repo)
    assert "w.bin" in owner_api.list_repo_files(pr_repo, revision=mine.git_reference)


@pytest.fixture()
def small_quota(stack):
    """lfs restarted with small contributor quotas (restored afterwards)."""
    saved = dict(stack.env)
    stack.env.update({"HANGAR_LFS_CONTRIBUTOR_REPO_BYTES": "5000", "HANGAR_LFS_CONTRIBUTOR_USER_BYTES": "8000"})
    stack.stop_service("lfs")
    stack.start_service("lfs")
    yield
    stack.env.clear()
    stack.env.update(saved)
    stack.stop_service("lfs")
    stack.start_service("lfs")


def test_contributor_quota_per_repo_and_per_user(endpoint, make_user, owner_api, owner, small_quota):
    someone = make_user()
    repos = []
    for _ in range(3):
        repo_id = f"{owner.name}/quota-{uuid.uuid4().hex[:8]}"
        owner_api.create_repo(repo_id)
        repos.append(repo_id)
    a, b, c = (_oid(uuid.uuid4().hex) for _ in range(3))
    assert _batch(endpoint, repos[0], someone.token, [(a, 3000)]).status_code == 200
    assert _batch(endpoint, repos[0], someone.token, [(a, 3000)]).status_code == 200     # counted once
    over = _batch(endpoint, repos[0], someone.token, [(b, 3000)])
    assert over.status_code == 403 and over.headers["x-error-code"] == "ContributorQuotaExceeded", over.text
    assert _batch(endpoint, repos[1], someone.token, [(b, 3000)]).status_code == 200      # 6000 of 8000
    over = _batch(endpoint, repos[2], someone.token, [(c, 3000)])
    assert over.status_code == 403 and over.headers["x-error-code"] == "ContributorQuotaExceeded", over.text
    # the owner is no contributor to their own repos: no quota
    assert _batch(endpoint, repos[2], owner.token, [(c, 3000)]).status_code == 200

    # Xet: the contributor's xorbs count too (huggingface_hub 2.4, Xet on, create_pr)
    script = textwrap.dedent("""
        import os, sys
        from huggingface_hub import HfApi
        api = HfApi(endpoint=sys.argv[1], token=sys.argv[2])
        try:
            api.upload_file(path_or_fileobj=os.urandom(int(sys.argv[4])), path_in_repo="big.bin", repo_id=sys.argv[3],
                            create_pr=True)
            print("uploaded")
        except Exception as exc:
            print("refused", type(exc).__name__, str(exc)[:300])
    """)
    fresh = make_user()
    env = {**os.environ, "HF_HUB_DISABLE_XET": "0", "PYTHONPATH": ""}
    small = subprocess.run([sys.executable, "-c", script, endpoint, fresh.token, repos[2], "2000"],
                           capture_output=True, text=True, env=env, timeout=600)
    assert small.stdout.startswith("uploaded"), small.stdout + small.stderr[-2000:]
    big = subprocess.run([sys.executable, "-c", script, endpoint, fresh.token, repos[1], "20000"],
                         capture_output=True, text=True, env=env, timeout=600)
    # the xorb upload is what is refused (hf_xet shows the status, not the body)
    assert big.stdout.startswith("refused") and "403" in big.stdout and "/xet/v1/xorbs/" in big.stdout, big.stdout
    assert owner_api.list_repo_refs(repos[1], include_pull_requests=True).pull_requests == []

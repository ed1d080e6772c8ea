"""Git LFS locking API (git-lfs docs/api/locking.md)."""
from __future__ import annotations

import httpx

from .lfsutil import LFS_HEADERS, basic, bearer, create_repo


def _url(endpoint, repo, rest):
    return f"{endpoint}/{repo}.git/info/lfs/locks{rest}"


def test_locks_verify_answers_empty_lists_so_git_push_does_not_warn(endpoint, user):
    repo = create_repo(endpoint, user.token)
    resp = httpx.post(_url(endpoint, repo, "/verify"), json={"ref": {"name": "refs/heads/main"}},
                      headers={**LFS_HEADERS, **basic(user.name, user.token)})
    assert resp.status_code == 200
    assert resp.headers["content-type"].startswith("application/vnd.git-lfs+json")
    assert resp.json() == {"ours": [], "theirs": []}
    anonymous = httpx.post(_url(endpoint, repo, "/verify"), json={}, headers=LFS_HEADERS)
    assert anonymous.status_code == 401 and "www-authenticate" in anonymous.headers


def test_create_list_verify_and_unlock(endpoint, user):
    repo = create_repo(endpoint, user.token)
    auth = {**LFS_HEADERS, **bearer(user.token)}
    created = httpx.post(_url(endpoint, repo, ""), json={"path": "weights.bin", "ref": {"name": "refs/heads/main"}},
                         headers=auth)
    assert created.status_code == 201
    lock = created.json()["lock"]
    assert lock["path"] == "weights.bin" and lock["owner"]["name"] == user.name
    again = httpx.post(_url(endpoint, repo, ""), json={"path": "weights.bin"}, headers=auth)
    assert again.status_code == 409 and again.json()["lock"]["id"] == lock["id"]
    listed = httpx.get(_url(endpoint, repo, "?path=weights.bin"), headers=auth).json()
    assert [item["id"] for item in listed["locks"]] == [lock["id"]]
    assert httpx.post(_url(endpoint, repo, "/verify"), json={}, headers=auth).json()["ours"][0]["id"] == lock["id"]
    gone = httpx.post(_url(endpoint, repo, f"/{lock['id']}/unlock"), json={}, headers=auth)
    assert gone.status_code == 200 and gone.json()["lock"]["id"] == lock["id"]
    assert httpx.get(_url(endpoint, repo, ""), headers=auth).json()["locks"] == []


def test_locks_need_write_access(endpoint, user, other_user):
    repo = create_repo(endpoint, user.token)
    resp = httpx.post(_url(endpoint, repo, ""), json={"path": "a.bin"},
                      headers={**LFS_HEADERS, **bearer(other_user.token)})
    assert resp.status_code == 403
    listing = httpx.get(_url(endpoint, repo, ""), headers={**LFS_HEADERS, **bearer(other_user.token)})
    assert listing.status_code == 200

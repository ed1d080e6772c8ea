"""Abbreviated commit ids are matched among the repository's own commits only (issue 15).

Two commits whose ids share their first 7 hex digits are found by hashing candidate commit objects
(a 28-bit birthday search, some tens of thousands of sha1s), written with git and pushed with git.
"""
from __future__ import annotations

import hashlib

import httpx
from huggingface_hub.utils import HfHubHTTPError

from tests.git.gitutil import out
from tests.git.test_push import clone_for_push, push


def _commit_bytes(tree: str, i: int) -> bytes:
    return (f"tree {tree}\nauthor A <a@x> 1700000000 +0000\ncommitter A <a@x> 1700000000 +0000\n"
            f"\ncandidate {i}\n").encode()


def colliding_pair(tree: str) -> tuple[bytes, bytes, str]:
    """Two root commit objects on `tree` whose ids start with the same 7 hex digits."""
    seen: dict[str, int] = {}
    i = 0
    while True:
        raw = _commit_bytes(tree, i)
        oid = hashlib.sha1(b"commit %d\0" % len(raw) + raw).hexdigest()
        if oid[:7] in seen:
            return _commit_bytes(tree, seen[oid[:7]]), raw, oid[:7]
        seen[oid[:7]] = i
        i += 1


def write_commit(work, raw: bytes) -> str:
    return out("hash-object", "-t", "commit", "-w", "--stdin", cwd=work, input=raw)


def test_prefix_matches_own_commits_only_and_ambiguity_is_a_clear_400(hub, user, tmp_path):
    repo_a, work_a = clone_for_push(hub, user, tmp_path / "a")
    repo_b, work_b = clone_for_push(hub, user, tmp_path / "b")
    tree = out("rev-parse", "HEAD^{tree}", cwd=work_a)
    assert tree == out("rev-parse", "HEAD^{tree}", cwd=work_b)   # both hold the default .gitattributes
    first, second, prefix = colliding_pair(tree)
    c1, c2 = write_commit(work_a, first), write_commit(work_b, second)
    assert c1 != c2 and c1[:7] == c2[:7] == prefix
    push(work_a, f"{c1}:refs/heads/one")
    push(work_b, f"{c2}:refs/heads/two")
    api = hub.api(user)
    # Each repository resolves the prefix to its own commit: the other repository's does not count.
    assert api.repo_info(repo_a, revision=prefix).sha == c1
    assert api.repo_info(repo_b, revision=prefix).sha == c2
    # Both commits in one repository: the prefix is ambiguous there, a 400 that names no commit.
    assert write_commit(work_a, second) == c2
    push(work_a, f"{c2}:refs/heads/two")
    with httpx.Client(base_url=hub.endpoint, headers={"Authorization": f"Bearer {user.token}"}) as http:
        for url in (f"/api/models/{repo_a}/revision/{prefix}", f"/api/models/{repo_a}/tree/{prefix}",
                    f"/{repo_a}/resolve/{prefix}/.gitattributes", f"/api/models/{repo_a}/commits/{prefix}"):
            resp = http.get(url)
            assert resp.status_code == 400 and resp.headers["x-error-code"] == "AmbiguousRevision", (url, resp.text)
            assert c1 not in resp.text and c2 not in resp.text and repo_b not in resp.text
        resp = http.post(f"/api/models/{repo_a}/branch/x", json={"startingPoint": prefix})
        assert resp.status_code == 400 and resp.headers["x-error-code"] == "AmbiguousRevision", resp.text
    try:
        api.revision_exists(repo_a, prefix)
        raise AssertionError("an ambiguous prefix must not read as a revision")
    except HfHubHTTPError as exc:
        assert exc.response.status_code == 400
    # One more digit tells them apart.
    longer = next(n for n in range(8, 41) if c1[:n] != c2[:n])
    assert api.repo_info(repo_a, revision=c1[:longer]).sha == c1
    assert api.repo_info(repo_a, revision=c2[:longer]).sha == c2

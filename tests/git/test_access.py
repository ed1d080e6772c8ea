"""Who may clone and push: anonymous, token holders, other users; and bad input answered with 4xx."""
from __future__ import annotations

import gzip

import httpx
import pytest

from tests.git.gitutil import git, out


def info_refs(hub, repo_id, service="git-upload-pack", user=None, token=None, repo_type="model"):
    auth = (user.name, token or user.token) if user else None
    prefix = "" if repo_type == "model" else f"{repo_type}s/"
    return httpx.get(f"{hub.endpoint}/{prefix}{repo_id}.git/info/refs", params={"service": service},
                     auth=auth, timeout=30)


def test_anonymous_private_and_missing_look_the_same(hub, user):
    private = hub.new_repo(user, private=True)
    missing = f"{user.name}/does-not-exist"
    for repo_id in (private, missing):
        resp = info_refs(hub, repo_id)
        assert resp.status_code == 401
        assert resp.headers["www-authenticate"] == 'Basic realm="Hangar"'
        assert resp.headers["x-error-code"] == "RepoNotFound"


def test_private_repo_clone_with_token(hub, user, other_user, tmp_path):
    repo_id = hub.new_repo(user, private=True)
    hub.api(user).upload_file(path_or_fileobj=b"secret\n", path_in_repo="secret.txt", repo_id=repo_id)
    anon = git("clone", hub.url(repo_id), str(tmp_path / "anon"), check=False)
    assert anon.returncode != 0 and not (tmp_path / "anon" / "secret.txt").exists()
    work = tmp_path / "mine"
    git("clone", hub.url(repo_id, user=user), str(work))
    assert (work / "secret.txt").read_text() == "secret\n"
    git("fsck", "--full", cwd=work)
    assert info_refs(hub, repo_id, user=other_user).status_code == 404
    assert info_refs(hub, repo_id, user=user, token="hf_not_a_real_token").status_code == 401


def test_push_needs_credentials_and_write(hub, user, other_user, tmp_path):
    repo_id = hub.new_repo(user)
    resp = info_refs(hub, repo_id, "git-receive-pack")
    assert resp.status_code == 401 and "www-authenticate" in resp.headers
    # a signed-in non-member may push to pull requests of their own (tests/prs/test_git_pr_refs.py),
    # so the advertisement is theirs; every push to a branch is refused below
    assert info_refs(hub, repo_id, "git-receive-pack", user=other_user).status_code == 200
    assert info_refs(hub, repo_id, "git-receive-pack", user=user, token=user.read_token).status_code == 403
    assert info_refs(hub, repo_id, "git-receive-pack", user=user).status_code == 200
    work = tmp_path / "w"
    git("clone", hub.url(repo_id), str(work))
    (work / "x.txt").write_text("x")
    git("add", "x.txt", cwd=work)
    git("commit", "-q", "-m", "x", cwd=work)
    before = hub.api(user).repo_info(repo_id).sha
    denied = git("push", hub.url(repo_id, user=other_user), "main", cwd=work, check=False)
    assert denied.returncode != 0 and "your own pull requests" in denied.stderr.decode() + denied.stdout.decode()
    assert hub.api(user).repo_info(repo_id).sha == before
    git("push", hub.url(repo_id, user=user), "main", cwd=work)
    assert hub.api(user).repo_info(repo_id).sha == out("rev-parse", "HEAD", cwd=work)


@pytest.mark.parametrize("body,headers", [
    (b"zzzz", {}),
    (b"0032want 0123456789012345678901234567890123456789\n", {"Content-Encoding": "gzip"}),
    (gzip.compress(b"0009want\n0000"), {"Content-Encoding": "gzip"}),
], ids=["bad-pkt-length", "not-gzip", "bad-want"])
def test_bad_upload_pack_requests_are_4xx_or_err(hub, user, body, headers):
    repo_id = hub.new_repo(user)
    resp = httpx.post(f"{hub.endpoint}/{repo_id}.git/git-upload-pack", content=body, timeout=30,
                      headers={"Content-Type": "application/x-git-upload-pack-request", **headers})
    if resp.status_code == 200:
        assert resp.content[4:8] == b"ERR "            # git shows it as "remote error: ..."
    else:
        assert 400 <= resp.status_code < 500 and resp.headers["x-error-code"]


def test_dumb_http_is_refused(hub, user):
    repo_id = hub.new_repo(user)
    resp = httpx.get(f"{hub.endpoint}/{repo_id}.git/info/refs", timeout=30)
    assert resp.status_code == 403 and resp.headers["x-error-code"] == "DumbHttpNotSupported"


def _receive_pack(hub, repo_id, user, body):
    return httpx.post(f"{hub.endpoint}/{repo_id}.git/git-receive-pack", content=body, timeout=60,
                      auth=(user.name, user.token),
                      headers={"Content-Type": "application/x-git-receive-pack-request"})


def test_corrupt_push_is_reported_and_applies_nothing(hub, user):
    repo_id = hub.new_repo(user)
    tip = hub.api(user).repo_info(repo_id).sha
    command = f"{tip} {'1' * 40} refs/heads/main\0report-status side-band-64k\n"
    line = b"%04x" % (len(command) + 4) + command.encode()
    resp = _receive_pack(hub, repo_id, user, line + b"0000" + b"PACK\0\0\0\2\0\0\0\1garbage-not-a-pack")
    assert resp.status_code == 200
    assert b"unpack " in resp.content and b"ng refs/heads/main" in resp.content
    assert hub.api(user).repo_info(repo_id).sha == tip
    bad = _receive_pack(hub, repo_id, user, b"0020not a command at all......\n0000")
    assert bad.status_code == 400 and bad.headers["x-error-code"]
    assert hub.api(user).repo_info(repo_id).sha == tip


def test_gated_repo_needs_accepted_access(hub, user, other_user, tmp_path):
    repo_id = hub.new_repo(user)
    hub.api(user).update_repo_settings(repo_id, gated="auto")
    anon = info_refs(hub, repo_id)
    assert anon.status_code == 401 and anon.headers["www-authenticate"] == 'Basic realm="Hangar"'
    assert info_refs(hub, repo_id, user=other_user).status_code == 403
    work = tmp_path / "owner"
    git("clone", hub.url(repo_id, user=user), str(work))
    assert (work / ".gitattributes").exists()

"""The authorization matrix of issue 5's acceptance: who (anonymous, owner, other user, the owner's
read token, a freshly minted write token of the owner, organization member, organization admin) x
which repo (public, private, gated) x what (REST info, listing, tree, resolve, commit, LFS batch
download and upload, git clone and push), each cell asserting its expected outcome on the real hub
with real clients (httpx for REST, huggingface_hub, git).

Owner, other user, read token and write token act on repos in the owner's user namespace; the
organization member and admin act on the same three kinds of repos in an organization.

Expected outcomes (docs/clients.md, issue 5):
- a private repo looks missing to whoever may not see it: RepoNotFound, 401 when anonymous (with
  WWW-Authenticate on git/LFS paths), 404 when signed in; it is absent from listings;
- a gated repo's metadata is visible to everyone; downloads (resolve, LFS download, clone) need
  ownership, membership or an accepted request: 403 GatedRepo otherwise (401 for anonymous git/LFS);
- writes (commit, LFS upload, push) need the owner or an org member/admin, never a read token:
  401 when anonymous, 403 when signed in without the right.
"""
from __future__ import annotations

import hashlib
import os
import subprocess
import uuid
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urlsplit

import httpx
import pytest
from huggingface_hub import CommitOperationAdd, HfApi
from huggingface_hub.errors import HfHubHTTPError

SUBJECTS = ("anonymous", "owner", "other_user", "read_token", "write_token", "org_member", "org_admin")
VISIBILITIES = ("public", "private", "gated")
ACTIONS = ("info", "listing", "tree", "resolve", "commit", "lfs_download", "lfs_upload", "git_clone", "git_push")
WEIGHTS = b"matrix weights " * 64
OWNERS = {"owner", "read_token", "write_token", "org_member", "org_admin"}   # may see private repos
WRITERS = {"owner", "write_token", "org_member", "org_admin"}


def expected(subject: str, visibility: str, action: str) -> str:
    """ok | hidden (RepoNotFound) | gated | unauthorized | forbidden."""
    if visibility == "private" and subject not in OWNERS:
        return "hidden"
    if action in ("resolve", "lfs_download", "git_clone"):
        return "gated" if visibility == "gated" and subject not in OWNERS else "ok"
    if action in ("commit", "lfs_upload", "git_push"):
        if subject in WRITERS:
            return "ok"
        if action == "lfs_upload" and subject == "other_user" and visibility == "public":
            return "ok"  # the contributor right: uploads that can only feed their own pull request
        return "unauthorized" if subject == "anonymous" else "forbidden"
    return "ok"


@dataclass
class World:
    endpoint: str
    tokens: dict          # subject -> token or None
    repos: dict           # (subject, visibility) -> repo id
    owner_token: dict     # repo id -> a token allowed to write it (to set things up)
    workdir: Path


@pytest.fixture(scope="module")
def world(make_user, make_org, endpoint, tmp_path_factory) -> World:
    owner, other, member, admin = make_user(), make_user(), make_user(), make_user()
    org = make_org(owner, members={member: "member", admin: "admin"})
    minted = httpx.post(f"{endpoint}/api/auth/tokens/create", json={"name": "minted", "role": "write"},
                        headers={"Authorization": f"Bearer {owner.token}"}).json()["token"]
    tokens = {"anonymous": None, "owner": owner.token, "other_user": other.token, "read_token": owner.read_token,
              "write_token": minted, "org_member": member.token, "org_admin": admin.token}
    api = HfApi(endpoint=endpoint, token=owner.token)
    repos, owner_token = {}, {}
    for namespace, subjects in ((owner.name, SUBJECTS[:5]), (org.name, SUBJECTS[5:])):
        for visibility in VISIBILITIES:
            repo_id = f"{namespace}/matrix-{visibility}-{uuid.uuid4().hex[:6]}"
            api.create_repo(repo_id, private=visibility == "private")
            api.create_commit(repo_id, operations=[
                CommitOperationAdd("file.txt", b"hello"), CommitOperationAdd("weights.bin", WEIGHTS)],
                commit_message="matrix fixture")
            if visibility == "gated":
                api.update_repo_settings(repo_id, gated="manual")
            owner_token[repo_id] = owner.token
            for subject in subjects:
                repos[(subject, visibility)] = repo_id
    return World(endpoint, tokens, repos, owner_token, tmp_path_factory.mktemp("matrix"))


def headers(token):
    return {"Authorization": f"Bearer {token}"} if token else {}


def git_url(world: World, repo_id: str, token: str | None) -> str:
    parts = urlsplit(world.endpoint)
    creds = f"user:{quote(token, safe='')}@" if token else ""
    return f"{parts.scheme}://{creds}{parts.netloc}/{repo_id}.git"


def git(*args, cwd=None):
    env = {**os.environ, "GIT_TERMINAL_PROMPT": "0", "GIT_LFS_SKIP_SMUDGE": "1", "GIT_ASKPASS": "/bin/false"}
    return subprocess.run(["git", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=180)


# --- how each action is performed; each returns an Outcome -----------------------------------------

@dataclass
class Outcome:
    status: int           # HTTP status, or 0 for success of a git command / -1 for its failure
    code: str = ""        # X-Error-Code (REST/LFS)
    detail: str = ""


def from_response(resp: httpx.Response) -> Outcome:
    return Outcome(resp.status_code, resp.headers.get("X-Error-Code", ""), resp.text[:300])


def do_info(world, repo_id, token):
    return from_response(httpx.get(f"{world.endpoint}/api/models/{repo_id}", headers=headers(token)))


def do_tree(world, repo_id, token):
    return from_response(httpx.get(f"{world.endpoint}/api/models/{repo_id}/tree/main", headers=headers(token)))


def do_resolve(world, repo_id, token):
    resp = httpx.get(f"{world.endpoint}/{repo_id}/resolve/main/file.txt", headers=headers(token))
    outcome = from_response(resp)
    if resp.status_code == 200 and resp.content != b"hello":
        outcome.status = -2
    return outcome


def do_listing(world, repo_id, token):
    namespace = repo_id.split("/")[0]
    ids = [m.id for m in HfApi(endpoint=world.endpoint, token=token or False).list_models(author=namespace)]
    return Outcome(200 if repo_id in ids else 404, "" if repo_id in ids else "RepoNotFound", str(ids))


def do_commit(world, repo_id, token):
    try:
        HfApi(endpoint=world.endpoint, token=token or False).upload_file(
            path_or_fileobj=uuid.uuid4().hex.encode(), path_in_repo=f"commit-{uuid.uuid4().hex[:6]}.txt",
            repo_id=repo_id)
    except HfHubHTTPError as exc:
        return from_response_like(exc.response)
    return Outcome(200)


def from_response_like(resp) -> Outcome:
    return Outcome(resp.status_code, resp.headers.get("X-Error-Code", ""), resp.text[:300])


def lfs_batch(world, repo_id, token, operation: str, oid: str, size: int):
    basic = __import__("base64").b64encode(f"user:{token}".encode()).decode()
    auth = {"Authorization": "Basic " + basic} if token else {}
    return httpx.post(f"{world.endpoint}/{repo_id}.git/info/lfs/objects/batch",
                      json={"operation": operation, "transfers": ["basic"], "objects": [{"oid": oid, "size": size}]},
                      headers={"Accept": "application/vnd.git-lfs+json",
                               "Content-Type": "application/vnd.git-lfs+json", **auth})


def do_lfs_download(world, repo_id, token):
    resp = lfs_batch(world, repo_id, token, "download", hashlib.sha256(WEIGHTS).hexdigest(), len(WEIGHTS))
    outcome = from_response(resp)
    if resp.status_code == 200 and "download" not in resp.json()["objects"][0].get("actions", {}):
        outcome.status = -2
    return outcome


def do_lfs_upload(world, repo_id, token):
    data = uuid.uuid4().bytes * 8
    return from_response(lfs_batch(world, repo_id, token, "upload", hashlib.sha256(data).hexdigest(), len(data)))


def do_git_clone(world, repo_id, token):
    target = world.workdir / f"clone-{uuid.uuid4().hex[:8]}"
    done = git("clone", "--quiet", git_url(world, repo_id, token), str(target))
    if done.returncode != 0:
        return Outcome(-1, detail=done.stderr[-300:])
    return Outcome(0 if (target / "file.txt").read_bytes() == b"hello" else -2)


def do_git_push(world, repo_id, token):
    # Start from the current tip (cloned with a token allowed to write), then push as the subject.
    work = world.workdir / f"push-{uuid.uuid4().hex[:8]}"
    done = git("clone", "--quiet", git_url(world, repo_id, world.owner_token[repo_id]), str(work))
    assert done.returncode == 0, done.stderr
    git("-c", "user.name=m", "-c", "user.email=m@x.test", "commit", "--quiet", "--allow-empty", "-m", "push", cwd=work)
    tip = git("rev-parse", "HEAD", cwd=work).stdout.strip()
    done = git("push", "--quiet", git_url(world, repo_id, token), "HEAD:refs/heads/main", cwd=work)
    if done.returncode != 0:
        return Outcome(-1, detail=done.stderr[-300:])
    remote = git("ls-remote", git_url(world, repo_id, world.owner_token[repo_id]), "refs/heads/main").stdout
    return Outcome(0 if remote.startswith(tip) else -2)


PERFORM = {"info": do_info, "listing": do_listing, "tree": do_tree, "resolve": do_resolve, "commit": do_commit,
           "lfs_download": do_lfs_download, "lfs_upload": do_lfs_upload, "git_clone": do_git_clone,
           "git_push": do_git_push}


def check(outcome: Outcome, expectation: str, *, anonymous: bool, channel: str) -> None:
    """Assert the outcome means `expectation` on this channel (rest, listing, lfs, git)."""
    if channel == "git":  # git reports only success or failure (and that a success really landed)
        assert (outcome.status == 0) == (expectation == "ok"), outcome
        return
    if expectation == "ok":
        assert outcome.status == 200, outcome
    elif expectation == "hidden":
        assert (outcome.status, outcome.code) == (401 if anonymous else 404, "RepoNotFound"), outcome
    elif expectation == "gated":
        if anonymous and channel == "lfs":  # git-lfs sends credentials only after a 401
            assert outcome.status == 401, outcome
        else:
            assert (outcome.status, outcome.code) == (403, "GatedRepo"), outcome
    elif expectation == "unauthorized":
        assert outcome.status == 401, outcome
        if channel == "rest":  # the repo is visible: ask for credentials, do not pretend it is missing
            assert outcome.code == "Unauthorized", outcome
    else:
        assert outcome.status == 403, outcome


CHANNEL = {"lfs_download": "lfs", "lfs_upload": "lfs", "git_clone": "git", "git_push": "git", "listing": "listing"}


def cells():
    for subject in SUBJECTS:
        for visibility in VISIBILITIES:
            for action in ACTIONS:
                yield pytest.param(subject, visibility, action, id=f"{subject}-{visibility}-{action}")


@pytest.mark.parametrize("subject, visibility, action", list(cells()))
def test_cell(world, subject, visibility, action):
    repo_id = world.repos[(subject, visibility)]
    expectation = expected(subject, visibility, action)
    outcome = PERFORM[action](world, repo_id, world.tokens[subject])
    channel = CHANNEL.get(action, "rest")
    if channel == "listing":
        assert (outcome.status == 200) == (expectation != "hidden"), outcome
        return
    check(outcome, expectation, anonymous=subject == "anonymous", channel=channel)

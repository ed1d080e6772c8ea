"""Imports (issue 18, "mirrors you own"): an upstream repository copied into a local namespace as an
ordinary repository with the upstream's own commit, tree and blob ids and verified LFS content;
syncs that bring new upstream commits and report diverged branches; resume after the mirror is
killed mid-import; nothing visible after a failure; visibility never widened; path rules enforced.

The upstream is the second Hangar stack behind the FaultProxy (tests/mirror/conftest.py); one repo
is served by git itself (git http-backend) to hold a tree no Hangar would accept."""
from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx
import pytest
from huggingface_hub import HfApi, hf_hub_download

from .conftest import Upstream

DONE = ("done", "failed")


def _auth(user) -> dict:
    return {"Authorization": f"Bearer {user.token}"}


def _start(endpoint: str, user, **body) -> httpx.Response:
    return httpx.post(f"{endpoint}/api/imports", json=body, headers=_auth(user) if user else {}, timeout=60)


def _status(endpoint: str, user, import_id: str) -> dict:
    resp = httpx.get(f"{endpoint}/api/imports/{import_id}", headers=_auth(user), timeout=60)
    assert resp.status_code == 200, resp.text
    return resp.json()


def _wait(endpoint: str, user, import_id: str, until=lambda s: s["state"] in DONE, limit: float = 300) -> dict:
    deadline = time.monotonic() + limit
    while True:
        try:
            status = _status(endpoint, user, import_id)
        except (AssertionError, httpx.HTTPError):
            status = None   # the mirror is being restarted
        if status is not None and until(status):
            return status
        assert time.monotonic() < deadline, status
        time.sleep(0.5)


def _import(endpoint: str, user, **body) -> dict:
    resp = _start(endpoint, user, **body)
    assert resp.status_code == 202, resp.text
    return _wait(endpoint, user, resp.json()["id"])


def _source(upstream: Upstream, tmp_path, files: dict[str, bytes], *, prefix: str = "src") -> str:
    repo = f"{upstream.owner.name}/{prefix}-{uuid.uuid4().hex[:6]}"
    upstream.api.create_repo(repo)
    folder = tmp_path / repo.replace("/", "_")
    for path, data in files.items():
        (folder / path).parent.mkdir(parents=True, exist_ok=True)
        (folder / path).write_bytes(data)
    upstream.api.upload_folder(folder_path=str(folder), repo_id=repo, commit_message="source files")
    return repo


def _git(*args, cwd=None) -> str:
    env = {**os.environ, "GIT_LFS_SKIP_SMUDGE": "1", "GIT_TERMINAL_PROMPT": "0"}
    return subprocess.run(["git", *args], cwd=cwd, env=env, check=True, capture_output=True, text=True,
                          timeout=300).stdout


def _refs(api: HfApi, repo: str) -> tuple[set, set]:
    refs = api.list_repo_refs(repo)
    return {(b.name, b.target_commit) for b in refs.branches}, {(t.name, t.target_commit) for t in refs.tags}


def _history(api: HfApi, repo: str, revision: str) -> list[tuple]:
    return [(c.commit_id, c.title, c.authors) for c in api.list_repo_commits(repo, revision=revision)]


def _tree(api: HfApi, repo: str, revision: str | None = None) -> list[tuple]:
    return sorted((e.path, getattr(e, "blob_id", None) or getattr(e, "tree_id", None),
                   getattr(getattr(e, "lfs", None), "sha256", None))
                  for e in api.list_repo_tree(repo, recursive=True, revision=revision))


def test_import_keeps_the_upstreams_ids_and_lfs_content(endpoint, make_user, upstream: Upstream, tmp_path):
    user = make_user()
    api = HfApi(endpoint=endpoint, token=user.token)
    target = f"{user.name}/imported-{uuid.uuid4().hex[:6]}"
    status = _import(endpoint, user, source=upstream.public, repo=target)
    assert status["state"] == "done", status
    assert status["source"] == {"type": "model", "id": upstream.public} and status["repo"]["id"] == target
    lfs = {p: o for p, o in upstream.lfs_oids.items() if not p.startswith("faults/")}
    assert status["progress"]["objectsTotal"] == status["progress"]["objectsDone"] == len(lfs)
    assert status["progress"]["bytesDone"] == status["progress"]["bytesTotal"] > 5 * 1024 * 1024
    assert status["progress"]["gitBytes"] > 0 and status["diverged"] == []

    assert _refs(api, target) == _refs(upstream.api, upstream.public)
    for revision in ("main", "dev", "v1"):
        assert _history(api, target, revision) == _history(upstream.api, upstream.public, revision)
        assert _tree(api, target, revision) == _tree(upstream.api, upstream.public, revision)
    info = api.repo_info(target)
    assert info.sha == upstream.api.repo_info(upstream.public).sha and not info.private

    clones = {}
    for name, base, repo in (("local", endpoint, target), ("upstream", upstream.endpoint, upstream.public)):
        _git("clone", "-q", f"{base}/{repo}", str(tmp_path / name))
        clones[name] = (_git("log", "--all", "--format=%H %T %P %an <%ae> %at %s", cwd=tmp_path / name),
                        _git("for-each-ref", "--format=%(refname) %(objectname) %(objecttype)", cwd=tmp_path / name),
                        _git("cat-file", "-p", "v1", cwd=tmp_path / name))
    assert clones["local"] == clones["upstream"]

    for path, oid in lfs.items():
        got = hf_hub_download(target, path, endpoint=endpoint, token=user.token, cache_dir=tmp_path / "dl")
        assert hashlib.sha256(Path(got).read_bytes()).hexdigest() == oid, path
    # An ordinary repository: its owner writes to it.
    api.upload_file(path_or_fileobj=b"local addition\n", path_in_repo="LOCAL.md", repo_id=target)
    assert api.list_repo_commits(target)[0].title != upstream.api.list_repo_commits(upstream.public)[0].title


def test_xet_uploaded_upstream_content_imports_and_downloads_with_xet_on_and_off(endpoint, make_user,
                                                                                 upstream: Upstream, tmp_path):
    """An upstream file uploaded through Xet imports as a verified LFS object; the suite's
    huggingface_hub downloads it with Xet off (in process) and on (a subprocess, its default)."""
    repo = f"{upstream.owner.name}/xet-{uuid.uuid4().hex[:6]}"
    upstream.api.create_repo(repo)
    data = os.urandom(2 * 1024 * 1024 + 3)
    (tmp_path / "xet.bin").write_bytes(data)
    script = ("import sys; from huggingface_hub import HfApi; HfApi(endpoint=sys.argv[1], token=sys.argv[2])"
              ".upload_file(path_or_fileobj=sys.argv[3], path_in_repo='xet.bin', repo_id=sys.argv[4])")
    env = {**os.environ, "HF_HUB_DISABLE_XET": "0", "HF_HOME": str(tmp_path / "hf")}
    subprocess.run([sys.executable, "-c", script, upstream.endpoint, upstream.owner.token, str(tmp_path / "xet.bin"),
                    repo], env=env, check=True, capture_output=True, timeout=300)
    assert upstream.api.get_paths_info(repo, ["xet.bin"], expand=True)[0].xet_hash   # really uploaded via Xet
    user = make_user()
    target = f"{user.name}/xet-import-{uuid.uuid4().hex[:6]}"
    assert _import(endpoint, user, source=repo, repo=target)["state"] == "done"
    oid = hashlib.sha256(data).hexdigest()
    got = hf_hub_download(target, "xet.bin", endpoint=endpoint, token=user.token, cache_dir=tmp_path / "off")
    assert hashlib.sha256(Path(got).read_bytes()).hexdigest() == oid
    fetch = ("import sys, hashlib; from huggingface_hub import hf_hub_download; p = hf_hub_download(sys.argv[1], "
             "'xet.bin', endpoint=sys.argv[2], token=sys.argv[3]); "
             "print(hashlib.sha256(open(p,'rb').read()).hexdigest())")
    run = subprocess.run([sys.executable, "-c", fetch, target, endpoint, user.token], env=env, check=True,
                         capture_output=True, text=True, timeout=300)
    assert run.stdout.strip() == oid


def test_import_of_listed_revisions_only(endpoint, make_user, upstream: Upstream):
    user = make_user()
    api = HfApi(endpoint=endpoint, token=user.token)
    target = f"{user.name}/dev-only-{uuid.uuid4().hex[:6]}"
    status = _import(endpoint, user, source=upstream.public, repo=target, revisions=["dev"])
    assert status["state"] == "done" and status["revisions"] == ["dev"], status
    dev = upstream.api.repo_info(upstream.public, revision="dev").sha
    assert _refs(api, target) == ({("dev", dev)}, set())
    assert api.repo_info(target).sha == dev    # the default branch is the one imported
    assert _history(api, target, "dev") == _history(upstream.api, upstream.public, "dev")


def test_sync_brings_new_commits_and_reports_diverged_branches(endpoint, make_user, upstream: Upstream, tmp_path):
    src = _source(upstream, tmp_path, {"a.txt": b"one\n", "w.bin": os.urandom(1024 * 1024)})
    upstream.api.create_branch(src, branch="side")
    user = make_user()
    api = HfApi(endpoint=endpoint, token=user.token)
    target = f"{user.name}/synced-{uuid.uuid4().hex[:6]}"
    first = _import(endpoint, user, source=src, repo=target)
    assert first["state"] == "done", first

    new_weights = os.urandom(1024 * 1024 + 9)
    upstream.api.upload_file(path_or_fileobj=new_weights, path_in_repo="w2.bin", repo_id=src, commit_message="up 2")
    upstream.api.upload_file(path_or_fileobj=b"upstream side\n", path_in_repo="s.txt", repo_id=src, revision="side")
    upstream.api.create_tag(src, tag="v2")
    upstream.api.create_branch(src, branch="fresh")
    api.upload_file(path_or_fileobj=b"local side\n", path_in_repo="local.txt", repo_id=target, revision="side",
                    commit_message="local work")
    local_side = api.repo_info(target, revision="side").sha
    assert _history(api, target, "main") != _history(upstream.api, src, "main")   # nothing moves by itself

    resp = httpx.post(f"{endpoint}/api/imports/{first['id']}/sync", headers=_auth(user), timeout=60)
    assert resp.status_code == 202, resp.text
    status = _wait(endpoint, user, first["id"])
    assert status["state"] == "done" and status["kind"] == "sync", status
    assert _history(api, target, "main") == _history(upstream.api, src, "main")
    assert _history(api, target, "fresh") == _history(upstream.api, src, "fresh")
    assert ("v2", upstream.api.repo_info(src).sha) in _refs(api, target)[1]
    assert {u["ref"] for u in status["updated"]} == {"refs/heads/main", "refs/tags/v2", "refs/heads/fresh"}
    assert api.repo_info(target, revision="side").sha == local_side      # not overwritten
    [diverged] = status["diverged"]
    assert diverged["ref"] == "refs/heads/side" and diverged["local"] == local_side
    assert diverged["upstream"] == upstream.api.repo_info(src, revision="side").sha and diverged["reason"]
    got = hf_hub_download(target, "w2.bin", endpoint=endpoint, token=user.token, cache_dir=tmp_path / "dl")
    assert Path(got).read_bytes() == new_weights
    assert status["progress"]["objectsDone"] == status["progress"]["objectsTotal"] == 1

    # Nothing new upstream: the next sync moves nothing and still reports the diverged branch.
    httpx.post(f"{endpoint}/api/imports/{first['id']}/sync", headers=_auth(user), timeout=60).raise_for_status()
    again = _wait(endpoint, user, first["id"],
                  until=lambda s: s["state"] in DONE and s["syncedAt"] != status["syncedAt"])
    assert again["state"] == "done" and again["updated"] == []
    assert [d["ref"] for d in again["diverged"]] == ["refs/heads/side"]


def _mirror_pid(stack) -> int:
    return next(r for r in stack.records if r["name"] == "mirror")["pid"]


def test_an_import_interrupted_by_killing_the_mirror_resumes(stack, endpoint, make_user, upstream: Upstream,
                                                            tmp_path):
    files = {f"part{i}.bin": os.urandom(1024 * 1024 + i) for i in range(3)}
    src = _source(upstream, tmp_path, files)
    oids = {p: hashlib.sha256(d).hexdigest() for p, d in files.items()}
    held = oids["part1.bin"]
    upstream.proxy.release.clear()
    upstream.proxy.object_faults[held] = "hold"
    user = make_user()
    target = f"{user.name}/resumed-{uuid.uuid4().hex[:6]}"
    try:
        resp = _start(endpoint, user, source=src, repo=target)
        assert resp.status_code == 202, resp.text
        import_id = resp.json()["id"]
        mid = _wait(endpoint, user, import_id, until=lambda s: s["progress"]["objectsDone"] == 2 or s["state"] in DONE)
        assert mid["state"] == "downloading" and mid["progress"]["objectsTotal"] == 3, mid
        assert upstream.proxy.count(f"object:{held}") == 1
        repo = httpx.get(f"{endpoint}/api/models/{target}", headers=_auth(user), timeout=60)
        assert repo.status_code == 404 and repo.headers["x-error-code"] == "RepoNotFound"   # nothing half-made

        os.killpg(_mirror_pid(stack), signal.SIGKILL)
        upstream.proxy.object_faults.pop(held)
        upstream.proxy.release.set()
        stack.start_service("mirror")
        status = _wait(endpoint, user, import_id)
    finally:
        upstream.proxy.object_faults.pop(held, None)
        upstream.proxy.release.set()
    assert status["state"] == "done", status
    assert upstream.proxy.count(f"path:/{src}/info/refs") == 1     # one git fetch: the stored pack was kept
    for path, oid in oids.items():
        assert upstream.proxy.count(f"object:{oid}") == (2 if oid == held else 1), path
    api = HfApi(endpoint=endpoint, token=user.token)
    assert _history(api, target, "main") == _history(upstream.api, src, "main")
    for path, oid in oids.items():
        got = hf_hub_download(target, path, endpoint=endpoint, token=user.token, cache_dir=tmp_path / "dl")
        assert hashlib.sha256(Path(got).read_bytes()).hexdigest() == oid


def test_a_failed_import_leaves_nothing_and_its_retry_completes(endpoint, make_user, upstream: Upstream, tmp_path):
    data = os.urandom(1024 * 1024 + 1)
    src = _source(upstream, tmp_path, {"bad.bin": data, "ok.txt": b"fine\n"})
    oid = hashlib.sha256(data).hexdigest()
    user = make_user()
    target = f"{user.name}/failing-{uuid.uuid4().hex[:6]}"
    upstream.proxy.object_faults[oid] = "wrong"
    try:
        status = _import(endpoint, user, source=src, repo=target)
    finally:
        upstream.proxy.object_faults.pop(oid, None)
    assert status["state"] == "failed" and status["error"]["code"] == "UpstreamMismatch", status
    assert oid in status["error"]["message"]
    repo = httpx.get(f"{endpoint}/api/models/{target}", headers=_auth(user), timeout=60)
    assert repo.status_code == 404 and repo.headers["x-error-code"] == "RepoNotFound"

    resp = httpx.post(f"{endpoint}/api/imports/{status['id']}/sync", headers=_auth(user), timeout=60)
    assert resp.status_code == 202, resp.text
    retried = _wait(endpoint, user, status["id"])
    assert retried["state"] == "done" and retried["kind"] == "import" and retried["error"] is None, retried
    got = hf_hub_download(target, "bad.bin", endpoint=endpoint, token=user.token, cache_dir=tmp_path / "dl")
    assert Path(got).read_bytes() == data


def _foreign_repo(upstream: Upstream, tmp_path) -> str:
    """A repository served by git itself whose tree holds a `.git` alias and a link out of the tree."""
    repo = f"{upstream.owner.name}/foreign-{uuid.uuid4().hex[:6]}"
    bare = Path(upstream.proxy.git_root) / repo
    bare.parent.mkdir(parents=True, exist_ok=True)
    _git("init", "-q", "--bare", "-b", "main", str(bare))
    env = {**os.environ, "GIT_DIR": str(bare), "GIT_AUTHOR_NAME": "up", "GIT_AUTHOR_EMAIL": "up@example.test",
           "GIT_COMMITTER_NAME": "up", "GIT_COMMITTER_EMAIL": "up@example.test"}

    def git(*args, data: bytes | None = None) -> str:
        return subprocess.run(["git", *args], env=env, input=data, check=True, capture_output=True,
                              timeout=60).stdout.decode().strip()
    readme = git("hash-object", "-w", "--stdin", data=b"hello\n")
    link = git("hash-object", "-w", "--stdin", data=b"../../../etc/passwd")
    inner = git("mktree", data=f"100644 blob {readme}\tconfig\n".encode())
    tree = git("mktree", "--missing", data=(f"040000 tree {inner}\t.GIT\n100644 blob {readme}\tREADME.md\n"
                                            f"120000 blob {link}\tescape\n").encode())
    commit = git("commit-tree", tree, "-m", "a tree Hangar refuses", data=b"")
    git("update-ref", "refs/heads/main", commit)
    upstream.proxy.foreign[repo] = commit
    return repo


def test_an_upstream_tree_breaking_path_rules_is_refused_naming_the_paths(endpoint, make_user, upstream: Upstream,
                                                                        tmp_path):
    src = _foreign_repo(upstream, tmp_path)
    user = make_user()
    target = f"{user.name}/refused-{uuid.uuid4().hex[:6]}"
    status = _import(endpoint, user, source=src, repo=target)
    assert status["state"] == "failed" and status["error"]["code"] == "ImportRefused", status
    assert ".GIT" in status["error"]["message"] and "escape" in status["error"]["message"]
    repo = httpx.get(f"{endpoint}/api/models/{target}", headers=_auth(user), timeout=60)
    assert repo.status_code == 404 and repo.headers["x-error-code"] == "RepoNotFound"


def test_private_and_gated_upstream_repos_import_as_private(endpoint, make_user, upstream: Upstream):
    """With the admin-configured token allowed for them; never wider unless the owner says so."""
    user = make_user()
    api = HfApi(endpoint=endpoint, token=user.token)
    for source, gated in ((upstream.private, False), (upstream.gated, "auto")):
        target = f"{user.name}/closed-{uuid.uuid4().hex[:6]}"
        status = _import(endpoint, user, source=source, repo=target)
        assert status["state"] == "done" and status["private"], status
        info = api.repo_info(target)
        assert info.private and info.sha == upstream.api.repo_info(source).sha and info.gated == gated
        anonymous = httpx.get(f"{endpoint}/api/models/{target}", timeout=60)
        assert anonymous.status_code == 401 and anonymous.headers["x-error-code"] == "RepoNotFound"
    target = f"{user.name}/gated-public-{uuid.uuid4().hex[:6]}"
    status = _import(endpoint, user, source=upstream.gated, repo=target, private=False)
    assert status["state"] == "done" and not status["private"]
    info = api.repo_info(target)
    assert not info.private and info.gated == "auto"     # the gate stays
    gate = httpx.get(f"{endpoint}/{target}/resolve/main/.gitattributes", headers=_auth(make_user()), timeout=60)
    assert gate.status_code == 403 and gate.headers["x-error-code"] == "GatedRepo"


def test_who_may_import_and_bad_input(endpoint, make_user, make_org, upstream: Upstream):
    owner, stranger = make_user(), make_user()
    assert _start(endpoint, None, source=upstream.public, repo=f"{owner.name}/x").status_code == 401
    denied = _start(endpoint, stranger, source=upstream.public, repo=f"{owner.name}/x")
    assert denied.status_code == 403 and denied.headers.get("x-error-code")
    member = make_user()
    org = make_org(owner, members={member: "write"})
    refused = _start(endpoint, member, source=upstream.public, repo=f"{org.name}/x")   # writers don't import
    assert refused.status_code == 403
    for body, code in (({}, 400), ({"source": "no-namespace"}, 400),
                       ({"source": upstream.public, "revisions": []}, 400),
                       ({"source": upstream.public, "revisions": "dev"}, 400),
                       ({"source": upstream.public, "private": "yes"}, 400),
                       ({"source": upstream.public, "type": "widget"}, 400),
                       ({"source": f"{upstream.owner.name}/does-not-exist"}, 404),
                       ({"source": upstream.public, "revisions": ["nope"]}, 404)):
        resp = _start(endpoint, owner, repo=f"{owner.name}/bad-{uuid.uuid4().hex[:6]}", **body)
        assert resp.status_code == code and resp.headers.get("x-error-code"), (body, resp.status_code, resp.text)
    HfApi(endpoint=endpoint, token=owner.token).create_repo(f"{owner.name}/taken")
    exists = _start(endpoint, owner, source=upstream.public, repo=f"{owner.name}/taken")
    assert exists.status_code == 409 and exists.headers["x-error-code"] == "RepoExists"

    started = _start(endpoint, owner, source=upstream.public, revisions=["main"])   # default: caller's namespace
    assert started.status_code == 202
    assert started.json()["repo"]["id"] == f"{owner.name}/{upstream.public.split('/')[1]}"
    hidden = httpx.get(f"{endpoint}/api/imports/{started.json()['id']}", headers=_auth(stranger), timeout=60)
    assert hidden.status_code == 404 and hidden.headers["x-error-code"] == "ImportNotFound"
    sync = httpx.post(f"{endpoint}/api/imports/{started.json()['id']}/sync", headers=_auth(stranger), timeout=60)
    assert sync.status_code == 404
    unknown = httpx.get(f"{endpoint}/api/imports/{uuid.uuid4().hex}", headers=_auth(owner), timeout=60)
    assert unknown.status_code == 404 and unknown.headers["x-error-code"] == "ImportNotFound"
    assert _wait(endpoint, owner, started.json()["id"])["state"] == "done"


@pytest.fixture
def scheduled_syncs(stack, upstream):
    """The mirror restarted with syncs of finished imports every second, and back afterwards."""
    def restart(every: str | None) -> None:
        stack.stop_service("mirror")
        stack.env.pop("HANGAR_MIRROR_IMPORT_SYNC_EVERY", None)
        if every:
            stack.env["HANGAR_MIRROR_IMPORT_SYNC_EVERY"] = every
        stack.start_service("mirror")
    restart("1")
    try:
        yield
    finally:
        restart(None)


def test_scheduled_sync_brings_new_upstream_commits(endpoint, make_user, upstream: Upstream, tmp_path,
                                                    scheduled_syncs):
    src = _source(upstream, tmp_path, {"a.txt": b"one\n"})
    user = make_user()
    api = HfApi(endpoint=endpoint, token=user.token)
    target = f"{user.name}/scheduled-{uuid.uuid4().hex[:6]}"
    first = _import(endpoint, user, source=src, repo=target)
    assert first["state"] == "done", first
    upstream.api.upload_file(path_or_fileobj=b"two\n", path_in_repo="b.txt", repo_id=src, commit_message="later")
    want = upstream.api.repo_info(src).sha
    status = _wait(endpoint, user, first["id"], until=lambda s: any(u["upstream"] == want for u in s["updated"]))
    assert status["kind"] == "sync" and api.repo_info(target).sha == want

"""Push with the real git client: regular files, branches and tags, refusals, all through metadata."""
from __future__ import annotations

import hashlib
import os

import httpx
from huggingface_hub import hf_hub_download

from tests.git.gitutil import git, out


def clone_for_push(hub, user, tmp_path, repo_type="model"):
    repo_id = hub.new_repo(user, repo_type=repo_type)
    work = tmp_path / "work"
    git("clone", hub.url(repo_id, repo_type, user), str(work))
    return repo_id, work


def commit(work, files: dict[str, bytes], message: str) -> str:
    for name, data in files.items():
        (work / name).parent.mkdir(parents=True, exist_ok=True)
        (work / name).write_bytes(data)
    git("add", "-A", cwd=work)
    git("commit", "-q", "-m", message, cwd=work)
    return out("rev-parse", "HEAD", cwd=work)


def push(work, *args, check=True):
    return git("push", "--porcelain", "origin", *args, cwd=work, check=check)


def test_push_regular_files_shows_in_api(hub, user, tmp_path):
    repo_id, work = clone_for_push(hub, user, tmp_path)
    first = commit(work, {"a.txt": b"alpha\n", "nested/dir/b.txt": b"beta\n"}, "add files")
    second = commit(work, {"a.txt": b"alpha 2\n"}, "edit a")
    push(work, "main")
    api = hub.api(user)
    assert api.repo_info(repo_id).sha == second
    ids = [c.commit_id for c in api.list_repo_commits(repo_id)]
    assert ids[:2] == [second, first]
    assert out("log", "--format=%H", cwd=work).splitlines() == ids
    path = hf_hub_download(repo_id, "a.txt", token=user.token, cache_dir=tmp_path / "cache",
                           endpoint=hub.endpoint)
    assert open(path, "rb").read() == b"alpha 2\n"
    assert set(api.list_repo_files(repo_id)) >= {"a.txt", "nested/dir/b.txt", ".gitattributes"}


def test_signed_style_commit_keeps_its_exact_bytes(hub, user, tmp_path):
    """A commit with extra headers (as a gpgsig would add) keeps its id through push and clone."""
    repo_id, work = clone_for_push(hub, user, tmp_path)
    tree = out("write-tree", cwd=work)
    parent = out("rev-parse", "HEAD", cwd=work)
    raw = (f"tree {tree}\nparent {parent}\nauthor A <a@x> 1700000000 +0130\n"
           f"committer C <c@x> 1700000001 -0700\nx-custom-header some value\n continued line\n"
           f"\nmessage without trailing newline").encode()
    oid = out("hash-object", "-t", "commit", "-w", "--stdin", "--literally", cwd=work, input=raw)
    git("update-ref", "refs/heads/main", oid, cwd=work)
    push(work, "main")
    assert hub.api(user).repo_info(repo_id).sha == oid
    again = tmp_path / "again"
    git("clone", hub.url(repo_id, user=user), str(again))
    assert out("cat-file", "commit", "HEAD", cwd=again).encode() == raw


def test_branch_and_tag_push_and_delete(hub, user, tmp_path):
    repo_id, work = clone_for_push(hub, user, tmp_path)
    tip = commit(work, {"f.txt": b"x\n"}, "base")
    git("tag", "-a", "v1", "-m", "annotated", cwd=work)
    git("tag", "light", cwd=work)
    push(work, "main", "main:refs/heads/feature", "v1", "light")
    api = hub.api(user)
    refs = api.list_repo_refs(repo_id)
    assert {b.name: b.target_commit for b in refs.branches} == {"main": tip, "feature": tip}
    assert {t.name: t.target_commit for t in refs.tags} == {"v1": tip, "light": tip}
    remote = dict(reversed(line.split("\t")) for line in out("ls-remote", "origin", cwd=work).splitlines())
    assert remote["refs/tags/v1"] == out("rev-parse", "v1", cwd=work)      # the tag object itself
    push(work, "--delete", "feature", "v1", "light")
    refs = api.list_repo_refs(repo_id)
    assert [b.name for b in refs.branches] == ["main"] and list(refs.tags) == []


def _diverge(work, name: str) -> str:
    """Replace the local tip by a sibling commit (what an amend or a rebase does)."""
    git("reset", "-q", "--hard", "HEAD~1", cwd=work)
    return commit(work, {name: name.encode() + b"\n"}, f"diverging {name}")


def test_force_push_by_a_writer_is_accepted_and_recorded(hub, user, other_user, tmp_path):
    """As on the Hub: a writer's non-fast-forward push lands (under the ref's compare-and-swap); it is
    recorded (who, old tip, new tip); the commits it left behind stay readable by id, their LFS
    objects referenced, for the grace period."""
    repo_id, work = clone_for_push(hub, user, tmp_path)
    api = hub.api(user)
    api.upload_file(path_or_fileobj=b"L" * 4096, path_in_repo="weights.bin", repo_id=repo_id,
                    commit_message="lfs file")   # *.bin is LFS by the default .gitattributes
    git("pull", "-q", cwd=work)
    kept = commit(work, {"keep.txt": b"keep\n"}, "keep me")
    push(work, "main")
    git("reset", "-q", "--hard", "HEAD~2", cwd=work)
    rewritten = commit(work, {"other.txt": b"other\n"}, "diverging")
    refused = push(work, "main", check=False)   # without --force git itself refuses
    assert refused.returncode != 0 and api.repo_info(repo_id).sha == kept
    push(work, "--force", "main")
    assert api.repo_info(repo_id).sha == rewritten
    assert [c.commit_id for c in api.list_repo_commits(repo_id)][0] == rewritten
    assert "keep.txt" not in api.list_repo_files(repo_id)
    # The old tip: readable by id (info, tree, files, history), not on any branch.
    assert api.repo_info(repo_id, revision=kept).sha == kept
    assert {"keep.txt", "weights.bin"} <= set(api.list_repo_files(repo_id, revision=kept))
    path = hf_hub_download(repo_id, "weights.bin", revision=kept, token=user.token, endpoint=hub.endpoint,
                           cache_dir=tmp_path / "cache")
    assert open(path, "rb").read() == b"L" * 4096
    [record] = httpx.get(f"{hub.endpoint}/api/models/{repo_id}/force-pushes",
                         headers={"Authorization": f"Bearer {user.token}"}).json()
    assert (record["ref"], record["oldOid"], record["newOid"], record["pusher"]) == \
        ("refs/heads/main", kept, rewritten, user.name)
    assert record["keptUntil"] > record["date"]
    # A stranger can read the record of a public repo, but not push, forced or not.
    assert httpx.get(f"{hub.endpoint}/api/models/{repo_id}/force-pushes").status_code == 200
    stranger = tmp_path / "stranger"
    git("clone", "-q", hub.url(repo_id, user=other_user), str(stranger))
    _diverge(stranger, "theirs.txt")
    assert push(stranger, "--force", "main", check=False).returncode != 0
    assert api.repo_info(repo_id).sha == rewritten


def test_force_push_keeps_lfs_objects_from_gc_during_the_grace(hub, user, stack, tmp_path):
    from tests.lfs.gcutil import run_gc
    repo_id, work = clone_for_push(hub, user, tmp_path)
    api = hub.api(user)
    payload = os.urandom(5000)
    api.upload_file(path_or_fileobj=payload, path_in_repo="only-here.bin", repo_id=repo_id)
    oid = hashlib.sha256(payload).hexdigest()
    git("pull", "-q", cwd=work)
    _diverge(work, "rewritten.txt")
    push(work, "--force", "main")
    assert "only-here.bin" not in api.list_repo_files(repo_id)
    assert oid not in run_gc(stack, "--dry-run", "--grace", "0")["oids"]


def test_force_pushed_away_commits_are_forgotten_after_the_grace(hub, user, stack, tmp_path):
    """With the grace over, the next prune forgets them: no longer readable by id."""
    saved = dict(stack.env)
    try:
        stack.env["HANGAR_FORCE_PUSH_GRACE"] = "0"
        stack.stop_service("metadata")
        stack.start_service("metadata")
        repo_id, work = clone_for_push(hub, user, tmp_path)
        old = commit(work, {"a.txt": b"a\n"}, "a")
        push(work, "main")
        _diverge(work, "b.txt")
        push(work, "--force", "main", "main:refs/heads/scratch")
        push(work, "--delete", "scratch")   # any later prune
        assert not hub.api(user).revision_exists(repo_id, old)
    finally:
        stack.env.clear()
        stack.env.update(saved)
        stack.stop_service("metadata")
        stack.start_service("metadata")


def test_protected_branches_refuse_force_pushes(hub, user, tmp_path):
    """A Hangar extension (none by default): `protectedBranches` in the repo settings."""
    repo_id, work = clone_for_push(hub, user, tmp_path)
    auth = {"Authorization": f"Bearer {user.token}"}
    settings = f"{hub.endpoint}/api/models/{repo_id}/settings"
    resp = httpx.put(settings, json={"protectedBranches": ["main"]}, headers=auth)
    assert resp.status_code == 200 and resp.json()["protectedBranches"] == ["main"]
    kept = commit(work, {"keep.txt": b"keep\n"}, "keep me")
    push(work, "main", "main:refs/heads/dev")
    _diverge(work, "other.txt")
    result = push(work, "--force", "main", check=False)
    assert result.returncode != 0 and "protected branch" in result.stdout.decode() + result.stderr.decode()
    assert hub.api(user).repo_info(repo_id).sha == kept
    push(work, "--force", "main:refs/heads/dev")   # other branches still take force pushes
    # Fast-forward pushes to the protected branch are fine.
    git("reset", "-q", "--hard", kept, cwd=work)
    ahead = commit(work, {"more.txt": b"more\n"}, "more")
    push(work, "main")
    assert hub.api(user).repo_info(repo_id).sha == ahead
    for bad in ({"protectedBranches": "main"}, {"protectedBranches": ["bad..name"]}, {"protectedBranches": [1]}):
        resp = httpx.put(settings, json=bad, headers=auth)
        assert resp.status_code in (400, 422) and resp.headers["X-Error-Code"], resp.text
    resp = httpx.put(settings, json={"protectedBranches": []}, headers=auth)
    assert resp.status_code == 200 and resp.json()["protectedBranches"] == []
    _diverge(work, "now-allowed.txt")
    push(work, "--force", "main")


def test_atomic_push_all_or_nothing(hub, user, tmp_path):
    repo_id, work = clone_for_push(hub, user, tmp_path)
    base = commit(work, {"a.txt": b"a\n"}, "a")
    git("tag", "v1", cwd=work)
    push(work, "main", "v1")
    _diverge(work, "b.txt")
    git("tag", "-f", "v1", cwd=work)
    # The forced branch update would land, the moved tag is refused: neither changes.
    result = push(work, "--force", "--atomic", "main", "v1", "HEAD:refs/heads/new-branch", check=False)
    assert result.returncode != 0
    refs = hub.api(user).list_repo_refs(repo_id)
    assert [b.name for b in refs.branches] == ["main"]
    assert refs.branches[0].target_commit == base and refs.tags[0].target_commit == base
    assert httpx.get(f"{hub.endpoint}/api/models/{repo_id}/force-pushes",
                     headers={"Authorization": f"Bearer {user.token}"}).json() == []


def test_push_outside_branches_and_tags_refused(hub, user, tmp_path):
    repo_id, work = clone_for_push(hub, user, tmp_path)
    commit(work, {"a.txt": b"a\n"}, "a")
    result = push(work, "HEAD:refs/notes/x", check=False)
    assert result.returncode != 0
    assert "refs/heads/" in result.stdout.decode() + result.stderr.decode()
    assert [b.name for b in hub.api(user).list_repo_refs(repo_id).branches] == ["main"]


def test_push_large_regular_file(hub, user, tmp_path):
    """Above git's 1 MiB post buffer: a probe request, then a chunked body, spooled and streamed."""
    repo_id, work = clone_for_push(hub, user, tmp_path)
    data = bytes(range(256)) * (3 * 4096) + b"tail"
    # Not an LFS pattern, so it stays a regular git blob.
    tip = commit(work, {"big.dat": data}, "big regular file")
    push(work, "main")
    assert hub.api(user).repo_info(repo_id).sha == tip
    again = tmp_path / "again"
    git("clone", hub.url(repo_id, user=user), str(again))
    assert (again / "big.dat").read_bytes() == data


def test_push_of_a_branch_named_head_refused(hub, user, tmp_path):
    """git itself refuses `git branch HEAD`; a push creating refs/heads/HEAD is refused the same way,
    while a branch named like an existing tag is accepted (as on the Hub)."""
    repo_id, work = clone_for_push(hub, user, tmp_path)
    tip = commit(work, {"a.txt": b"a\n"}, "a")
    push(work, "HEAD:refs/heads/main")
    result = push(work, "HEAD:refs/heads/HEAD", check=False)
    assert result.returncode != 0
    assert "HEAD" in result.stdout.decode() + result.stderr.decode()
    push(work, "HEAD:refs/tags/v1")
    push(work, "HEAD:refs/heads/v1")
    refs = hub.api(user).list_repo_refs(repo_id)
    assert sorted(b.name for b in refs.branches) == ["main", "v1"]
    assert [t.name for t in refs.tags] == ["v1"] and refs.tags[0].target_commit == tip

"""Push with the real git client: regular files, branches and tags, refusals, all through metadata."""
from __future__ import annotations

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


def test_non_fast_forward_refused_nothing_lost(hub, user, tmp_path):
    repo_id, work = clone_for_push(hub, user, tmp_path)
    kept = commit(work, {"keep.txt": b"keep\n"}, "keep me")
    push(work, "main")
    git("reset", "-q", "--hard", "HEAD~1", cwd=work)
    commit(work, {"other.txt": b"other\n"}, "diverging")
    result = push(work, "--force", "main", check=False)
    assert result.returncode != 0
    assert "non-fast-forward" in result.stdout.decode() + result.stderr.decode()
    assert hub.api(user).repo_info(repo_id).sha == kept
    assert "keep.txt" in hub.api(user).list_repo_files(repo_id)


def test_atomic_push_all_or_nothing(hub, user, tmp_path):
    repo_id, work = clone_for_push(hub, user, tmp_path)
    base = commit(work, {"a.txt": b"a\n"}, "a")
    push(work, "main")
    git("reset", "-q", "--hard", "HEAD~1", cwd=work)
    commit(work, {"b.txt": b"b\n"}, "b")
    result = push(work, "--force", "--atomic", "main", "HEAD:refs/heads/new-branch", check=False)
    assert result.returncode != 0
    refs = hub.api(user).list_repo_refs(repo_id)
    assert [b.name for b in refs.branches] == ["main"]
    assert refs.branches[0].target_commit == base


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

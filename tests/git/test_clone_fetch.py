"""Clone and fetch with the real git client: protocol v0 and v2, negotiation, shallow clones."""
from __future__ import annotations

import pytest
from huggingface_hub import CommitOperationAdd

from tests.git.gitutil import git, out

VERSIONS = pytest.mark.parametrize("version", ["0", "2"], ids=["v0", "v2"])


def populate(hub, user, repo_id, repo_type="model", commits=3):
    api = hub.api(user)
    for i in range(commits):
        api.create_commit(repo_id, repo_type=repo_type, commit_message=f"commit {i}", operations=[
            CommitOperationAdd(f"file{i}.txt", f"content {i}\n".encode()),
            CommitOperationAdd(f"dir/sub/nested{i}.json", b'{"i": %d}\n' % i)])


def clone(hub, repo_id, dest, version, *args, repo_type="model", user=None):
    git("-c", f"protocol.version={version}", "clone", *args, hub.url(repo_id, repo_type, user), str(dest))
    return dest


def assert_files(workdir, count):
    for i in range(count):
        assert (workdir / f"file{i}.txt").read_text() == f"content {i}\n"
        assert (workdir / "dir" / "sub" / f"nested{i}.json").read_bytes() == b'{"i": %d}\n' % i


@VERSIONS
def test_clone_matches_api_history(hub, user, tmp_path, version):
    repo_id = hub.new_repo(user)
    populate(hub, user, repo_id)
    work = clone(hub, repo_id, tmp_path / "c", version)
    git("fsck", "--full", "--strict", cwd=work)
    assert_files(work, 3)
    assert (work / ".gitattributes").exists()
    api_ids = [c.commit_id for c in hub.api(user).list_repo_commits(repo_id)]
    assert out("log", "--format=%H", cwd=work).splitlines() == api_ids
    assert out("rev-parse", "HEAD", cwd=work) == hub.api(user).repo_info(repo_id).sha


def newest_pack_object_count(repo) -> int:
    packs = sorted((repo / ".git" / "objects" / "pack").glob("*.idx"), key=lambda p: p.stat().st_mtime)
    return len(out("show-index", cwd=repo, input=packs[-1].read_bytes()).splitlines())


@VERSIONS
def test_incremental_fetch_sends_only_new_objects(hub, user, tmp_path, version):
    repo_id = hub.new_repo(user)
    populate(hub, user, repo_id, commits=4)
    work = clone(hub, repo_id, tmp_path / "c", version)
    hub.api(user).upload_file(path_or_fileobj=b"new\n", path_in_repo="added.txt", repo_id=repo_id)
    # Keep the received pack as it came (no unpacking to loose objects) so we can count it.
    git("-c", f"protocol.version={version}", "-c", "fetch.unpackLimit=1", "fetch", "origin", cwd=work)
    # One commit, its root tree and the new blob: nothing of the four earlier commits.
    assert newest_pack_object_count(work) == 3
    git("merge", "--ff-only", "origin/main", cwd=work)
    assert (work / "added.txt").read_text() == "new\n"
    git("fsck", "--full", cwd=work)


@VERSIONS
def test_fetch_with_many_local_commits_negotiates(hub, user, tmp_path, version):
    """Many haves the server lacks (a gzip-encoded request body, several rounds) still converge."""
    repo_id = hub.new_repo(user)
    populate(hub, user, repo_id, commits=2)
    work = clone(hub, repo_id, tmp_path / "c", version)
    for i in range(150):
        git("commit", "-q", "--allow-empty", "-m", f"local {i}", cwd=work)
    hub.api(user).upload_file(path_or_fileobj=b"remote\n", path_in_repo="remote.txt", repo_id=repo_id)
    git("-c", f"protocol.version={version}", "-c", "fetch.unpackLimit=1", "fetch", "origin", cwd=work)
    assert newest_pack_object_count(work) == 3
    assert out("show", "origin/main:remote.txt", cwd=work) == "remote"


@VERSIONS
def test_shallow_clone(hub, user, tmp_path, version):
    repo_id = hub.new_repo(user)
    populate(hub, user, repo_id, commits=3)
    work = clone(hub, repo_id, tmp_path / "c", version, "--depth", "1")
    assert out("rev-list", "--count", "HEAD", cwd=work) == "1"
    assert (work / ".git" / "shallow").read_text().split() == [out("rev-parse", "HEAD", cwd=work)]
    assert_files(work, 3)
    git("fsck", "--full", cwd=work)
    # Deepening the shallow clone later brings the rest of the history.
    git("-c", f"protocol.version={version}", "fetch", "--depth", "10", cwd=work)
    api_ids = [c.commit_id for c in hub.api(user).list_repo_commits(repo_id)]
    assert out("log", "--format=%H", cwd=work).splitlines() == api_ids
    git("fsck", "--full", cwd=work)


@VERSIONS
def test_dataset_clone_with_and_without_suffix(hub, user, tmp_path, version):
    repo_id = hub.new_repo(user, repo_type="dataset")
    populate(hub, user, repo_id, repo_type="dataset", commits=1)
    work = clone(hub, repo_id, tmp_path / "c", version, repo_type="dataset")
    assert_files(work, 1)
    plain = tmp_path / "plain"
    git("-c", f"protocol.version={version}", "clone", hub.url(repo_id, "dataset", suffix=""), str(plain))
    assert_files(plain, 1)
    git("fsck", "--full", cwd=plain)


@VERSIONS
def test_all_branches_and_peeled_tags_advertised(hub, user, tmp_path, version):
    repo_id = hub.new_repo(user)
    populate(hub, user, repo_id, commits=2)
    api = hub.api(user)
    api.create_branch(repo_id, branch="dev")
    api.upload_file(path_or_fileobj=b"dev only\n", path_in_repo="dev.txt", repo_id=repo_id, revision="dev")
    api.create_tag(repo_id, tag="v1", tag_message="release one")
    api.create_tag(repo_id, tag="light")
    listing = out("-c", f"protocol.version={version}", "ls-remote", hub.url(repo_id))
    refs = dict(reversed(line.split("\t")) for line in listing.splitlines())
    main = api.repo_info(repo_id).sha
    assert refs["HEAD"] == refs["refs/heads/main"] == main
    assert refs["refs/tags/v1^{}"] == main and refs["refs/tags/v1"] != main   # annotated, peeled
    assert refs["refs/tags/light"] == main
    assert "refs/heads/dev" in refs
    work = clone(hub, repo_id, tmp_path / "c", version)
    assert out("show", "origin/dev:dev.txt", cwd=work) == "dev only"
    assert out("cat-file", "-t", "v1", cwd=work) == "tag"
    git("fsck", "--full", cwd=work)


def test_space_clone(hub, user, tmp_path):
    repo_id = f"{user.name}/space-{tmp_path.name[-6:]}"
    api = hub.api(user)
    api.create_repo(repo_id, repo_type="space", space_sdk="static")
    api.upload_file(path_or_fileobj=b"<h1>hi</h1>\n", path_in_repo="index.html", repo_id=repo_id, repo_type="space")
    work = clone(hub, repo_id, tmp_path / "c", "2", repo_type="space")
    assert (work / "index.html").read_text() == "<h1>hi</h1>\n"
    git("fsck", "--full", cwd=work)


def test_clone_by_old_name_after_move(hub, user, tmp_path):
    repo_id = hub.new_repo(user)
    populate(hub, user, repo_id, commits=1)
    new_id = repo_id + "-moved"
    hub.api(user).move_repo(from_id=repo_id, to_id=new_id)
    work = clone(hub, repo_id, tmp_path / "old", "2")
    assert_files(work, 1)
    assert out("rev-parse", "HEAD", cwd=work) == hub.api(user).repo_info(new_id).sha

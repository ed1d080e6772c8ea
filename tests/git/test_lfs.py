"""git-lfs through Hangar: push of LFS files, clone materializing them, refusal of unknown objects."""
from __future__ import annotations

import hashlib
import os

from huggingface_hub import hf_hub_download

from tests.git.gitutil import git, out


def test_lfs_push_and_clone(hub, user, tmp_path):
    repo_id = hub.new_repo(user)
    work = tmp_path / "work"
    git("clone", hub.url(repo_id, user=user), str(work))
    data = os.urandom(3 * 1024 * 1024 + 11)
    (work / "weights.bin").write_bytes(data)        # *.bin is an LFS pattern of the default .gitattributes
    git("add", "weights.bin", cwd=work)
    assert "filter: lfs" in out("check-attr", "filter", "weights.bin", cwd=work)
    git("commit", "-q", "-m", "weights", cwd=work)
    git("push", "origin", "main", cwd=work)
    api = hub.api(user)
    (entry,) = [e for e in api.list_repo_tree(repo_id) if e.path == "weights.bin"]
    assert entry.lfs is not None and entry.lfs.sha256 == hashlib.sha256(data).hexdigest()
    path = hf_hub_download(repo_id, "weights.bin", token=user.token, cache_dir=tmp_path / "cache",
                           endpoint=hub.endpoint)
    assert open(path, "rb").read() == data
    clone = tmp_path / "clone"
    git("clone", hub.url(repo_id, user=user), str(clone))
    assert (clone / "weights.bin").read_bytes() == data
    assert out("lfs", "ls-files", "--long", cwd=clone).split()[0] == hashlib.sha256(data).hexdigest()


def test_pointer_to_missing_lfs_object_refused(hub, user, tmp_path):
    repo_id = hub.new_repo(user)
    work = tmp_path / "work"
    git("clone", hub.url(repo_id, user=user), str(work))
    before = hub.api(user).repo_info(repo_id).sha
    oid = hashlib.sha256(b"never uploaded").hexdigest()
    pointer = f"version https://git-lfs.github.com/spec/v1\noid sha256:{oid}\nsize 14\n"
    (work / "ghost.bin").write_text(pointer)
    git("add", "ghost.bin", cwd=work)
    git("commit", "-q", "-m", "pointer without object", cwd=work)
    # --no-verify skips git-lfs's pre-push hook, as a client without git-lfs would.
    result = git("push", "--no-verify", "origin", "main", cwd=work, check=False)
    assert result.returncode != 0
    message = result.stderr.decode()
    assert oid in message and "remote rejected" in message
    assert hub.api(user).repo_info(repo_id).sha == before


def test_pointer_to_another_users_private_object_refused(hub, user, make_user, tmp_path):
    """Knowing the oid and size of someone's private LFS object: a pushed pointer blob to it is
    refused, with or without CRLF line ends, and nothing lands."""
    victim = make_user()
    private = hub.new_repo(victim, private=True)
    data = os.urandom(5000)
    hub.api(victim).upload_file(path_or_fileobj=data, path_in_repo="secret.bin", repo_id=private)
    oid = hashlib.sha256(data).hexdigest()
    repo_id = hub.new_repo(user)
    before = hub.api(user).repo_info(repo_id).sha
    for i, eol in enumerate(("\n", "\r\n")):
        work = tmp_path / f"work{i}"
        git("clone", "-q", hub.url(repo_id, user=user), str(work))
        pointer = f"version https://git-lfs.github.com/spec/v1{eol}oid sha256:{oid}{eol}size 5000{eol}"
        (work / "stolen.txt").write_bytes(pointer.encode())
        git("add", "stolen.txt", cwd=work)
        git("commit", "-q", "-m", "steal", cwd=work)
        result = git("push", "--no-verify", "origin", "main", cwd=work, check=False)
        assert result.returncode != 0 and oid in result.stderr.decode(), result.stderr
    assert hub.api(user).repo_info(repo_id).sha == before
    assert hub.api(user).list_repo_files(repo_id) == [".gitattributes"]


def test_lfs_in_private_repo_with_token(hub, user, tmp_path):
    repo_id = hub.new_repo(user, private=True)
    work = tmp_path / "work"
    git("clone", hub.url(repo_id, user=user), str(work))
    data = os.urandom(1024 * 1024 + 3)
    (work / "model.safetensors").write_bytes(data)
    git("add", "model.safetensors", cwd=work)
    git("commit", "-q", "-m", "private weights", cwd=work)
    git("push", "origin", "main", cwd=work)
    clone = tmp_path / "clone"
    git("clone", hub.url(repo_id, user=user), str(clone))
    assert (clone / "model.safetensors").read_bytes() == data
    anon = git("clone", hub.url(repo_id), str(tmp_path / "anon"), check=False)
    assert anon.returncode != 0

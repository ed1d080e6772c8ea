"""LFS file management with the real huggingface_hub client (issue 15): list_lfs_files,
permanently_delete_lfs_files (history rewritten without the pointers, new commit ids, bytes freed
once nothing references them) and the cross-repository copy's `lfs-files/duplicate`."""
from __future__ import annotations

import hashlib
import json
import os
import subprocess

import httpx
import pytest
from huggingface_hub import CommitOperationAdd, HfApi, hf_hub_download
from huggingface_hub.errors import EntryNotFoundError, HfHubHTTPError, RevisionNotFoundError

from tests.conftest import unique_name

from .lfsutil import batch, bearer


def _repo(api: HfApi, owner) -> str:
    repo_id = f"{owner.name}/{unique_name('lfsfiles')}"
    api.create_repo(repo_id)
    return repo_id


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _status(call) -> HfHubHTTPError:
    with pytest.raises(HfHubHTTPError) as err:
        call()
    return err.value


def test_list_lfs_files_as_the_client_parses_them(endpoint, user):
    api = HfApi(endpoint=endpoint, token=user.token)
    repo_id = _repo(api, user)
    one, two = os.urandom(3000), os.urandom(5000)
    api.create_commit(repo_id, [CommitOperationAdd("w/one.bin", one), CommitOperationAdd("two.bin", two),
                                CommitOperationAdd("notes.txt", b"small")], commit_message="files")
    api.create_commit(repo_id, [CommitOperationAdd("copy.bin", one)], commit_message="same bytes again")
    files = {f.file_oid: f for f in api.list_lfs_files(repo_id)}
    assert set(files) == {_sha(one), _sha(two)}   # each object once, regular files not at all
    assert (files[_sha(one)].filename, files[_sha(one)].size) == ("w/one.bin", 3000)
    assert (files[_sha(two)].filename, files[_sha(two)].size) == ("two.bin", 5000)
    assert files[_sha(one)].pushed_at.tzinfo is not None
    # Paged with an absolute Link, which the client follows.
    first = httpx.get(f"{endpoint}/api/models/{repo_id}/lfs-files?limit=1", headers=bearer(user.token))
    assert first.status_code == 200 and len(first.json()) == 1 and first.links["next"]["url"].startswith(endpoint)
    second = httpx.get(first.links["next"]["url"], headers=bearer(user.token)).json()
    assert {first.json()[0]["fileOid"], second[0]["fileOid"]} == set(files)


def test_listing_needs_write_access(endpoint, user, other_user):
    api = HfApi(endpoint=endpoint, token=user.token)
    repo_id = _repo(api, user)
    error = _status(lambda: list(HfApi(endpoint=endpoint, token=other_user.token).list_lfs_files(repo_id)))
    assert error.response.status_code == 403
    assert _status(lambda: list(HfApi(endpoint=endpoint, token=False).list_lfs_files(repo_id))) \
        .response.status_code == 401


def test_permanent_delete_rewrites_history_and_frees_the_bytes(endpoint, user, s3, tmp_path):
    api = HfApi(endpoint=endpoint, token=user.token)
    repo_id = _repo(api, user)
    secret, kept = os.urandom(4000), os.urandom(4100)
    first = api.create_commit(repo_id, [CommitOperationAdd("leak.bin", secret), CommitOperationAdd("keep.bin", kept)],
                              commit_message="oops").oid
    api.create_tag(repo_id, tag="v1")
    api.create_branch(repo_id, branch="dev")
    api.create_commit(repo_id, [CommitOperationAdd("nested/leak-again.bin", secret),
                                CommitOperationAdd("README.md", b"# card\n")], commit_message="more")
    before = [c for c in api.list_repo_commits(repo_id)]
    assert s3.has(_sha(secret))
    doomed = [f for f in api.list_lfs_files(repo_id) if f.file_oid == _sha(secret)]
    api.permanently_delete_lfs_files(repo_id, doomed)   # rewriteHistory: true, the client's default

    after = [c for c in api.list_repo_commits(repo_id)]
    assert [c.title for c in after] == [c.title for c in before]           # same history, same messages
    assert after[-1].commit_id == before[-1].commit_id                     # the initial commit had no pointer
    assert all(a.commit_id != b.commit_id for a, b in zip(after[:-1], before[:-1], strict=True))  # new ids
    for revision in ("main", "v1", "dev"):
        files = set(api.list_repo_files(repo_id, revision=revision))
        assert "keep.bin" in files and "leak.bin" not in files and "nested/leak-again.bin" not in files
    refs = api.list_repo_refs(repo_id)
    assert {t.name: t.target_commit for t in refs.tags}["v1"] == after[1].commit_id
    assert {b.name: b.target_commit for b in refs.branches}["dev"] == after[1].commit_id
    assert [f.file_oid for f in api.list_lfs_files(repo_id)] == [_sha(kept)]
    # The old commits are gone, the bytes freed; reading answers clear errors.
    assert not api.revision_exists(repo_id, first)
    with pytest.raises(RevisionNotFoundError):
        hf_hub_download(repo_id, "leak.bin", revision=first, token=user.token, endpoint=endpoint,
                        cache_dir=tmp_path / "a")
    with pytest.raises(EntryNotFoundError):
        hf_hub_download(repo_id, "leak.bin", token=user.token, endpoint=endpoint, cache_dir=tmp_path / "b")
    assert not s3.has(_sha(secret))
    gone = batch(endpoint, repo_id, "download", [(_sha(secret), len(secret))], headers=bearer(user.token)).json()
    assert gone["objects"][0]["error"]["code"] == 404
    path = hf_hub_download(repo_id, "keep.bin", token=user.token, endpoint=endpoint, cache_dir=tmp_path / "c")
    assert open(path, "rb").read() == kept


def test_bytes_another_repository_references_stay(endpoint, user, other_user, s3, tmp_path):
    api = HfApi(endpoint=endpoint, token=user.token)
    mine, theirs = _repo(api, user), _repo(HfApi(endpoint=endpoint, token=other_user.token), other_user)
    shared = os.urandom(3500)
    api.upload_file(path_or_fileobj=shared, path_in_repo="shared.bin", repo_id=mine)
    HfApi(endpoint=endpoint, token=other_user.token).upload_file(path_or_fileobj=shared,
                                                                  path_in_repo="shared.bin", repo_id=theirs)
    api.permanently_delete_lfs_files(mine, list(api.list_lfs_files(mine)))
    assert list(api.list_lfs_files(mine)) == [] and s3.has(_sha(shared))
    path = hf_hub_download(theirs, "shared.bin", token=other_user.token, endpoint=endpoint, cache_dir=tmp_path)
    assert open(path, "rb").read() == shared
    # ... and this repository cannot read them any more.
    down = batch(endpoint, mine, "download", [(_sha(shared), len(shared))], headers=bearer(user.token)).json()
    assert "error" in down["objects"][0]


def test_bad_deletions_change_nothing(endpoint, user, other_user):
    api = HfApi(endpoint=endpoint, token=user.token)
    repo_id = _repo(api, user)
    data = os.urandom(3000)
    api.upload_file(path_or_fileobj=data, path_in_repo="w.bin", repo_id=repo_id)
    tip = api.repo_info(repo_id).sha
    url = f"{endpoint}/api/models/{repo_id}/lfs-files/batch"
    cases = [
        ({"deletions": {"sha": [_sha(data)], "rewriteHistory": False}}, 400, "RewriteRequired"),
        ({"deletions": {"sha": [_sha(data), "0" * 64]}}, 404, "EntryNotFound"),   # all or nothing
        ({"deletions": {"sha": ["not-a-sha"]}}, 400, "InvalidField"),
        ({"deletions": {"sha": []}}, 400, "InvalidField"),
        ({"deletions": "x"}, 400, "InvalidField"),
    ]
    for body, status, code in cases:
        resp = httpx.post(url, json=body, headers=bearer(user.token))
        assert (resp.status_code, resp.headers.get("X-Error-Code")) == (status, code), (body, resp.text)
    for token, status in ((other_user.token, 403), (user.read_token, 403), (None, 401)):
        resp = httpx.post(url, json={"deletions": {"sha": [_sha(data)]}}, headers=bearer(token))
        assert resp.status_code == status, resp.text
    assert api.repo_info(repo_id).sha == tip and [f.file_oid for f in api.list_lfs_files(repo_id)] == [_sha(data)]


OLDER = [p for p in os.environ.get("HANGAR_EXTRA_CLIENT_PYTHONS", "").split(":") if p]
OLDER_FLOW = """
import os, sys
from huggingface_hub import HfApi
api = HfApi(endpoint=sys.argv[1], token=sys.argv[2])
repo = sys.argv[3]
api.create_repo(repo)
api.upload_file(path_or_fileobj=os.urandom(3000), path_in_repo="w.bin", repo_id=repo)
old = api.repo_info(repo).sha
files = list(api.list_lfs_files(repo))
assert len(files) == 1 and files[0].filename == "w.bin" and files[0].size == 3000, files
api.permanently_delete_lfs_files(repo, files)
assert list(api.list_lfs_files(repo)) == []
assert api.repo_info(repo).sha != old and "w.bin" not in api.list_repo_files(repo)
print("ok")
"""


@pytest.mark.skipif(not OLDER and not os.environ.get("CI"), reason="HANGAR_EXTRA_CLIENT_PYTHONS is empty")
@pytest.mark.parametrize("python", OLDER or [""])
def test_list_and_delete_through_older_clients(python, endpoint, user, tmp_path):
    """The calls exist in every supported client version (1.x and 0.36.x): the same flow through each."""
    assert python, "HANGAR_EXTRA_CLIENT_PYTHONS is empty: run through `make test`, which provides the venvs"
    env = {**os.environ, "HF_HUB_DISABLE_XET": "1", "HF_HOME": str(tmp_path / "hf"), "PYTHONPATH": ""}
    done = subprocess.run([python, "-c", OLDER_FLOW, endpoint, user.token, f"{user.name}/{unique_name('older')}"],
                          capture_output=True, text=True, timeout=300, env=env)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr


CROSS_REPO_COPY = """
import os, sys
from huggingface_hub import CommitOperationCopy, HfApi
api = HfApi(endpoint=sys.argv[1], token=sys.argv[2])
source, target = sys.argv[3], sys.argv[4]
data = bytes.fromhex(sys.argv[5])
api.upload_file(path_or_fileobj=data, path_in_repo="weights/model.bin", repo_id=source)
api.create_commit(target, [CommitOperationCopy("weights/model.bin", "copied.bin", src_repo_id=source,
                                               src_repo_type="model")], commit_message="copy across repos")
print(api.hf_hub_download(target, "copied.bin", cache_dir=os.environ["HF_HOME"]))
"""


def test_cross_repo_copy_through_the_client_duplicates_lfs_files(endpoint, user, tmp_path):
    """huggingface_hub >= 1.x copies across repositories with `lfs-files/duplicate` on the source (it
    needs the source file's xetHash, so the source is uploaded through Xet here), then an lfsFile line."""
    api = HfApi(endpoint=endpoint, token=user.token)
    source, target = _repo(api, user), _repo(api, user)
    data = os.urandom(6000)
    env = {**os.environ, "HF_HUB_DISABLE_XET": "0", "HF_HOME": str(tmp_path / "hf"), "PYTHONPATH": ""}
    import sys
    done = subprocess.run([sys.executable, "-c", CROSS_REPO_COPY, endpoint, user.token, source, target, data.hex()],
                          capture_output=True, text=True, timeout=300, env=env)
    assert done.returncode == 0, done.stderr
    assert open(done.stdout.strip().splitlines()[-1], "rb").read() == data
    assert [f.file_oid for f in api.list_lfs_files(target)] == [_sha(data)]


def _duplicate(endpoint, source, target, oids, token):
    return httpx.post(f"{endpoint}/api/models/{source}/lfs-files/duplicate", headers=bearer(token),
                      json={"target": {"type": "model", "name": target},
                            "files": [{"sha256": o, "filename": "f.bin"} for o in oids]})


def test_duplicate_grants_the_target_under_the_entitlement_rule(endpoint, user, other_user):
    owner_api, other_api = HfApi(endpoint=endpoint, token=user.token), HfApi(endpoint=endpoint, token=other_user.token)
    source = f"{user.name}/{unique_name('private-src')}"
    owner_api.create_repo(source, private=True)
    data = os.urandom(3300)
    owner_api.upload_file(path_or_fileobj=data, path_in_repo="w.bin", repo_id=source)
    target = _repo(owner_api, user)
    theirs = _repo(other_api, other_user)
    oid = _sha(data)
    # A stranger knowing the hash gets nothing: the private source is not found.
    resp = _duplicate(endpoint, source, theirs, [oid], other_user.token)
    assert resp.status_code == 404 and resp.headers["X-Error-Code"] == "RepoNotFound"
    # Into a repository the caller cannot write: 403; nothing about the oid is answered.
    resp = _duplicate(endpoint, source, theirs, [oid], user.token)
    assert resp.status_code == 403, resp.text
    # An oid the source does not reference fails alone; the valid one is duplicated.
    resp = _duplicate(endpoint, source, target, [oid, "e" * 64], user.token)
    assert resp.status_code == 200, resp.text
    assert resp.json()["duplicated"] == [oid] and [f["sha256"] for f in resp.json()["failed"]] == ["e" * 64]
    # The grant outlives the source: the target may commit the pointer after the source is gone.
    owner_api.delete_repo(source)
    body = "\n".join(json.dumps(line) for line in (
        {"key": "header", "value": {"summary": "pointer", "description": ""}},
        {"key": "lfsFile", "value": {"path": "copied.bin", "algo": "sha256", "oid": oid, "size": len(data)}}))
    resp = httpx.post(f"{endpoint}/api/models/{target}/commit/main", content=body,
                      headers={**bearer(user.token), "Content-Type": "application/x-ndjson"})
    assert resp.status_code == 200, resp.text
    assert [f.file_oid for f in owner_api.list_lfs_files(target)] == [oid]


def test_duplicate_bad_input(endpoint, user):
    api = HfApi(endpoint=endpoint, token=user.token)
    source = _repo(api, user)
    url = f"{endpoint}/api/models/{source}/lfs-files/duplicate"
    for body in ({}, {"target": {"name": source}}, {"target": {"name": source}, "files": []},
                 {"target": {"name": "no-slash"}, "files": [{"sha256": "a" * 64}]},
                 {"target": "x", "files": [{"sha256": "a" * 64}]}):
        resp = httpx.post(url, json=body, headers=bearer(user.token))
        assert resp.status_code == 400 and resp.headers["X-Error-Code"], (body, resp.text)
    resp = httpx.post(url, json={"target": {"name": source}, "files": [{"sha256": "../x"}]}, headers=bearer(user.token))
    assert resp.status_code == 200 and resp.json()["failed"][0]["error"]
    resp = httpx.post(url, json={"target": {"name": source}, "files": [{"sha256": "a" * 64}]})
    assert resp.status_code == 401

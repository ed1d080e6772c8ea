"""Resolve (`GET`/`HEAD /{repo}/resolve/{rev}/{path}`) as clients and browsers see it: headers,
ranges, errors and renamed repos (docs/clients.md)."""
from __future__ import annotations

import hashlib

from huggingface_hub import CommitOperationAdd

from .client_flows import unique

CONTENT = b"0123456789" * 100


def git_blob_sha1(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def seed(api, repo_id: str) -> str:
    return api.create_commit(repo_id, commit_message="seed", operations=[
        CommitOperationAdd("dir/data.txt", CONTENT), CommitOperationAdd("page.html", b"<script>x</script>"),
        CommitOperationAdd("empty.txt", b"")]).oid


def test_head_matches_repo_info_and_git_blob(api, http, repo):
    commit = seed(api, repo)
    resp = http.head(f"/{repo}/resolve/main/dir/data.txt", headers={"Accept-Encoding": "gzip"})
    assert resp.status_code == 200, resp.headers
    assert resp.headers["x-repo-commit"] == commit == api.repo_info(repo).sha
    assert resp.headers["etag"] == f'"{git_blob_sha1(CONTENT)}"'
    assert resp.headers["content-length"] == str(len(CONTENT))
    assert "content-encoding" not in resp.headers
    assert resp.headers["accept-ranges"] == "bytes"


def test_get_streams_file_as_attachment(http, api, repo):
    seed(api, repo)
    resp = http.get(f"/{repo}/resolve/main/page.html")
    assert resp.status_code == 200 and resp.content == b"<script>x</script>"
    assert resp.headers["content-disposition"].startswith("attachment")
    assert resp.headers["x-content-type-options"] == "nosniff"
    assert "sandbox" in resp.headers["content-security-policy"]
    empty = http.get(f"/{repo}/resolve/main/empty.txt")
    assert empty.status_code == 200 and empty.content == b"" and empty.headers["content-length"] == "0"


def test_lfs_file_redirects_to_s3_origin(http, anon, endpoint, api, repo):
    import hashlib as _h
    payload = b"L" * 2048
    api.upload_file(path_or_fileobj=payload, path_in_repo="weights.bin", repo_id=repo)  # *.bin is LFS
    head = http.head(f"/{repo}/resolve/main/weights.bin", follow_redirects=False)
    assert head.status_code == 302, head.headers
    sha256 = _h.sha256(payload).hexdigest()
    assert head.headers["x-linked-etag"] == f'"{sha256}"' and head.headers["x-linked-size"] == "2048"
    assert head.headers["x-repo-commit"] == api.repo_info(repo).sha
    location = head.headers["location"]
    assert location.startswith("http") and not location.startswith(endpoint)  # S3's own origin
    assert anon.get(location).content == payload
    info = {s.rfilename: s for s in api.repo_info(repo, files_metadata=True).siblings}["weights.bin"]
    assert info.lfs.sha256 == sha256 and info.size == 2048


def test_ranges(http, api, repo):
    seed(api, repo)
    url = f"/{repo}/resolve/main/dir/data.txt"
    part = http.get(url, headers={"Range": "bytes=10-19"})
    assert part.status_code == 206 and part.content == CONTENT[10:20]
    assert part.headers["content-range"] == f"bytes 10-19/{len(CONTENT)}"
    assert http.get(url, headers={"Range": "bytes=-5"}).content == CONTENT[-5:]
    assert http.get(url, headers={"Range": "bytes=995-"}).content == CONTENT[995:]
    beyond = http.get(url, headers={"Range": f"bytes={len(CONTENT)}-"})
    assert beyond.status_code == 416 and beyond.headers["content-range"] == f"bytes */{len(CONTENT)}"


def test_resolve_by_encoded_branch_tag_and_sha(http, api, repo):
    commit = seed(api, repo)
    api.create_branch(repo, branch="release/v1")
    api.create_tag(repo, tag="t1")
    for revision in ("release%2Fv1", "t1", commit, "refs%2Fheads%2Fmain"):
        resp = http.get(f"/{repo}/resolve/{revision}/dir/data.txt")
        assert resp.status_code == 200 and resp.content == CONTENT, revision
        assert resp.headers["x-repo-commit"] == commit


def test_errors_carry_codes_on_head_too(http, anon, api, repo):
    commit = seed(api, repo)
    missing = http.head(f"/{repo}/resolve/main/nope.txt")
    assert missing.status_code == 404
    assert missing.headers["x-error-code"] == "EntryNotFound" and missing.headers["x-error-message"]
    assert missing.headers["x-repo-commit"] == commit
    revision = http.head(f"/{repo}/resolve/no-such-branch/dir/data.txt")
    assert revision.status_code == 404 and revision.headers["x-error-code"] == "RevisionNotFound"
    repo_missing = anon.head(f"/{repo}-missing/resolve/main/x")
    assert repo_missing.status_code == 401 and repo_missing.headers["x-error-code"] == "RepoNotFound"
    signed_in = http.get(f"/{repo}-missing/resolve/main/x")
    assert signed_in.status_code == 404 and signed_in.json()["error"]


def test_private_repo_looks_missing(http, anon, api, user, make_user):
    repo_id = f"{user.name}/{unique('secret')}"
    api.create_repo(repo_id, private=True)
    api.upload_file(path_or_fileobj=b"s", path_in_repo="s.txt", repo_id=repo_id)
    assert http.get(f"/{repo_id}/resolve/main/s.txt").content == b"s"
    anonymous = anon.head(f"/{repo_id}/resolve/main/s.txt")
    assert anonymous.status_code == 401 and anonymous.headers["x-error-code"] == "RepoNotFound"
    stranger = make_user()
    other = anon.get(f"/api/models/{repo_id}", headers={"Authorization": f"Bearer {stranger.token}"})
    assert other.status_code == 404 and other.headers["x-error-code"] == "RepoNotFound"


def test_renamed_repo_answers_relative_redirect(http, api, user, repo):
    seed(api, repo)
    new = f"{user.name}/{unique('renamed')}"
    api.move_repo(repo, new)
    resp = http.get(f"/{repo}/resolve/main/dir/data.txt", follow_redirects=False)
    assert resp.status_code in (301, 307) and resp.headers["location"] == f"/{new}/resolve/main/dir/data.txt"
    info = http.get(f"/api/models/{repo}/revision/main?blobs=true", follow_redirects=False)
    assert info.status_code in (301, 307)
    assert info.headers["location"] == f"/api/models/{new}/revision/main?blobs=true"
    assert http.get(f"/{repo}/resolve/main/dir/data.txt", follow_redirects=True).content == CONTENT


def test_gated_repo_needs_access_to_download(http, anon, api, repo, make_user):
    api.upload_file(path_or_fileobj=b"g", path_in_repo="g.txt", repo_id=repo)
    api.update_repo_settings(repo, gated="manual")
    stranger = {"Authorization": f"Bearer {make_user().token}"}
    assert anon.get(f"/api/models/{repo}", headers=stranger).json()["gated"] == "manual"
    denied = anon.head(f"/{repo}/resolve/main/g.txt", headers=stranger)
    assert denied.status_code == 403 and denied.headers["x-error-code"] == "GatedRepo"
    assert http.get(f"/{repo}/resolve/main/g.txt").content == b"g"  # the owner may


def test_odd_file_names_round_trip(api, repo, tmp_path):
    from huggingface_hub import hf_hub_download
    names = ["odd #1 %20 ?.txt", "dir with space/ünïcode & plus+.txt", "pct%2Fslash.txt"]
    api.create_commit(repo, commit_message="odd", operations=[CommitOperationAdd(n, n.encode()) for n in names])
    assert sorted(api.list_repo_files(repo)) == sorted([".gitattributes", *names])
    assert [e.path for e in api.list_repo_tree(repo, "dir with space")] == [names[1]]
    for name in names:
        path = hf_hub_download(repo, name, endpoint=api.endpoint, token=api.token, cache_dir=tmp_path)
        assert open(path, "rb").read() == name.encode()

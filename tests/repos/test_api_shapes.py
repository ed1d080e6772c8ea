"""Shapes and protocol details of the repo API that clients parse: pagination Links, listing
filters, preupload answers, validate-yaml, %2F-encoded paths."""
from __future__ import annotations

import base64
import hashlib

from huggingface_hub import CommitOperationAdd

from .client_flows import unique


def test_create_answers_url_on_public_origin(http, endpoint, user):
    name = unique("url")
    resp = http.post("/api/repos/create", json={"name": name, "type": "dataset", "private": False})
    assert resp.status_code == 200, resp.text
    assert resp.json()["url"] == f"{endpoint}/datasets/{user.name}/{name}"
    again = http.post("/api/repos/create", json={"name": name, "type": "dataset"})
    assert again.status_code == 409 and again.json()["url"] == f"{endpoint}/datasets/{user.name}/{name}"


def test_listing_filters_and_absolute_link(http, endpoint, api, user, make_user):
    owner = make_user()
    owner_http_headers = {"Authorization": f"Bearer {owner.token}"}
    names = [unique("list") for _ in range(3)]
    for name in names:
        assert http.post("/api/repos/create", json={"name": name, "organization": owner.name},
                         headers=owner_http_headers).status_code == 200
    secret = unique("hidden")
    http.post("/api/repos/create", json={"name": secret, "organization": owner.name, "private": True},
              headers=owner_http_headers)
    first = http.get("/api/models", params={"author": owner.name, "limit": 2})
    assert first.status_code == 200 and len(first.json()) == 2
    link = first.headers["link"]
    assert link.startswith(f"<{endpoint}/api/models?") and link.endswith('>; rel="next"'), link
    second = http.get(link[1:link.index(">")])
    ids = [r["id"] for r in first.json() + second.json()]
    assert sorted(ids) == sorted(f"{owner.name}/{n}" for n in names)  # the private one stays hidden
    mine = http.get("/api/models", params={"author": owner.name}, headers=owner_http_headers).json()
    assert f"{owner.name}/{secret}" in [r["id"] for r in mine]
    found = [m.id for m in api.list_models(author=owner.name, search=names[1])]
    assert found == [f"{owner.name}/{names[1]}"]
    oldest_first = http.get("/api/models", params={"author": owner.name, "sort": "createdAt", "direction": 1})
    assert [r["id"] for r in oldest_first.json()] == [f"{owner.name}/{n}" for n in names]
    assert [r["id"] for r in http.get(f"/api/users/{owner.name}/repos").json()]


def test_repo_info_blobs_shape(http, api, repo):
    api.upload_file(path_or_fileobj=b"hello", path_in_repo="h.txt", repo_id=repo)
    info = http.get(f"/api/models/{repo}", params={"blobs": "true", "expand[]": "sha"}).json()
    sib = {s["rfilename"]: s for s in info["siblings"]}
    assert sib["h.txt"]["size"] == 5
    assert sib["h.txt"]["blobId"] == hashlib.sha1(b"blob 5\0hello").hexdigest()
    for key in ("id", "sha", "lastModified", "createdAt", "private", "gated", "disabled"):
        assert key in info
    assert info["lastModified"].endswith("Z") and info["createdAt"].endswith("Z")


def test_tree_cursor_pagination_and_encoded_paths(http, endpoint, api, repo):
    api.create_commit(repo, commit_message="many", operations=[
        CommitOperationAdd(f"deep/dir/f{i}.txt", b"x") for i in range(5)])
    api.create_branch(repo, branch="topic/one")
    first = http.get(f"/api/models/{repo}/tree/topic%2Fone/deep%2Fdir", params={"limit": 2})
    assert first.status_code == 200 and len(first.json()) == 2, first.text
    entries = first.json()
    link = first.headers["link"]
    while link:
        assert link.startswith(f"<{endpoint}/api/models/{repo}/tree/topic%2Fone/deep%2Fdir?")
        page = http.get(link[1:link.index(">")])
        entries += page.json()
        link = page.headers.get("link")
    assert [e["path"] for e in entries] == [f"deep/dir/f{i}.txt" for i in range(5)]
    assert all(e["type"] == "file" and e["size"] == 1 and len(e["oid"]) == 40 for e in entries)
    missing = http.get(f"/api/models/{repo}/tree/main/nope")
    assert missing.status_code == 404 and missing.headers["x-error-code"] == "EntryNotFound"


def test_paths_info_form_and_expand(http, api, repo):
    api.upload_file(path_or_fileobj=b"p", path_in_repo="p/q.txt", repo_id=repo)
    resp = http.post(f"/api/models/{repo}/paths-info/main", data={"paths": ["p/q.txt", "p", "zz"], "expand": True})
    assert resp.status_code == 200
    by_path = {e["path"]: e for e in resp.json()}
    assert set(by_path) == {"p/q.txt", "p"} and by_path["p"]["type"] == "directory"
    assert by_path["p/q.txt"]["lastCommit"]["id"] == api.repo_info(repo).sha


def test_commits_pagination(http, endpoint, api, repo):
    for i in range(3):
        api.upload_file(path_or_fileobj=str(i).encode(), path_in_repo=f"c{i}.txt", repo_id=repo)
    first = http.get(f"/api/models/{repo}/commits/main", params={"limit": 2})
    assert len(first.json()) == 2 and first.headers["x-total-count"] == "4"
    link = first.headers["link"]
    assert link.startswith(f"<{endpoint}/api/models/{repo}/commits/main?")
    rest = http.get(link[1:link.index(">")]).json()
    commits = first.json() + rest
    assert len(commits) == 4 and commits[-1]["title"]
    assert all({"id", "title", "message", "authors", "date"} <= set(c) for c in commits)


def test_preupload_modes_ignore_and_oid(http, api, repo):
    api.upload_file(path_or_fileobj=b"same", path_in_repo="same.txt", repo_id=repo)
    sample = base64.b64encode(b"same").decode()
    resp = http.post(f"/api/models/{repo}/preupload/main", json={"files": [
        {"path": "same.txt", "size": 4, "sample": sample},
        {"path": "model.safetensors", "size": 4, "sample": sample},
        {"path": "huge.txt", "size": 50 * 1024 * 1024, "sample": sample},
        {"path": "logs/x.log", "size": 4, "sample": sample}], "gitIgnore": "*.log\n"})
    assert resp.status_code == 200, resp.text
    files = {f["path"]: f for f in resp.json()["files"]}
    assert files["same.txt"] == {"path": "same.txt", "uploadMode": "regular", "shouldIgnore": False,
                                 "oid": hashlib.sha1(b"blob 4\0same").hexdigest()}
    assert files["model.safetensors"]["uploadMode"] == "lfs"  # default .gitattributes pattern
    assert files["huge.txt"]["uploadMode"] == "lfs"           # size threshold
    assert files["logs/x.log"]["shouldIgnore"] is True


def test_validate_yaml_always_json(http, anon):
    ok = anon.post("/api/validate-yaml", json={"content": "---\nlicense: mit\n---\nhi", "repoType": "model"})
    assert ok.status_code == 200 and ok.json() == {"errors": [], "warnings": []}
    broken = anon.post("/api/validate-yaml", json={"content": "---\nlicense: [mit\n---\n", "repoType": "model"})
    assert broken.status_code == 400 and broken.json()["errors"] and broken.json()["warnings"] == []
    typed = anon.post("/api/validate-yaml", json={"content": "---\ntags: {a: 1}\n---\n", "repoType": "dataset"})
    assert typed.status_code == 400 and "tags" in typed.json()["errors"][0]["message"]
    garbage = anon.post("/api/validate-yaml", content=b"not json")
    assert garbage.status_code == 400 and set(garbage.json()) == {"errors", "warnings"}
    space = anon.post("/api/validate-yaml", json={"content": "---\nsdk: cobol\n---\n", "repoType": "space"})
    assert space.status_code == 400


def test_readme_upload_goes_through_validate_yaml(api, repo):
    import pytest
    with pytest.raises(ValueError, match="Invalid metadata"):
        api.upload_file(path_or_fileobj=b"---\nlicense: [oops\n---\n", path_in_repo="README.md", repo_id=repo)
    api.upload_file(path_or_fileobj=b"---\nlicense: apache-2.0\n---\n# ok\n", path_in_repo="README.md", repo_id=repo)
    assert api.model_info(repo).card_data["license"] == "apache-2.0"


def test_settings_and_gating(http, api, repo):
    resp = http.put(f"/api/models/{repo}/settings", json={"gated": "auto", "private": True})
    assert resp.status_code == 200, resp.text
    info = api.model_info(repo)
    assert info.private is True and info.gated == "auto"
    api.update_repo_settings(repo, gated=False, private=False)
    info = api.model_info(repo)
    assert info.private is False and info.gated is False


def test_unknown_routes_and_methods_carry_error_codes(http, repo):
    unknown = http.get(f"/api/models/{repo}/no-such-thing")
    assert unknown.status_code == 404 and unknown.headers["x-error-code"] and unknown.json()["error"]
    wrong_method = http.head(f"/api/models/{repo}/commit/main")
    assert wrong_method.status_code == 405 and wrong_method.headers["x-error-code"] == "MethodNotAllowed"
    info_head = http.head(f"/api/models/{repo}")
    assert info_head.status_code == 200 and info_head.headers["x-repo-commit"]


def test_auth_check(endpoint, api, user, repo):
    from huggingface_hub import HfApi
    from huggingface_hub.utils import HfHubHTTPError
    api.auth_check(repo)
    api.auth_check(repo, write=True)
    reader = HfApi(endpoint=endpoint, token=user.read_token)
    reader.auth_check(repo)
    import pytest
    with pytest.raises(HfHubHTTPError) as denied:
        reader.auth_check(repo, write=True)
    assert denied.value.response.status_code == 403

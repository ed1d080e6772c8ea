"""Bad input to the repo API: always a 4xx with X-Error-Code, never a 500, never a half-applied
change (the repo's sha is unchanged)."""
from __future__ import annotations

import base64
import http.client
import json

import pytest


def ndjson(*items) -> bytes:
    return b"".join(json.dumps(item).encode() + b"\n" for item in items)


HEADER = {"key": "header", "value": {"summary": "bad", "description": ""}}


def file_op(path: str, data: bytes = b"x") -> dict:
    return {"key": "file", "value": {"path": path, "content": base64.b64encode(data).decode(), "encoding": "base64"}}


def sha(http, repo: str) -> str:
    return http.get(f"/api/models/{repo}").json()["sha"]


def commit(http, repo: str, body: bytes, headers: dict | None = None, **kwargs):
    return http.post(f"/api/models/{repo}/commit/main", content=body,
                     headers={"Content-Type": "application/x-ndjson", **(headers or {})}, **kwargs)


def assert_refused(resp, status: int | tuple = 400, code: str | None = None):
    statuses = status if isinstance(status, tuple) else (status,)
    assert resp.status_code in statuses, (resp.status_code, resp.text)
    assert resp.headers.get("x-error-code"), resp.headers
    if code:
        assert resp.headers["x-error-code"] == code, resp.headers
    assert "error" in resp.json()


@pytest.mark.parametrize("name", ["bad--name", "bad..name", "-lead", "trail.", "sp ace", "a" * 97, "x.git",
                                  "slash/inside", "ünï"])
def test_invalid_repo_names(http, name):
    assert_refused(http.post("/api/repos/create", json={"name": name, "type": "model"}), code="InvalidRepoName")


@pytest.mark.parametrize("namespace", ["api", "models", "datasets", "spaces", "settings", "organizations"])
def test_reserved_namespaces(http, namespace):
    assert_refused(http.post("/api/repos/create", json={"name": "ok", "organization": namespace}),
                   code="InvalidRepoName")


def test_create_is_case_insensitively_unique(http, repo):
    ns, name = repo.split("/")
    resp = http.post("/api/repos/create", json={"name": name.upper(), "organization": ns})
    assert resp.status_code == 409 and resp.json()["url"].lower().endswith(f"/{repo}".lower()), resp.text


@pytest.mark.parametrize("path", ["../escape.txt", "a/../../b", "/abs.txt", "a\\b.txt", "nul\x00.txt", "a//b.txt",
                                  "./a.txt", "a/./b", "dir/", "", ".git/config", "a/\x01"])
def test_path_traversal_is_refused(http, repo, path):
    before = sha(http, repo)
    # 422 as the Hub answers invalid paths (README: which paths Hangar refuses and why)
    assert_refused(commit(http, repo, ndjson(HEADER, file_op(path))), status=422, code="InvalidPath")
    assert_refused(commit(http, repo, ndjson(HEADER, {"key": "deletedFile", "value": {"path": path or "/"}})),
                   status=422, code="InvalidPath")
    assert sha(http, repo) == before


@pytest.mark.parametrize("name,body,code", [
    ("duplicate paths", ndjson(HEADER, file_op("a.txt"), file_op("a.txt", b"y")), "DuplicatePath"),
    ("malformed json", ndjson(HEADER, file_op("ok.txt")) + b'{"key": "file", "value": {\n', "InvalidNDJSON"),
    ("malformed base64", ndjson(HEADER, {"key": "file", "value": {"path": "b.txt", "content": "%%%not-b64",
                                                                  "encoding": "base64"}}), "InvalidBase64"),
    ("unknown op key", ndjson(HEADER, file_op("ok.txt"), {"key": "renameFile", "value": {"path": "x"}}),
     "UnknownOperation"),
    ("unknown field", ndjson(HEADER, {"key": "file", "value": {"path": "c.txt", "content": "", "mode": "755"}}),
     "UnknownField"),
    ("missing header", ndjson(file_op("d.txt")), "MissingHeader"),
    ("empty body", b"", "MissingHeader"),
    ("two headers", ndjson(HEADER, file_op("e.txt"), HEADER), "InvalidNDJSON"),
    ("bad parent", ndjson({"key": "header", "value": {"summary": "x", "parentCommit": "abc"}}), "InvalidParentCommit"),
    ("bad lfs oid", ndjson(HEADER, {"key": "lfsFile", "value": {"path": "f.bin", "algo": "sha256", "oid": "zz",
                                                                 "size": 3}}), "InvalidLfsFile"),
    ("not an object", ndjson(HEADER, ["file"]), "InvalidNDJSON"),
])
def test_malformed_commits_change_nothing(http, repo, name, body, code):
    before = sha(http, repo)
    assert_refused(commit(http, repo, body), code=code)
    assert sha(http, repo) == before, name


def test_unknown_lfs_object_is_refused(http, repo):
    before = sha(http, repo)
    body = ndjson(HEADER, file_op("fine.txt"), {"key": "lfsFile", "value": {
        "path": "big.bin", "algo": "sha256", "oid": "ab" * 32, "size": 123}})
    assert_refused(commit(http, repo, body), status=(400, 403, 404, 409, 422))
    assert sha(http, repo) == before


def declared_length_post(client, port: int, path: str, body: bytes, length: int):
    """POST announcing `length` bytes but sending only `body`: the gateway must refuse on the header
    alone. (Sent to the gateway's own port: Traefik keeps waiting for the announced body.)"""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.putrequest("POST", path)
    conn.putheader("Authorization", client.headers["authorization"])
    conn.putheader("Content-Type", "application/x-ndjson")
    conn.putheader("Content-Length", str(length))
    conn.endheaders(body)
    resp = conn.getresponse()
    resp.read()
    conn.close()
    return resp


def test_oversized_line_and_body(http, stack, repo):
    before = sha(http, repo)
    huge = ndjson(HEADER, file_op("huge.bin", b"\0" * (15 * 1024 * 1024)))  # beyond the 10 MiB inline limit
    assert_refused(commit(http, repo, huge), status=413, code="PayloadTooLarge")
    declared = declared_length_post(http, stack.service_ports["gateway"]["http"], f"/api/models/{repo}/commit/main",
                                    ndjson(HEADER), 64 * 1024 ** 3)
    assert declared.status == 413 and declared.getheader("x-error-code") == "PayloadTooLarge"
    assert sha(http, repo) == before


def test_stale_parent_is_a_conflict(http, api, repo):
    parent = sha(http, repo)
    api.upload_file(path_or_fileobj=b"1", path_in_repo="one.txt", repo_id=repo)
    moved = sha(http, repo)
    stale = ndjson({"key": "header", "value": {"summary": "stale", "parentCommit": parent}}, file_op("two.txt"))
    assert_refused(commit(http, repo, stale), status=412, code="ParentCommitMismatch")
    assert sha(http, repo) == moved


def test_writes_need_write_access(anon, endpoint, user, make_user, repo):
    stranger = make_user()
    body = ndjson(HEADER, file_op("x.txt"))
    assert_refused(anon.post(f"/api/models/{repo}/commit/main", content=body), status=401)
    as_stranger = anon.post(f"/api/models/{repo}/commit/main", content=body,
                            headers={"Authorization": f"Bearer {stranger.token}"})
    assert_refused(as_stranger, status=403)
    read_only = anon.post(f"/api/models/{repo}/commit/main", content=body,
                          headers={"Authorization": f"Bearer {user.read_token}"})
    assert_refused(read_only, status=403)
    assert_refused(anon.request("DELETE", "/api/repos/delete", json={"name": repo.split("/")[1],
                                                          "organization": repo.split("/")[0]},
                               headers={"Authorization": f"Bearer {stranger.token}"}), status=(403, 404))


def test_bad_json_bodies(http, repo):
    assert_refused(http.post("/api/repos/create", content=b"{nope"), code="InvalidJSON")
    assert_refused(http.post(f"/api/models/{repo}/preupload/main", json={"files": "x"}))
    assert_refused(http.post(f"/api/models/{repo}/preupload/main",
                             json={"files": [{"path": "a", "size": 1, "sample": "!!"}]}), code="InvalidBase64")
    assert_refused(http.post(f"/api/models/{repo}/tag/main", json={"message": "no tag"}))
    assert_refused(http.put(f"/api/models/{repo}/settings", json={"gated": "sometimes"}))


def test_branch_named_head_refused_tag_named_branch_allowed(http, api, repo):
    """`HEAD` is no branch name (git refuses it; the revision `HEAD` would mean two things); a branch
    named like an existing tag is fine, as on the Hub."""
    before = sha(http, repo)
    assert_refused(http.post(f"/api/models/{repo}/branch/HEAD", json={}), code="InvalidRefName")
    assert [b.name for b in api.list_repo_refs(repo).branches] == ["main"]
    api.create_tag(repo, tag="v1")
    api.create_branch(repo, branch="v1")
    api.create_branch(repo, branch="head")  # only the exact name is git's
    refs = api.list_repo_refs(repo)
    assert sorted(b.name for b in refs.branches) == ["head", "main", "v1"]
    assert [t.name for t in refs.tags] == ["v1"]
    assert sha(http, repo) == before

"""The Git LFS batch API with a plain HTTP client and presigned S3 transfers (git-lfs docs/api/batch.md)."""
from __future__ import annotations

import hashlib

import httpx

from .lfsutil import LFS_HEADERS, batch, batch_url, bearer, create_repo, payload, upload_basic

MiB = 1024 * 1024


def test_basic_upload_lands_at_its_own_key_then_verified_object_downloads(endpoint, user, s3):
    repo = create_repo(endpoint, user.token, private=True)
    data, oid = payload(1 * MiB)
    resp = batch(endpoint, repo, "upload", [(oid, len(data))], headers=bearer(user.token))
    assert resp.status_code == 200
    assert resp.headers["content-type"].startswith("application/vnd.git-lfs+json")
    answer = resp.json()
    assert answer["transfer"] == "basic"
    actions = answer["objects"][0]["actions"]
    href = actions["upload"]["href"]
    assert f"/{s3.canonical(oid)}." in href and "uploadId=" in href  # part 1 of the attempt's own key
    assert httpx.put(actions["upload"]["href"], content=data).status_code == 200
    down = batch(endpoint, repo, "download", [(oid, len(data))], headers=bearer(user.token)).json()
    assert down["objects"][0]["error"]["code"] == 404  # nothing usable under the oid before verification
    verify = httpx.post(actions["verify"]["href"], json={"oid": oid, "size": len(data)}, headers=LFS_HEADERS)
    assert verify.status_code == 200, verify.text
    assert len(s3.object_keys(oid)) == 1 and s3.keys(f"lfs-staging/{oid}/") == []
    # The server sealed the upload before reading it: the URL can no longer replace what was hashed.
    assert httpx.put(actions["upload"]["href"], content=b"other bytes").status_code == 404
    down = batch(endpoint, repo, "download", [(oid, len(data))], headers=bearer(user.token)).json()
    href = down["objects"][0]["actions"]["download"]["href"]
    assert httpx.get(href).content == data


def test_put_of_other_bytes_than_announced_is_refused_and_discarded(endpoint, user, s3):
    repo = create_repo(endpoint, user.token)
    data, oid = payload(MiB)
    other, _ = payload(MiB)
    resp = upload_basic(endpoint, repo, other, oid, user.token)  # announces oid, PUTs other bytes
    assert resp.status_code == 422 and resp.headers["x-error-code"] == "HashMismatch"
    assert not s3.has(oid)
    down = batch(endpoint, repo, "download", [(oid, MiB)], headers=bearer(user.token)).json()
    assert down["objects"][0]["error"]["code"] == 404
    # The right bytes are then accepted.
    assert upload_basic(endpoint, repo, data, oid, user.token).status_code == 200


def test_truncated_upload_is_refused(endpoint, user, s3):
    repo = create_repo(endpoint, user.token)
    data, oid = payload(MiB)
    obj = batch(endpoint, repo, "upload", [(oid, len(data))], headers=bearer(user.token)).json()["objects"][0]
    assert httpx.put(obj["actions"]["upload"]["href"], content=data[:-1]).status_code == 200
    verify = httpx.post(obj["actions"]["verify"]["href"], json={"oid": oid, "size": len(data)})
    assert verify.status_code == 422 and verify.headers["x-error-code"] == "SizeMismatch"
    again = httpx.post(obj["actions"]["verify"]["href"], json={"oid": oid, "size": len(data)})
    assert again.status_code == 422 and again.headers["x-error-code"] == "UploadRejected"
    assert not s3.has(oid)


def test_verify_before_the_put_is_refused_without_burning_the_upload(endpoint, user):
    repo = create_repo(endpoint, user.token)
    data, oid = payload(MiB)
    obj = batch(endpoint, repo, "upload", [(oid, len(data))], headers=bearer(user.token)).json()["objects"][0]
    early = httpx.post(obj["actions"]["verify"]["href"], json={"oid": oid, "size": len(data)})
    assert early.status_code == 422 and early.headers["x-error-code"] == "UploadMissing"
    assert httpx.put(obj["actions"]["upload"]["href"], content=data).status_code == 200
    assert httpx.post(obj["actions"]["verify"]["href"], json={"oid": oid, "size": len(data)}).status_code == 200


def test_tampered_verify_token_is_refused(endpoint, user):
    repo = create_repo(endpoint, user.token)
    data, oid = payload(MiB)
    obj = batch(endpoint, repo, "upload", [(oid, len(data))], headers=bearer(user.token)).json()["objects"][0]
    httpx.put(obj["actions"]["upload"]["href"], content=data)
    href = obj["actions"]["verify"]["href"]
    tampered = href[:-1] + ("0" if href[-1] != "0" else "1")
    resp = httpx.post(tampered, json={"oid": oid, "size": len(data)}, headers=bearer(user.token))
    assert resp.status_code == 403 and resp.headers["x-error-code"] == "InvalidUploadToken"


def test_anonymous_requests_for_private_or_missing_repos_get_the_same_challenge(endpoint, user, other_user):
    private = create_repo(endpoint, user.token, private=True)
    oid = hashlib.sha256(b"x").hexdigest()
    answers = [batch(endpoint, repo, "download", [(oid, 1)]) for repo in (private, f"{user.name}/does-not-exist")]
    for resp in answers:
        assert resp.status_code == 401
        assert resp.headers["www-authenticate"] == 'Basic realm="Hangar"'
        assert resp.headers["x-error-code"] == "RepoNotFound"
    assert answers[0].json()["message"] == answers[1].json()["message"]
    signed_in = batch(endpoint, private, "download", [(oid, 1)], headers=bearer(other_user.token))
    assert signed_in.status_code == 404 and signed_in.headers["x-error-code"] == "RepoNotFound"
    bad = batch(endpoint, private, "download", [(oid, 1)], headers=bearer("hf_" + "x" * 30))
    assert bad.status_code == 401


def test_upload_needs_write_access(endpoint, user, other_user):
    public = create_repo(endpoint, user.token)
    oid = hashlib.sha256(b"y").hexdigest()
    anonymous = batch(endpoint, public, "upload", [(oid, 1)])
    assert anonymous.status_code == 401 and "www-authenticate" in anonymous.headers
    # the repo is visible: git-lfs is asked for credentials, the repo is not pretended missing
    assert anonymous.headers["x-error-code"] == "Unauthorized"
    assert anonymous.headers["content-type"] == "application/vnd.git-lfs+json"
    # for a branch, write access is needed; without a ref (huggingface_hub's create_pr uploads) a
    # non-member gets the bounded contributor right instead (tests/prs/test_contributor_uploads.py)
    for_branch = {"operation": "upload", "objects": [{"oid": oid, "size": 1}], "ref": {"name": "refs/heads/main"}}
    resp = httpx.post(batch_url(endpoint, public), json=for_branch, headers={**LFS_HEADERS, **bearer(other_user.token)})
    assert resp.status_code == 403
    assert batch(endpoint, public, "upload", [(oid, 1)], headers=bearer(user.read_token)).status_code == 403
    assert batch(endpoint, public, "download", [(oid, 1)]).status_code == 200  # public: anyone reads


def test_bad_objects_get_per_object_errors_and_bad_requests_4xx(endpoint, user):
    repo = create_repo(endpoint, user.token)
    good = hashlib.sha256(b"z").hexdigest()
    resp = batch(endpoint, repo, "upload", [("not-a-sha", 1), (good, -5), (good.upper(), 1)],
                 headers=bearer(user.token))
    assert resp.status_code == 200
    assert [o["error"]["code"] for o in resp.json()["objects"]] == [422, 422, 422]
    url = f"{endpoint}/{repo}.git/info/lfs/objects/batch"
    headers = {**LFS_HEADERS, **bearer(user.token)}
    assert httpx.post(url, content=b"{nope", headers=headers).status_code == 422
    wrong_op = httpx.post(url, json={"operation": "delete", "objects": []}, headers=headers)
    assert wrong_op.status_code == 422 and wrong_op.headers["x-error-code"]
    algo = httpx.post(url, json={"operation": "upload", "objects": [], "hash_algo": "md5"}, headers=headers)
    assert algo.status_code == 409


def test_datasets_and_spaces_have_their_own_batch_urls(endpoint, user):
    repo = create_repo(endpoint, user.token, repo_type="dataset")
    data, oid = payload(1000)
    resp = batch(endpoint, repo, "upload", [(oid, len(data))], headers=bearer(user.token), repo_type="dataset")
    assert resp.status_code == 200 and "actions" in resp.json()["objects"][0]
    assert batch(endpoint, repo, "upload", [(oid, 1000)], headers=bearer(user.token)).status_code == 404


def test_paths_and_methods_no_lfs_endpoint_takes_are_lfs_404s(endpoint, user):
    """Only the declared endpoints answer under .../info/lfs/; anything else is a 404 in the LFS API's
    own shape (git-lfs shows `message`), for every repository type and whatever the method."""
    repo = create_repo(endpoint, user.token)
    dataset = create_repo(endpoint, user.token, repo_type="dataset")
    for method, url in (("GET", batch_url(endpoint, repo)), ("PUT", f"{endpoint}/{repo}.git/info/lfs/locks"),
                        ("POST", f"{endpoint}/{repo}.git/info/lfs/objects/nothing"),
                        ("GET", f"{endpoint}/datasets/{dataset}.git/info/lfs/locks/x/unlock")):
        resp = httpx.request(method, url, headers={**LFS_HEADERS, **bearer(user.token)})
        assert resp.status_code == 404, (method, url, resp.text)
        assert resp.headers["content-type"] == "application/vnd.git-lfs+json"
        assert resp.headers["x-error-code"] == "NotFound" and resp.json()["message"]
    locks = httpx.get(f"{endpoint}/datasets/{dataset}.git/info/lfs/locks",
                      headers={**LFS_HEADERS, **bearer(user.token)})
    assert locks.status_code == 200 and locks.json()["locks"] == []

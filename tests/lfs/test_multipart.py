"""Hugging Face's multipart transfer as huggingface_hub's lfs.py drives it: numbered part URLs in
`actions.upload.header`, then a completion POST without Authorization to `actions.upload.href`."""
from __future__ import annotations

import hashlib
import math

import httpx

from .lfsutil import LFS_HEADERS, batch, bearer, create_repo, payload

MiB = 1024 * 1024


def _parts(obj) -> tuple[int, list[str]]:
    header = obj["actions"]["upload"]["header"]
    numbered = sorted((k, v) for k, v in header.items() if k.isdigit())
    assert [k for k, _ in numbered] == [f"{i:05d}" for i in range(1, len(numbered) + 1)]
    return int(header["chunk_size"]), [v for _, v in numbered]


def _put_parts(data: bytes, chunk: int, urls: list[str]) -> list[dict]:
    parts = []
    for number, url in enumerate(urls, start=1):
        resp = httpx.put(url, content=data[(number - 1) * chunk:number * chunk], timeout=120)
        assert resp.status_code == 200, resp.text
        parts.append({"partNumber": number, "etag": resp.headers["etag"]})
    return parts


def test_multipart_upload_completes_without_authorization_and_tampered_token_fails(endpoint, user, s3):
    repo = create_repo(endpoint, user.token, private=True)
    data, oid = payload(70 * MiB)
    resp = batch(endpoint, repo, "upload", [(oid, len(data))], headers=bearer(user.token),
                 transfers=("basic", "multipart"))
    answer = resp.json()
    assert answer["transfer"] == "multipart"
    obj = answer["objects"][0]
    chunk, urls = _parts(obj)
    assert chunk >= 5 * MiB and chunk >= len(data) / 10_000
    assert len(urls) == math.ceil(len(data) / chunk)
    parts = _put_parts(data, chunk, urls)
    href = obj["actions"]["upload"]["href"]
    tampered = href.replace("token=", "token=1")
    refused = httpx.post(tampered, json={"oid": oid, "parts": parts}, headers=LFS_HEADERS)
    assert refused.status_code == 403 and not s3.has(oid)
    done = httpx.post(href, json={"oid": oid, "parts": parts}, headers=LFS_HEADERS, timeout=300)
    assert done.status_code == 200, done.text
    assert len(s3.object_keys(oid)) == 1
    verify = obj["actions"]["verify"]
    assert httpx.post(verify["href"], json={"oid": oid, "size": len(data)}).status_code == 200
    down = batch(endpoint, repo, "download", [(oid, len(data))], headers=bearer(user.token)).json()
    got = httpx.get(down["objects"][0]["actions"]["download"]["href"], timeout=120)
    assert hashlib.sha256(got.content).hexdigest() == oid


def test_multipart_of_wrong_bytes_is_refused_at_completion(endpoint, user, s3):
    repo = create_repo(endpoint, user.token)
    data, oid = payload(70 * MiB)
    obj = batch(endpoint, repo, "upload", [(oid, len(data))], headers=bearer(user.token),
                transfers=("basic", "multipart")).json()["objects"][0]
    chunk, urls = _parts(obj)
    corrupted = data[:-1] + bytes([data[-1] ^ 1])
    parts = _put_parts(corrupted, chunk, urls)
    done = httpx.post(obj["actions"]["upload"]["href"], json={"oid": oid, "parts": parts}, timeout=300)
    assert done.status_code == 422 and done.headers["x-error-code"] == "HashMismatch"
    assert not s3.has(oid)  # the refused bytes were deleted
    pending = s3.client._list_multipart_uploads(s3.bucket, prefix=s3.canonical(oid)).uploads
    assert not pending


def test_completion_validates_parts(endpoint, user):
    repo = create_repo(endpoint, user.token)
    data, oid = payload(70 * MiB)
    obj = batch(endpoint, repo, "upload", [(oid, len(data))], headers=bearer(user.token),
                transfers=("basic", "multipart")).json()["objects"][0]
    href = obj["actions"]["upload"]["href"]
    assert httpx.post(href, json={"oid": oid, "parts": []}).status_code == 422
    assert httpx.post(href, json={"oid": "0" * 64, "parts": []}).status_code == 404
    assert httpx.post(href, content=b"not json").status_code == 422


def test_small_objects_stay_basic_and_clients_without_multipart_get_basic(endpoint, user):
    repo = create_repo(endpoint, user.token)
    small, small_oid = payload(MiB)
    resp = batch(endpoint, repo, "upload", [(small_oid, len(small)), ("ab" * 32, 80 * MiB)],
                 headers=bearer(user.token), transfers=("basic", "multipart")).json()
    assert "chunk_size" not in resp["objects"][0]["actions"]["upload"].get("header", {})
    assert "chunk_size" in resp["objects"][1]["actions"]["upload"]["header"]
    basic_only = batch(endpoint, repo, "upload", [("cd" * 32, 80 * MiB)], headers=bearer(user.token)).json()
    assert basic_only["transfer"] == "basic"
    assert "chunk_size" not in basic_only["objects"][0]["actions"]["upload"].get("header", {})
    huge = batch(endpoint, repo, "upload", [("ef" * 32, 6 * 1024 * MiB)], headers=bearer(user.token)).json()
    assert huge["objects"][0]["error"]["code"] == 422  # over S3's single-PUT limit: multipart only
    huge_mp = batch(endpoint, repo, "upload", [("ef" * 32, 60 * 1024 ** 3)], headers=bearer(user.token),
                    transfers=("basic", "multipart")).json()["objects"][0]
    chunk, urls = _parts(huge_mp)
    assert chunk >= 60 * 1024 ** 3 / 10_000 and len(urls) <= 10_000

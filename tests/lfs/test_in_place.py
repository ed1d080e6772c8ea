"""Verified objects stay where the client uploaded them (docs/storage.md, "LFS objects in place").

That is safe only because no URL the client was given can write the key once the server read it:
every one of them is tried here against a verified object, for both transfers, and the object must
still hold the bytes that were hashed. Also: an existing object is never replaced by a later upload
of the same oid, and the sweeper of old upload rows never deletes an upload that became an object.
"""
from __future__ import annotations

import hashlib
from urllib.parse import unquote, urlsplit

import httpx

from hangar_protos import lfs_pb2

from .gcutil import run_gc
from .lfsutil import LFS_HEADERS, batch, bearer, create_repo, payload
from .test_multipart import _parts, _put_parts

MiB = 1024 * 1024


def _key_of(href: str, bucket: str) -> str:
    """The S3 key a presigned path-style URL addresses."""
    path = unquote(urlsplit(href).path).lstrip("/")
    assert path.startswith(f"{bucket}/")
    return path[len(bucket) + 1:]


def _location(lfs_grpc, oid: str) -> str:
    locations = lfs_grpc.ObjectLocations(lfs_pb2.ObjectLocationsRequest(oids=[oid])).locations
    assert [loc.oid for loc in locations] == [oid]
    return locations[0].key


def _downloaded(endpoint: str, repo: str, oid: str, size: int, token: str) -> bytes:
    down = batch(endpoint, repo, "download", [(oid, size)], headers=bearer(token)).json()
    return httpx.get(down["objects"][0]["actions"]["download"]["href"], timeout=120).content


def _attack(urls: list[str], complete: tuple[str, dict] | None, verify: tuple[str, dict]) -> None:
    """Use every URL the client was given again, with other bytes: part/PUT URLs are dead
    (NoSuchUpload); our completion and verification URLs change nothing."""
    for url in urls:
        resp = httpx.put(url, content=b"replacement bytes " * 1000, timeout=60)
        assert resp.status_code == 404 and "NoSuchUpload" in resp.text, (resp.status_code, resp.text)
    if complete is not None:
        assert httpx.post(complete[0], json=complete[1], headers=LFS_HEADERS, timeout=120).status_code == 200
    assert httpx.post(verify[0], json=verify[1], headers=LFS_HEADERS, timeout=120).status_code == 200


def test_basic_upload_is_used_where_it_lies_and_its_url_cannot_write_it(endpoint, user, s3, lfs_grpc):
    repo = create_repo(endpoint, user.token)
    data, oid = payload(2 * MiB)
    obj = batch(endpoint, repo, "upload", [(oid, len(data))], headers=bearer(user.token)).json()["objects"][0]
    upload, verify = obj["actions"]["upload"]["href"], obj["actions"]["verify"]["href"]
    assert httpx.put(upload, content=data).status_code == 200
    assert not lfs_grpc.ObjectLocations(lfs_pb2.ObjectLocationsRequest(oids=[oid])).locations  # not yet hashed
    assert httpx.post(verify, json={"oid": oid, "size": len(data)}, headers=LFS_HEADERS).status_code == 200
    key = _location(lfs_grpc, oid)
    assert key == _key_of(upload, s3.bucket)  # no server-side copy: the uploaded key is the object
    assert s3.object_keys(oid) == [key]
    _attack([upload], None, (verify, {"oid": oid, "size": len(data)}))
    assert s3.read(key) == data
    assert _downloaded(endpoint, repo, oid, len(data), user.token) == data


def test_multipart_upload_is_used_where_it_lies_and_no_part_url_can_write_it(endpoint, user, s3, lfs_grpc):
    repo = create_repo(endpoint, user.token)
    data, oid = payload(70 * MiB)
    obj = batch(endpoint, repo, "upload", [(oid, len(data))], headers=bearer(user.token),
                transfers=("basic", "multipart")).json()["objects"][0]
    chunk, urls = _parts(obj)
    assert len(urls) > 1  # above the 64 MiB multipart threshold: several 16 MiB parts
    parts = _put_parts(data, chunk, urls)
    done = httpx.post(obj["actions"]["upload"]["href"], json={"oid": oid, "parts": parts}, timeout=120)
    assert done.status_code == 200, done.text
    key = _location(lfs_grpc, oid)
    assert key == _key_of(urls[0], s3.bucket) and s3.object_keys(oid) == [key]
    _attack(urls, (obj["actions"]["upload"]["href"], {"oid": oid, "parts": parts}),
            (obj["actions"]["verify"]["href"], {"oid": oid, "size": len(data)}))
    assert hashlib.sha256(s3.read(key)).hexdigest() == oid
    assert _downloaded(endpoint, repo, oid, len(data), user.token) == data


def test_a_second_upload_of_an_oid_never_replaces_the_object(endpoint, user, other_user, s3, lfs_grpc):
    data, oid = payload(MiB)
    first = create_repo(endpoint, user.token, private=True)
    one = batch(endpoint, first, "upload", [(oid, len(data))], headers=bearer(user.token)).json()["objects"][0]
    assert httpx.put(one["actions"]["upload"]["href"], content=data).status_code == 200
    assert httpx.post(one["actions"]["verify"]["href"], json={"oid": oid, "size": len(data)}).status_code == 200
    key = _location(lfs_grpc, oid)
    # Someone who cannot see the first repo must send the bytes (proof of possession): own key.
    theirs = create_repo(endpoint, other_user.token)
    two = batch(endpoint, theirs, "upload", [(oid, len(data))],
                headers=bearer(other_user.token)).json()["objects"][0]
    assert _key_of(two["actions"]["upload"]["href"], s3.bucket) != key
    assert httpx.put(two["actions"]["upload"]["href"], content=data).status_code == 200
    assert httpx.post(two["actions"]["verify"]["href"], json={"oid": oid, "size": len(data)}).status_code == 200
    assert _location(lfs_grpc, oid) == key and s3.object_keys(oid) == [key]  # the duplicate was dropped
    _attack([one["actions"]["upload"]["href"], two["actions"]["upload"]["href"]], None,
            (two["actions"]["verify"]["href"], {"oid": oid, "size": len(data)}))
    assert s3.read(key) == data
    assert _downloaded(endpoint, theirs, oid, len(data), other_user.token) == data


def test_sweeping_old_upload_rows_keeps_uploads_that_became_objects(stack, endpoint, user, s3, lfs_grpc):
    repo = create_repo(endpoint, user.token)
    data, oid = payload(MiB)
    obj = batch(endpoint, repo, "upload", [(oid, len(data))], headers=bearer(user.token)).json()["objects"][0]
    assert httpx.put(obj["actions"]["upload"]["href"], content=data).status_code == 200
    assert httpx.post(obj["actions"]["verify"]["href"], json={"oid": oid, "size": len(data)}).status_code == 200
    key = _location(lfs_grpc, oid)
    run_gc(stack, "--grace", "3600", "--staging-ttl", "0")  # every upload row is past its TTL now
    assert s3.object_keys(oid) == [key] and s3.read(key) == data
    assert _downloaded(endpoint, repo, oid, len(data), user.token) == data

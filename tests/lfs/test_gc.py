"""Garbage collection: unreferenced objects past the grace period, abandoned uploads after a TTL."""
from __future__ import annotations

import io

import httpx

from .gcutil import run_gc
from .lfsutil import batch, bearer, create_repo, payload, upload_basic

MiB = 1024 * 1024


def test_dry_run_reports_and_collection_deletes_an_unreferenced_object(stack, endpoint, user, s3):
    repo = create_repo(endpoint, user.token)
    data, oid = payload(5000)
    assert upload_basic(endpoint, repo, data, oid, user.token).status_code == 200
    kept = run_gc(stack, "--grace", "3600")
    assert oid not in kept["oids"] and s3.has(oid)  # inside the grace period
    dry = run_gc(stack, "--dry-run", "--grace", "0")
    assert oid in dry["oids"] and s3.has(oid)
    done = run_gc(stack, "--grace", "0")
    assert oid in done["oids"] and not s3.has(oid)
    again = batch(endpoint, repo, "upload", [(oid, len(data))], headers=bearer(user.token)).json()
    assert "actions" in again["objects"][0]  # gone: the bytes are asked for again
    down = batch(endpoint, repo, "download", [(oid, len(data))], headers=bearer(user.token)).json()
    assert down["objects"][0]["error"]["code"] == 404


def test_abandoned_uploads_are_aborted_and_staging_objects_removed(stack, endpoint, user, s3):
    repo = create_repo(endpoint, user.token)
    data, oid = payload(MiB)
    basic = batch(endpoint, repo, "upload", [(oid, len(data))], headers=bearer(user.token)).json()["objects"][0]
    assert httpx.put(basic["actions"]["upload"]["href"], content=data).status_code == 200
    big_oid = "7" * 64
    multi = batch(endpoint, repo, "upload", [(big_oid, 80 * MiB)], headers=bearer(user.token),
                  transfers=("basic", "multipart")).json()["objects"][0]
    leftover = f"lfs-staging/{'6' * 64}/crashed"  # a staging object no upload row tracks any more
    s3.client.put_object(s3.bucket, leftover, io.BytesIO(b"x"), 1)
    kept = run_gc(stack, "--grace", "3600")  # default TTL: fresh uploads stay
    assert kept["multipart_aborted"] == 0 and s3.keys(leftover)
    report = run_gc(stack, "--grace", "3600", "--staging-ttl", "0")
    assert report["multipart_aborted"] >= 2 and report["staging_removed"] >= 1 and not s3.keys(leftover)
    for url in (basic["actions"]["upload"]["href"], multi["actions"]["upload"]["header"]["00001"]):
        assert httpx.put(url, content=b"x" * 10).status_code == 404  # NoSuchUpload: aborted
    late = httpx.post(basic["actions"]["verify"]["href"], json={"oid": oid, "size": len(data)})
    assert late.status_code == 404 and not s3.has(oid)

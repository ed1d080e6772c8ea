"""Presigned URLs: signed for S3's public origin, with a lifetime, and DownloadUrl for resolve."""
from __future__ import annotations

import time
from urllib.parse import urlsplit

import grpc
import httpx
import pytest

from hangar_protos import lfs_pb2
from services.lfs import signing  # the token format, signed here with the stack's secret

from .lfsutil import batch, bearer, create_repo, payload, upload_basic


def test_download_url_is_on_s3_origin_with_content_disposition(stack, endpoint, user, lfs_grpc):
    repo = create_repo(endpoint, user.token)
    data, oid = payload(3000)
    assert upload_basic(endpoint, repo, data, oid, user.token).status_code == 200
    url = lfs_grpc.DownloadUrl(lfs_pb2.DownloadUrlRequest(oid=oid, size=len(data), filename="wéights.bin")).url
    assert urlsplit(url).netloc == urlsplit(stack.env["HANGAR_S3_PUBLIC_URL"]).netloc != urlsplit(endpoint).netloc
    resp = httpx.get(url)
    assert resp.content == data
    assert "attachment" in resp.headers["content-disposition"]
    ranged = httpx.get(url, headers={"Range": "bytes=10-19"})
    assert ranged.status_code == 206 and ranged.content == data[10:20]


def test_expired_url_fails(endpoint, user, lfs_grpc):
    repo = create_repo(endpoint, user.token)
    data, oid = payload(3000)
    assert upload_basic(endpoint, repo, data, oid, user.token).status_code == 200
    url = lfs_grpc.DownloadUrl(lfs_pb2.DownloadUrlRequest(oid=oid, size=len(data), expires_seconds=1)).url
    time.sleep(2.5)
    assert httpx.get(url).status_code == 403


def test_expired_upload_token_fails(stack, endpoint, user):
    repo = create_repo(endpoint, user.token)
    data, oid = payload(1000)
    obj = batch(endpoint, repo, "upload", [(oid, len(data))], headers=bearer(user.token)).json()["objects"][0]
    httpx.put(obj["actions"]["upload"]["href"], content=data)
    href = obj["actions"]["verify"]["href"]
    upload_id = href.split("/uploads/")[1].split("/")[0]
    expired = signing.sign(stack.env["HANGAR_SECRET_KEY"], upload_id, "verify", int(time.time()) - 10)
    resp = httpx.post(href.split("?")[0] + f"?token={expired}", json={"oid": oid, "size": len(data)})
    assert resp.status_code == 403
    assert httpx.post(href, json={"oid": oid, "size": len(data)}).status_code == 200


def test_download_url_of_an_unknown_object_is_not_found(lfs_grpc):
    with pytest.raises(grpc.RpcError) as info:
        lfs_grpc.DownloadUrl(lfs_pb2.DownloadUrlRequest(oid="1" * 64))
    assert info.value.code() == grpc.StatusCode.NOT_FOUND
    with pytest.raises(grpc.RpcError) as info:
        lfs_grpc.DownloadUrl(lfs_pb2.DownloadUrlRequest(oid="../../etc"))
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT


def test_objects_uploaded_through_lfs_have_no_xet_hash(endpoint, user, lfs_grpc):
    repo = create_repo(endpoint, user.token)
    data, oid = payload(1200)
    assert upload_basic(endpoint, repo, data, oid, user.token).status_code == 200
    answer = lfs_grpc.XetHashes(lfs_pb2.XetHashesRequest(oids=[oid, "not-an-oid"]))
    assert dict(answer.xet_hashes) == {}

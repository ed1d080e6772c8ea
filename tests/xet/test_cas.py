"""The CAS API against the real client: hf_xet uploads xorbs and shards to the hub and downloads
by reconstruction; hostile uploads are refused with 4xx."""
from __future__ import annotations

import hashlib
import os

import httpx
import pytest

from services.lfs.xet import chunking, compression, hashing, shard, xorb


class _s3:
    """Direct S3 access to the stack's bucket (to check what the server stored)."""

    def __init__(self, stack) -> None:
        from minio import Minio
        env = stack.env
        self.client = Minio(env["HANGAR_S3_ENDPOINT"].split("://", 1)[1], access_key=env["HANGAR_S3_ACCESS_KEY"],
                            secret_key=env["HANGAR_S3_SECRET_KEY"], secure=False,
                            region=env.get("HANGAR_S3_REGION", "us-east-1"))
        self.bucket = env.get("HANGAR_S3_BUCKET", "hangar")

    def read(self, key: str) -> bytes:
        obj = self.client.get_object(self.bucket, key)
        try:
            return obj.read()
        finally:
            obj.close()
            obj.release_conn()

    def has(self, key: str) -> bool:
        return any(True for _ in self.client.list_objects(self.bucket, prefix=key))


def upload(session, cas_url, token, exp, *datas):
    with session.new_upload_commit(endpoint=cas_url, token=token, token_expiry_unix_secs=exp) as commit:
        handles = [commit.start_upload_bytes(d) for d in datas]
    return [h.result().xet_info for h in handles]


def download(session, cas_url, token, exp, info, dest):
    import hf_xet

    with session.new_file_download_group(endpoint=cas_url, token=token, token_expiry_unix_secs=exp) as group:
        group.start_download_file(hf_xet.XetFileInfo(info.hash, info.file_size), str(dest))
    return dest.read_bytes()


@pytest.mark.parametrize("size", [1, 100_000, 3_000_000])
def test_hf_xet_uploads_and_downloads_byte_exact(stack, cas_url, cas_token, xet_session, tmp_path, size):
    data = os.urandom(size)
    token, exp = cas_token("write")
    [info] = upload(xet_session, cas_url, token, exp, data)
    assert info.sha256 == hashlib.sha256(data).hexdigest()
    assert info.file_size == size
    assert download(xet_session, cas_url, token, exp, info, tmp_path / "out.bin") == data


def _object_key(stack, sha: str):
    from tests.xet.test_hub_client import _db_rows
    rows = _db_rows(stack, "SELECT key FROM objects WHERE oid = $1", sha)
    return rows[0]["key"] if rows else None


def test_upload_registers_a_verified_lfs_object(stack, cas_url, cas_token, xet_session):
    data = os.urandom(200_000)
    token, exp = cas_token("write")
    [info] = upload(xet_session, cas_url, token, exp, data)
    # The server rebuilt the bytes from the xorbs and hashed them: the LFS object of their sha256 is
    # the Xet file itself, with no second copy in S3.
    sha = hashlib.sha256(data).hexdigest()
    assert _object_key(stack, sha) == f"xet-file:{info.hash}"
    assert not _s3(stack).has(f"lfs/{sha[:2]}/{sha[2:4]}/{sha}")


def test_reconstruction_answers_ranges(stack, cas_url, cas_token, xet_session):
    data = os.urandom(600_000)
    token, exp = cas_token("write")
    [info] = upload(xet_session, cas_url, token, exp, data)
    headers = {"Authorization": f"Bearer {token}"}
    url = f"{cas_url}/v1/reconstructions/{info.hash}"
    for lo, hi in [(0, 599_999), (0, 0), (123_456, 400_000), (599_999, 599_999), (500_000, 10**9)]:
        r = httpx.get(url, headers={**headers, "Range": f"bytes={lo}-{hi}"})
        assert r.status_code == 200, r.text
        assert rebuild(r.json()) [: min(hi, 599_999) - lo + 1] == data[lo:hi + 1]
    r = httpx.get(url, headers={**headers, "Range": "bytes=600000-600001"})
    assert r.status_code == 416
    # Each URL is signed for its own byte range: no other part of the xorb can be fetched with it.
    [fetch] = next(iter(httpx.get(url, headers=headers).json()["fetch_info"].values()))
    wider = f"bytes=0-{fetch['url_range']['end'] + 1}"
    assert httpx.get(fetch["url"], headers={"Range": wider}).status_code == 403
    assert httpx.get(fetch["url"]).status_code == 403
    assert httpx.get(url.replace(info.hash, "0" * 64), headers=headers).status_code == 404
    v1 = httpx.get(url, headers={**headers, "Range": "bytes=100-200000"}).json()
    v2 = httpx.get(url.replace("/v1/", "/v2/"), headers={**headers, "Range": "bytes=100-200000"}).json()
    assert v2["terms"] == v1["terms"] and v2["offset_into_first_range"] == v1["offset_into_first_range"]
    assert [r["bytes"] for x in v2["xorbs"].values() for e in x for r in e["ranges"]] == \
        [f["url_range"] for x in v1["fetch_info"].values() for f in x]
    r = httpx.get(url.replace(info.hash, "XYZ"), headers=headers)
    assert r.status_code == 400 and r.headers["x-error-code"] == "BadHash"


def rebuild(answer) -> bytes:
    """What a client does with a V1 reconstruction: fetch url_range of each term, decode, trim."""
    out = bytearray()
    for term in answer["terms"]:
        fetch = next(f for f in answer["fetch_info"][term["hash"]]
                     if f["range"] == term["range"])
        span = fetch["url_range"]
        r = httpx.get(fetch["url"], headers={"Range": f"bytes={span['start']}-{span['end']}"})
        assert r.status_code == 206, r.text
        piece = b"".join(xorb.iter_chunks(r.content))
        assert len(piece) == term["unpacked_length"]
        out += piece
    return bytes(out[answer["offset_into_first_range"]:])


def test_tokens_are_required_scoped_and_unforgeable(stack, cas_url, cas_token):
    body, info = xorb.build_xorb([os.urandom(1000)])
    url = f"{cas_url}/v1/xorbs/default/{hashing.hash_hex(info.hash)}"
    assert httpx.post(url, content=body).status_code == 401
    assert httpx.post(url, content=body, headers={"Authorization": "Bearer xet1.e30.AAAA"}).status_code == 401
    read, _ = cas_token("read")
    r = httpx.post(url, content=body, headers={"Authorization": f"Bearer {read}"})
    assert r.status_code == 403
    expired, _ = cas_token("write", ttl=-10)
    assert httpx.post(url, content=body, headers={"Authorization": f"Bearer {expired}"}).status_code == 401
    from services.lfs.xet import tokens
    forged, _ = tokens.mint("not-the-secret", repo_id="x", user_id="u", scope="write")
    assert httpx.post(url, content=body, headers={"Authorization": f"Bearer {forged}"}).status_code == 401


def test_corrupted_or_misnamed_xorb_is_refused(stack, cas_url, cas_token):
    token, _ = cas_token("write")
    auth = {"Authorization": f"Bearer {token}"}
    pieces = chunking.chunks(os.urandom(200_000))
    body, info = xorb.build_xorb(pieces, compression.Scheme.LZ4)
    name = hashing.hash_hex(info.hash)
    corrupt = bytearray(body)
    corrupt[len(corrupt) // 2] ^= 0xFF
    r = httpx.post(f"{cas_url}/v1/xorbs/default/{name}", content=bytes(corrupt), headers=auth)
    assert r.status_code == 400 and r.headers["x-error-code"] == "InvalidXorb"
    other = hashing.hash_hex(hashing.chunk_hash(b"something else"))
    r = httpx.post(f"{cas_url}/v1/xorbs/default/{other}", content=body, headers=auth)
    assert r.status_code == 400 and r.headers["x-error-code"] == "InvalidXorb"
    r = httpx.post(f"{cas_url}/v1/xorbs/other-prefix/{name}", content=body, headers=auth)
    assert r.status_code == 400
    r = httpx.post(f"{cas_url}/v1/xorbs/default/{name}", content=body, headers=auth)
    assert r.status_code == 200 and r.json() == {"was_inserted": True}
    r = httpx.post(f"{cas_url}/v1/xorbs/default/{name}", content=body, headers=auth)
    assert r.json() == {"was_inserted": False}


def test_oversized_xorb_is_refused_before_reading_it(stack, cas_url, cas_token):
    import http.client
    from urllib.parse import urlsplit

    token, _ = cas_token("write")
    name = hashing.hash_hex(hashing.chunk_hash(b"big"))
    # Straight to the lfs service: Traefik relays a response only once the request body went through.
    conn = http.client.HTTPConnection("127.0.0.1", stack.service_ports["lfs"]["http"], timeout=30)
    conn.putrequest("POST", f"{urlsplit(cas_url).path}/v1/xorbs/default/{name}")
    conn.putheader("Authorization", f"Bearer {token}")
    conn.putheader("Content-Length", str(xorb.MAX_XORB_BYTES + 1))
    conn.endheaders()   # the body never comes: the declared size alone is refused
    response = conn.getresponse()
    assert response.status == 413
    assert response.getheader("X-Error-Code") == "PayloadTooLarge"
    conn.close()


def _file_shard(pieces, info, *, break_verification=False, sha=None):
    leaves = list(zip(info.chunk_hashes, info.chunk_sizes))
    proof = hashing.verification_range_hash(info.chunk_hashes)
    if break_verification:
        proof = hashing.verification_range_hash(info.chunk_hashes[:-1])
    entry = shard.FileEntry(hashing.file_hash(leaves), [shard.Segment(info.hash, info.unpacked_length, 0,
                                                                      len(pieces))], [proof],
                            sha if sha is not None else hashlib.sha256(b"".join(pieces)).digest())
    return shard.Shard([entry], [])


def test_shard_naming_a_missing_xorb_or_lying_is_refused(stack, cas_url, cas_token):
    token, _ = cas_token("write")
    auth = {"Authorization": f"Bearer {token}"}
    pieces = chunking.chunks(os.urandom(150_000))
    body, info = xorb.build_xorb(pieces)
    missing = shard.serialize_shard(_file_shard(pieces, info), footer=False)
    r = httpx.post(f"{cas_url}/v1/shards", content=missing, headers=auth)
    assert r.status_code == 400 and "unknown xorb" in r.json()["error"]
    assert httpx.post(f"{cas_url}/v1/xorbs/default/{hashing.hash_hex(info.hash)}", content=body,
                      headers=auth).status_code == 200
    wrong = hashlib.sha256(os.urandom(8)).digest()
    for bad in (_file_shard(pieces, info, break_verification=True), _file_shard(pieces, info, sha=wrong)):
        r = httpx.post(f"{cas_url}/v1/shards", content=shard.serialize_shard(bad, footer=False), headers=auth)
        assert r.status_code == 400 and r.headers["x-error-code"] == "InvalidShard", r.text
    # The bytes did not hash to the claimed sha256: nothing became visible under that oid.
    assert not _s3(stack).has(f"lfs/{wrong.hex()[:2]}/{wrong.hex()[2:4]}/{wrong.hex()}")
    r = httpx.post(f"{cas_url}/v1/shards", content=b"not a shard", headers=auth)
    assert r.status_code == 400
    good = shard.serialize_shard(_file_shard(pieces, info), footer=False)
    r = httpx.post(f"{cas_url}/v1/shards", content=good, headers=auth)
    assert r.status_code == 200 and r.json() == {"result": 1}


def test_reconstruction_needs_the_files_repository(stack, cas_url, cas_token, xet_session):
    data = os.urandom(50_000)
    token, exp = cas_token("write", repo_id="repo-a")
    [info] = upload(xet_session, cas_url, token, exp, data)
    other, _ = cas_token("read", repo_id="repo-b")
    r = httpx.get(f"{cas_url}/v1/reconstructions/{info.hash}", headers={"Authorization": f"Bearer {other}"})
    assert r.status_code == 404


def test_global_dedup_answers_a_keyed_shard(stack, cas_url, cas_token, xet_session, tmp_path):

    data = os.urandom(2_000_000)
    token, exp = cas_token("write")
    [info] = upload(xet_session, cas_url, token, exp, data)
    pieces = chunking.chunks(data)
    first = hashing.chunk_hash(pieces[0])
    auth = {"Authorization": f"Bearer {token}"}
    r = httpx.get(f"{cas_url}/v1/chunks/default-merkledb/{hashing.hash_hex(first)}", headers=auth)
    assert r.status_code == 200, r.text
    answer = shard.parse_shard(r.content)
    assert answer.hmac_key != hashing.ZERO_HASH and not answer.files
    keyed = {c.hash for x in answer.xorbs for c in x.chunks}
    assert hashing.keyed_hash(answer.hmac_key, first) in keyed and first not in keyed
    r = httpx.get(f"{cas_url}/v1/chunks/default-merkledb/{'0' * 64}", headers=auth)
    assert r.status_code == 404


def test_reupload_registers_a_collected_lfs_object_again(stack, cas_url, cas_token, tmp_path):
    import hf_xet

    from tests.xet.test_hub_client import _db_rows

    data = os.urandom(300_000)
    sha = hashlib.sha256(data).hexdigest()
    token, exp = cas_token("write")
    for attempt in range(2):
        os.environ["HF_XET_CACHE"] = str(tmp_path / f"cache-{attempt}")
        try:
            [info] = upload(hf_xet.XetSession(), cas_url, token, exp, data)
        finally:
            os.environ.pop("HF_XET_CACHE", None)
        assert _object_key(stack, sha) == f"xet-file:{info.hash}"
        if attempt == 0:
            _db_rows(stack, "DELETE FROM objects WHERE oid = $1", sha)   # as the LFS collector would

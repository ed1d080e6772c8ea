"""Xet files are stored once, as their xorbs (docs/storage.md, "Xet files stored once"): no rebuilt
LFS copy in S3, while git-lfs and other non-Xet clients get the same bytes streamed from the xorbs
(whole or by Range), by a URL only the lfs service can sign. Objects stored twice before (an LFS copy
and a Xet file of the same bytes) lose their copy with `python -m services.lfs xet-single-copy`,
dry run first."""
from __future__ import annotations

import hashlib
import os
from urllib.parse import urlsplit

import httpx
from huggingface_hub import HfApi

from tests.commands import run_command
from tests.lfs.lfsutil import S3, batch, bearer, create_repo, upload_basic
from tests.xet.test_hub_client import _repo, _xet_file_for, xet_on  # noqa: F401  (fixture)

MiB = 1024 * 1024


def _download_href(endpoint: str, repo: str, oid: str, size: int, token: str) -> str:
    answer = batch(endpoint, repo, "download", [(oid, size)], headers=bearer(token)).json()["objects"][0]
    return answer["actions"]["download"]["href"]


def _single_copy(stack, *args: str) -> dict:
    return run_command(stack, "lfs", "xet-single-copy", *args)


def _xet_upload(endpoint: str, user, repo: str, data: bytes) -> None:
    HfApi(endpoint=endpoint, token=user.token).upload_file(path_or_fileobj=data, path_in_repo="w.bin", repo_id=repo)


def test_xet_upload_is_stored_once_and_streams_to_non_xet_clients(stack, endpoint, user, xet_on):
    data = os.urandom(5 * MiB + 321)
    oid = hashlib.sha256(data).hexdigest()
    repo = _repo(endpoint, user)
    _xet_upload(endpoint, user, repo, data)
    assert _xet_file_for(stack, oid) is not None
    assert not S3(stack.env).has(oid)   # no LFS copy: the xorbs are the only bytes
    # git-lfs: the batch API answers a URL of the lfs service's stream of the xorbs.
    href = _download_href(endpoint, repo, oid, len(data), user.token)
    assert urlsplit(href).path == f"/xet/v1/lfs-files/{oid}"
    assert urlsplit(href).netloc != urlsplit(endpoint).netloc   # the bridge host: redirects not followed
    got = httpx.get(href, timeout=120)
    assert got.status_code == 200 and got.content == data and got.headers["accept-ranges"] == "bytes"
    part = httpx.get(href, headers={"Range": "bytes=1000-3000999"}, timeout=120)
    assert part.status_code == 206 and part.content == data[1000:3001000]
    assert part.headers["content-range"] == f"bytes 1000-3000999/{len(data)}"
    tail = httpx.get(href, headers={"Range": f"bytes={len(data) - 10}-"})
    assert tail.status_code == 206 and tail.content == data[-10:]
    assert httpx.get(href, headers={"Range": f"bytes={len(data)}-"}).status_code == 416
    head = httpx.head(href)
    assert head.status_code == 200 and int(head.headers["content-length"]) == len(data)
    # The URL is a capability: another oid, a changed signature or filename is refused.
    assert httpx.get(href.replace("sig=", "sig=0")).status_code == 403
    assert httpx.get(href.replace(oid, hashlib.sha256(b"x").hexdigest())).status_code == 403
    assert httpx.get(href.split("?")[0]).status_code == 403
    # Any HTTP client following resolve's redirect (huggingface_hub without Xet) gets the bytes.
    resolve = f"{endpoint}/{repo}/resolve/main/w.bin"
    auth = {"Authorization": f"Bearer {user.token}"}
    whole = httpx.get(resolve, headers=auth, follow_redirects=True, timeout=120)
    assert whole.status_code == 200 and whole.content == data
    ranged = httpx.get(resolve, headers={**auth, "Range": "bytes=5-9"}, follow_redirects=True)
    assert ranged.status_code == 206 and ranged.content == data[5:10]


def test_lfs_copy_of_a_xet_file_is_dropped_by_the_migration(stack, endpoint, user, xet_on, tmp_path):
    """The same bytes first over plain LFS, then through Xet: stored twice until the migration."""
    data = os.urandom(2 * MiB + 7)
    oid = hashlib.sha256(data).hexdigest()
    lfs_repo = create_repo(endpoint, user.token)
    assert upload_basic(endpoint, lfs_repo, data, oid, user.token).status_code == 200
    s3 = S3(stack.env)
    [copy] = s3.object_keys(oid)
    repo = _repo(endpoint, user)
    _xet_upload(endpoint, user, repo, data)
    assert _xet_file_for(stack, oid) is not None and s3.object_keys(oid) == [copy]   # stored twice
    dry = _single_copy(stack, "--dry-run")
    assert oid in dry["oids"] and dry["bytes_freed"] >= len(data)
    assert s3.object_keys(oid) == [copy]                                                  # dry: untouched
    done = _single_copy(stack)
    assert oid in done["oids"] and not s3.has(oid)
    assert oid not in _single_copy(stack, "--dry-run")["oids"]                            # nothing left to do
    for r in (lfs_repo, repo):
        href = _download_href(endpoint, r, oid, len(data), user.token)
        assert urlsplit(href).path == f"/xet/v1/lfs-files/{oid}"
        assert httpx.get(href, timeout=120).content == data


def test_plain_lfs_upload_of_a_xet_stored_oid_keeps_the_xet_file(stack, endpoint, user, other_user, xet_on):
    """Nothing overwrites an existing object: a later LFS upload of the same bytes (by someone who
    must prove possession) is verified and dropped; the object stays the Xet file."""
    data = os.urandom(MiB + 3)
    oid = hashlib.sha256(data).hexdigest()
    _xet_upload(endpoint, user, _repo(endpoint, user), data)
    theirs = create_repo(endpoint, other_user.token)
    assert upload_basic(endpoint, theirs, data, oid, other_user.token).status_code == 200
    assert not S3(stack.env).has(oid)
    href = _download_href(endpoint, theirs, oid, len(data), other_user.token)
    assert urlsplit(href).path == f"/xet/v1/lfs-files/{oid}" and httpx.get(href).content == data

"""Single-flight, verification and a misbehaving or absent upstream (issue 18, priority 2).

The upstream's requests are counted by the FaultProxy every mirror request passes through; faults
are injected there (wrong bytes, a truncated body, a 5xx, a stall), the upstream Hangar behind it
stays a real one."""
from __future__ import annotations

import hashlib
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from .conftest import Upstream

pytestmark = pytest.mark.disturbs_upstream


def _get(endpoint: str, repo: str, path: str) -> bytes:
    with httpx.Client(base_url=endpoint, timeout=120, follow_redirects=True) as http:
        resp = http.get(f"/{repo}/resolve/main/{path}")
        resp.raise_for_status()
        return resp.content


def _attempt(endpoint: str, repo: str, path: str) -> bytes | None:
    """The body a client ends up with, or None when the transfer failed (status or cut short)."""
    try:
        return _get(endpoint, repo, path)
    except (httpx.HTTPError, httpx.StreamError):
        return None


def test_concurrent_first_reads_download_once(endpoint, upstream: Upstream):
    path = "faults/concurrent.bin"
    oid = upstream.lfs_oids[path]
    with ThreadPoolExecutor(8) as pool:
        bodies = list(pool.map(lambda _: _get(endpoint, upstream.faults, path), range(8)))
    assert all(hashlib.sha256(b).hexdigest() == oid for b in bodies)
    assert upstream.proxy.count(f"object:{oid}") == 1
    _get(endpoint, upstream.faults, path)          # now stored: a 302 to S3, no upstream request
    assert upstream.proxy.count(f"object:{oid}") == 1


@pytest.mark.parametrize("fault", ["wrong", "short", "err"])
def test_bad_upstream_bytes_are_never_served_nor_cached(endpoint, upstream: Upstream, fault):
    path = f"faults/{fault}.bin"
    oid = upstream.lfs_oids[path]
    upstream.proxy.object_faults[oid] = {"err": "500"}.get(fault, fault)
    try:
        body = _attempt(endpoint, upstream.faults, path)
        assert body is None or hashlib.sha256(body).hexdigest() == oid   # never bad bytes as a whole file
        assert body is None
    finally:
        upstream.proxy.object_faults.pop(oid)
    time.sleep(3.5)   # past HANGAR_MIRROR_DOWN_FOR (a failed transfer may mark the upstream down)
    good = _get(endpoint, upstream.faults, path)
    assert hashlib.sha256(good).hexdigest() == oid
    assert upstream.proxy.count(f"object:{oid}") == 2   # the bad answer was not kept


def test_stalled_upstream_times_out_instead_of_hanging(endpoint, upstream: Upstream):
    path = "faults/slow.bin"
    oid = upstream.lfs_oids[path]
    upstream.proxy.object_faults[oid] = "slow"
    try:
        assert _attempt(endpoint, upstream.faults, path) is None   # mirror timeout is 10 s, the stall 30 s
    finally:
        upstream.proxy.object_faults.pop(oid)
    time.sleep(3.5)
    assert hashlib.sha256(_get(endpoint, upstream.faults, path)).hexdigest() == oid


def test_upstream_down_serves_cached_and_fails_fast_for_the_rest(endpoint, upstream: Upstream):
    sha = upstream.api.repo_info(upstream.public).sha
    model = _get(endpoint, upstream.public, "weights/model.bin")   # cached by now (or fetched here)
    upstream.proxy.down = True
    try:
        time.sleep(2.5)   # past HANGAR_MIRROR_TTL: the branch is revalidated, and the upstream is gone
        with httpx.Client(base_url=endpoint, timeout=60) as http:
            info = http.get(f"/api/models/{upstream.public}/revision/main")
            assert info.status_code == 200 and info.json()["sha"] == sha
            missing = http.get(f"/api/models/{upstream.owner.name}/never-asked-before")
            assert missing.status_code == 502 and missing.headers["x-error-code"] == "UpstreamUnavailable"
        assert _get(endpoint, upstream.public, "weights/model.bin") == model
        assert _get(endpoint, upstream.public, "config.json") == b'{"hidden": 8}\n'
    finally:
        upstream.proxy.down = False


@pytest.mark.stops_upstream
def test_stopped_upstream_stack_still_leaves_cached_content(endpoint, upstream: Upstream):
    """Runs last in tests/mirror (conftest.py): the upstream Hangar itself is stopped."""
    sha = upstream.api.repo_info(upstream.public).sha
    upstream.stack.down()
    time.sleep(2.5)
    with httpx.Client(base_url=endpoint, timeout=60) as http:
        assert http.get(f"/api/models/{upstream.public}").json()["sha"] == sha
        assert http.get(f"/api/models/{upstream.public}/tree/main").status_code == 200
    assert hashlib.sha256(_get(endpoint, upstream.public, "big.safetensors")).hexdigest() == \
        upstream.lfs_oids["big.safetensors"]

"""The size-bounded cache (HANGAR_MIRROR_CACHE_MAX_BYTES): cached LFS objects are evicted least
recently used first once the bound is passed, and fetched again from the upstream on the next read;
content an import holds (or a local repository references) is never evicted. The upstream's object
requests are counted by the FaultProxy. Also the deny rules (HANGAR_MIRROR_DENY) and the metrics."""
from __future__ import annotations

import hashlib
import os
import time
import uuid

import httpx
import pytest

from .conftest import Upstream
from .conftest import mirror_metric as _metric
from .conftest import settled as _settled

MiB = 1024 * 1024


@pytest.fixture(scope="module")
def small_cache(stack, upstream):
    """The mirror with a 2.5 MiB cache and `{owner}/denied-*` denied, for this module only."""
    def restart(settings: dict) -> None:
        stack.stop_service("mirror")
        for key in ("HANGAR_MIRROR_CACHE_MAX_BYTES", "HANGAR_MIRROR_DENY"):
            stack.env.pop(key, None)
        stack.env.update(settings)
        stack.start_service("mirror")
    restart({"HANGAR_MIRROR_CACHE_MAX_BYTES": str(int(2.5 * MiB)),
             "HANGAR_MIRROR_DENY": f"{upstream.owner.name}/denied-*"})
    try:
        yield
    finally:
        restart({})


def _get(endpoint: str, repo: str, path: str) -> bytes:
    with httpx.Client(base_url=endpoint, timeout=120, follow_redirects=True) as http:
        resp = http.get(f"/{repo}/resolve/main/{path}")
        resp.raise_for_status()
        return resp.content


def test_least_recently_used_objects_go_first_and_come_back_from_the_upstream(stack, endpoint, make_user,
                                                                              upstream: Upstream, small_cache):
    files = {name: os.urandom(MiB + i) for i, name in enumerate(("a.bin", "b.bin", "c.bin", "kept.bin"))}
    oids = {name: hashlib.sha256(data).hexdigest() for name, data in files.items()}
    repo = f"{upstream.owner.name}/lru-{uuid.uuid4().hex[:6]}"
    upstream.api.create_repo(repo)
    for name, data in files.items():
        upstream.api.upload_file(path_or_fileobj=data, path_in_repo=name, repo_id=repo)
    count = upstream.proxy.count

    # kept.bin: read through the cache, then imported by a user: an ordinary repository holds it.
    assert _get(endpoint, repo, "kept.bin") == files["kept.bin"]
    _settled(stack)
    user = make_user()
    target = f"{user.name}/lru-import-{uuid.uuid4().hex[:6]}"
    resp = httpx.post(f"{endpoint}/api/imports", json={"source": repo, "repo": target},
                      headers={"Authorization": f"Bearer {user.token}"}, timeout=60)
    assert resp.status_code == 202, resp.text
    deadline = time.monotonic() + 300
    while (status := httpx.get(f"{endpoint}/api/imports/{resp.json()['id']}", timeout=60,
                               headers={"Authorization": f"Bearer {user.token}"}).json())["state"] not in ("done",
                                                                                                         "failed"):
        assert time.monotonic() < deadline, status
        time.sleep(0.5)
    assert status["state"] == "done", status
    assert count(f"object:{oids['kept.bin']}") == 1      # the import took the mirror's verified copy
    fetched_by_import = {n: count(f"object:{oids[n]}") for n in ("a.bin", "b.bin", "c.bin")}
    assert fetched_by_import == {"a.bin": 1, "b.bin": 1, "c.bin": 1}

    # x, y, z: cached reads of another repository in the 2.5 MiB cache (the import's objects do not
    # count against it).
    evicted = _metric(stack, "hangar_mirror_evictions_total")
    hits = _metric(stack, "hangar_mirror_hits_total")
    upstream_bytes = _metric(stack, "hangar_mirror_upstream_bytes_total")
    other = f"{upstream.owner.name}/lru2-{uuid.uuid4().hex[:6]}"
    upstream.api.create_repo(other)
    fresh = {name: os.urandom(MiB + 100 + i) for i, name in enumerate(("x.bin", "y.bin", "z.bin"))}
    fresh_oids = {name: hashlib.sha256(data).hexdigest() for name, data in fresh.items()}
    for name, data in fresh.items():
        upstream.api.upload_file(path_or_fileobj=data, path_in_repo=name, repo_id=other)
    assert _get(endpoint, other, "x.bin") == fresh["x.bin"]
    _settled(stack)
    assert _get(endpoint, other, "y.bin") == fresh["y.bin"]
    _settled(stack)
    assert _get(endpoint, other, "x.bin") == fresh["x.bin"]     # a hit: x is now more recent than y
    assert _get(endpoint, other, "z.bin") == fresh["z.bin"]     # past 2.5 MiB: y goes
    _settled(stack)
    assert _metric(stack, "hangar_mirror_evictions_total") > evicted
    assert {n: count(f"object:{o}") for n, o in fresh_oids.items()} == {"x.bin": 1, "y.bin": 1, "z.bin": 1}
    assert _get(endpoint, other, "y.bin") == fresh["y.bin"]     # fetched again from the upstream
    _settled(stack)
    assert count(f"object:{fresh_oids['y.bin']}") == 2
    assert _metric(stack, "hangar_mirror_cache_bytes") <= 2.5 * MiB
    assert _metric(stack, "hangar_mirror_hits_total") > hits
    assert _metric(stack, "hangar_mirror_upstream_bytes_total") >= upstream_bytes + 4 * MiB

    # The imported repository's objects never left, whatever the cache evicted.
    with httpx.Client(base_url=endpoint, timeout=120, follow_redirects=True,
                      headers={"Authorization": f"Bearer {user.token}"}) as http:
        for name, data in files.items():
            assert http.get(f"/{target}/resolve/main/{name}").content == data, name
    assert all(count(f"object:{oids[n]}") == 1 for n in files)


def test_denied_repos_are_not_mirrored_nor_imported(endpoint, make_user, upstream: Upstream, small_cache):
    repo = f"{upstream.owner.name}/denied-{uuid.uuid4().hex[:6]}"
    upstream.api.create_repo(repo)
    before = upstream.proxy.count("api")
    with httpx.Client(base_url=endpoint, timeout=60) as http:
        resp = http.get(f"/api/models/{repo}")
        assert resp.status_code == 401 and resp.headers["x-error-code"] == "RepoNotFound"
    user = make_user()
    resp = httpx.post(f"{endpoint}/api/imports", json={"source": repo}, timeout=60,
                      headers={"Authorization": f"Bearer {user.token}"})
    assert resp.status_code == 404 and resp.headers["x-error-code"] == "RepoNotFound"
    assert upstream.proxy.count("api") == before     # the upstream was not even asked

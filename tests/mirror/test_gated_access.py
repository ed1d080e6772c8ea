"""Gated and private upstream repos (docs/mirror.md "Access"): their content, cached or not, goes
only to users the upstream serves, asked with the upstream token the user linked to their Hangar
account (PUT /api/settings/upstream-token, stored encrypted by auth), or to everyone for the repos
the admin token's allowlist names. The second stack plays the upstream: its repo owner's token is
one the upstream accepts; a token of another upstream user is one it refuses."""
from __future__ import annotations

import asyncio
import os
import time
import uuid

import asyncpg
import httpx
import pytest
from huggingface_hub import HfApi

from ..conftest import register_user
from .conftest import Upstream, settled

LINK = "/api/settings/upstream-token"


def _bearer(user) -> dict:
    return {"Authorization": f"Bearer {user.token}"}


def _link(endpoint: str, user, token: str) -> httpx.Response:
    return httpx.put(f"{endpoint}{LINK}", json={"token": token}, headers=_bearer(user), timeout=60)


@pytest.fixture(scope="module")
def restricted(upstream: Upstream):
    """A gated and a private upstream repo NOT on the admin token's allowlist, each with an LFS file."""
    api, ns = upstream.api, upstream.owner.name
    repos = {"gated": f"{ns}/ugated-{uuid.uuid4().hex[:6]}", "private": f"{ns}/uprivate-{uuid.uuid4().hex[:6]}"}
    data = {kind: os.urandom(1024 * 1024 + 7) for kind in repos}
    api.create_repo(repos["gated"])
    api.create_repo(repos["private"], private=True)
    for kind, repo in repos.items():
        api.upload_file(path_or_fileobj=data[kind], path_in_repo="w.bin", repo_id=repo)
        api.upload_file(path_or_fileobj=b"hello\n", path_in_repo="notes.txt", repo_id=repo)
    api.update_repo_settings(repos["gated"], gated="manual")
    return repos, data


def test_linking_an_upstream_token(stack, endpoint, make_user):
    user = make_user()
    with httpx.Client(base_url=endpoint, timeout=60) as http:
        assert http.get(LINK).status_code == 401
        assert http.get(LINK, headers=_bearer(user)).json() == {"linked": False}
        for bad in ("", "   ", "two words", "x" * 5000):
            resp = http.put(LINK, json={"token": bad}, headers=_bearer(user))
            assert resp.status_code == 400 and resp.headers["x-error-code"] == "InvalidUpstreamToken", resp.text
        resp = http.put(LINK, json={"token": "hf_secretUpstreamToken1234"},
                        headers={"Authorization": f"Bearer {user.read_token}"})
        assert resp.status_code == 403, resp.text      # a read token changes nothing
        resp = http.put(LINK, json={"token": "hf_secretUpstreamToken1234"}, headers=_bearer(user))
        assert resp.status_code == 200 and resp.json()["linked"] and resp.json()["hint"] == "1234", resp.text
        status = http.get(LINK, headers=_bearer(user))
        assert "secretUpstream" not in status.text and status.json()["hint"] == "1234"

    async def stored() -> list:
        conn = await asyncpg.connect(stack.env["HANGAR_DATABASE_URL"])
        try:
            return [bytes(r["ciphertext"]) for r in await conn.fetch("SELECT ciphertext FROM auth.upstream_tokens")]
        finally:
            await conn.close()
    sealed = asyncio.run(stored())
    assert sealed and not any(b"secretUpstream" in s for s in sealed)   # encrypted at rest

    with httpx.Client(base_url=endpoint, timeout=60) as http:
        assert http.delete(LINK, headers=_bearer(user)).json() == {"linked": False}
        assert http.get(LINK, headers=_bearer(user)).json() == {"linked": False}


def test_gated_and_private_content_only_for_users_the_upstream_serves(stack, endpoint, make_user, upstream: Upstream,
                                                                      restricted):
    repos, data = restricted
    entitled, stranger, refused = make_user(), make_user(), make_user()
    assert _link(endpoint, entitled, upstream.owner.token).status_code == 200
    outsider = register_user(upstream.endpoint)            # an upstream user the gate has not let in
    assert _link(endpoint, refused, outsider.token).status_code == 200

    with httpx.Client(base_url=endpoint, timeout=120) as http:
        # Not cached yet: a user without a token (or anonymous) gets the upstream's answer.
        resp = http.get(f"/{repos['gated']}/resolve/main/w.bin", headers=_bearer(stranger))
        assert resp.status_code == 403 and resp.headers["x-error-code"] == "GatedRepo", resp.text
        resp = http.get(f"/api/models/{repos['private']}", headers=_bearer(stranger))
        assert resp.status_code == 404 and resp.headers["x-error-code"] == "RepoNotFound", resp.text

        # The entitled user reads both through the mirror (which caches them).
        for kind, repo in repos.items():
            info = http.get(f"/api/models/{repo}", headers=_bearer(entitled))
            assert info.status_code == 200, info.text
            assert info.json()["sha"] == upstream.api.repo_info(repo).sha
            resp = http.get(f"/{repo}/resolve/main/w.bin", headers=_bearer(entitled), follow_redirects=True)
            assert resp.status_code == 200 and resp.content == data[kind], (kind, resp.status_code)
            settled(stack)
            resp = http.get(f"/{repo}/resolve/main/w.bin", headers=_bearer(entitled))
            assert resp.status_code == 302, resp.status_code      # cached now: lfs serves it

        # Cached, and still refused to users the upstream would refuse (with a token or without).
        for user_headers in ({}, _bearer(stranger), _bearer(refused)):
            resp = http.get(f"/{repos['gated']}/resolve/main/w.bin", headers=user_headers)
            assert resp.status_code in (401, 403) and resp.headers["x-error-code"] in ("GatedRepo", "RepoNotFound"), \
                resp.status_code
            assert data["gated"][:4096] not in resp.content
            resp = http.get(f"/{repos['gated']}/resolve/main/notes.txt", headers=user_headers)
            assert resp.status_code in (401, 403), resp.status_code
            resp = http.get(f"/{repos['private']}/resolve/main/w.bin", headers=user_headers)
            assert resp.status_code in (401, 404) and resp.headers["x-error-code"] == "RepoNotFound", resp.status_code
            resp = http.get(f"/api/models/{repos['private']}", headers=user_headers)
            assert resp.status_code in (401, 404), resp.status_code
        # A gated repo's metadata stays visible, as on the Hub.
        assert http.get(f"/api/models/{repos['gated']}", headers=_bearer(stranger)).status_code == 200
        # Nor through the LFS batch API of the cache.
        oid = upstream.api.get_paths_info(repos["gated"], ["w.bin"])[0].lfs.sha256
        resp = http.post(f"/{repos['gated']}.git/info/lfs/objects/batch", headers={
            **_bearer(stranger), "Accept": "application/vnd.git-lfs+json",
            "Content-Type": "application/vnd.git-lfs+json"},
            json={"operation": "download", "objects": [{"oid": oid, "size": len(data["gated"])}]})
        assert not any("actions" in o for o in (resp.json().get("objects", []) if resp.status_code == 200 else [])), \
            resp.text

        # Unlinking takes effect at once (the remembered yes was for the token linked before).
        assert http.delete(LINK, headers=_bearer(entitled)).json() == {"linked": False}
        resp = http.get(f"/{repos['gated']}/resolve/main/w.bin", headers=_bearer(entitled))
        assert resp.status_code == 403 and resp.headers["x-error-code"] == "GatedRepo", resp.status_code
        resp = http.get(f"/api/models/{repos['private']}", headers=_bearer(entitled))
        assert resp.status_code == 404, resp.status_code
        # Linked again: served again.
        assert _link(endpoint, entitled, upstream.owner.token).status_code == 200
        resp = http.get(f"/{repos['gated']}/resolve/main/w.bin", headers=_bearer(entitled), follow_redirects=True)
        assert resp.status_code == 200 and resp.content == data["gated"], (resp.url, resp.headers, resp.text[:300])


def _commit_pointer(endpoint: str, user, repo: str, oid: str, size: int) -> httpx.Response:
    return httpx.post(f"{endpoint}/api/models/{repo}/commit/main", timeout=120, headers={
        **_bearer(user), "Content-Type": "application/x-ndjson"}, content=(
        '{"key":"header","value":{"summary":"the cached weights"}}\n'
        f'{{"key":"lfsFile","value":{{"path":"w.bin","algo":"sha256","oid":"{oid}","size":{size}}}}}\n'))


def test_a_local_commit_pointing_at_a_cached_gated_oid_needs_access(endpoint, make_user, upstream: Upstream,
                                                                    restricted):
    repos, data = restricted
    reader, eve = make_user(), make_user()
    assert _link(endpoint, reader, upstream.owner.token).status_code == 200
    with httpx.Client(base_url=endpoint, timeout=120, follow_redirects=True) as http:
        resp = http.get(f"/{repos['gated']}/resolve/main/w.bin", headers=_bearer(reader))
        assert resp.status_code == 200 and resp.content == data["gated"], (resp.url, resp.headers, resp.text[:300])
    oid, size = upstream.api.get_paths_info(repos["gated"], ["w.bin"])[0].lfs.sha256, len(data["gated"])

    # Eve, whom the upstream does not serve, cannot reference the cached bytes in a repo of her own.
    mine = f"{eve.name}/mine-{uuid.uuid4().hex[:6]}"
    HfApi(endpoint=endpoint, token=eve.token).create_repo(mine)
    resp = _commit_pointer(endpoint, eve, mine, oid, size)
    assert 400 <= resp.status_code < 500 and resp.headers.get("X-Error-Code"), resp.text
    assert "w.bin" not in HfApi(endpoint=endpoint, token=eve.token).list_repo_files(mine)

    # The reader, whom the upstream serves, can (as if they had uploaded the bytes they downloaded).
    theirs = f"{reader.name}/copy-{uuid.uuid4().hex[:6]}"
    api = HfApi(endpoint=endpoint, token=reader.token)
    api.create_repo(theirs, private=True)
    resp = _commit_pointer(endpoint, reader, theirs, oid, size)
    assert resp.status_code == 200, resp.text
    with httpx.Client(base_url=endpoint, timeout=120, follow_redirects=True) as http:
        assert http.get(f"/{theirs}/resolve/main/w.bin", headers=_bearer(reader)).content == data["gated"]
    # Once unlinked (and their own copy gone, which was a holder they may read), refused like Eve.
    api.delete_repo(theirs)
    assert httpx.delete(f"{endpoint}{LINK}", headers=_bearer(reader), timeout=60).status_code == 200
    again = f"{reader.name}/copy-{uuid.uuid4().hex[:6]}"
    api.create_repo(again)
    resp = _commit_pointer(endpoint, reader, again, oid, size)
    assert 400 <= resp.status_code < 500 and resp.headers.get("X-Error-Code"), resp.text


def test_allowlisted_repos_are_served_with_the_admin_token(endpoint, make_user, upstream: Upstream):
    """HANGAR_UPSTREAM_TOKEN_REPOS names upstream.private and upstream.gated (conftest): the admin
    decided every user of the mirror may read them, no linked token needed."""
    user = make_user()
    with httpx.Client(base_url=endpoint, timeout=120) as http:
        for repo in (upstream.private, upstream.gated):
            info = http.get(f"/api/models/{repo}", headers=_bearer(user))
            assert info.status_code == 200 and info.json()["sha"] == upstream.api.repo_info(repo).sha, info.text
            resp = http.get(f"/{repo}/resolve/main/.gitattributes", headers=_bearer(user), follow_redirects=True)
            assert resp.status_code == 200, (repo, resp.status_code, resp.text)


def test_imports_of_gated_and_private_repos_use_the_importers_linked_token(endpoint, make_user,
                                                                           upstream: Upstream, restricted):
    repos, data = restricted
    importer, stranger = make_user(), make_user()
    assert _link(endpoint, importer, upstream.owner.token).status_code == 200
    for kind, repo in repos.items():
        resp = httpx.post(f"{endpoint}/api/imports", json={"source": repo}, headers=_bearer(stranger), timeout=60)
        want = (403, "GatedRepo") if kind == "gated" else (404, "RepoNotFound")
        assert (resp.status_code, resp.headers.get("x-error-code")) == want, resp.text
        target = f"{importer.name}/{kind}-{uuid.uuid4().hex[:6]}"
        resp = httpx.post(f"{endpoint}/api/imports", json={"source": repo, "repo": target},
                          headers=_bearer(importer), timeout=60)
        assert resp.status_code == 202, resp.text
        deadline = time.monotonic() + 300
        while (status := httpx.get(f"{endpoint}/api/imports/{resp.json()['id']}", headers=_bearer(importer),
                                   timeout=60).json())["state"] not in ("done", "failed"):
            assert time.monotonic() < deadline, status
            time.sleep(0.5)
        assert status["state"] == "done" and status["private"], status
        api = HfApi(endpoint=endpoint, token=importer.token)
        assert api.repo_info(target).sha == upstream.api.repo_info(repo).sha
        with httpx.Client(base_url=endpoint, timeout=120, follow_redirects=True) as http:
            assert http.get(f"/{target}/resolve/main/w.bin", headers=_bearer(importer)).content == data[kind]

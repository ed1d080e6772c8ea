"""huggingface_hub 2.4 with its default settings (Xet on) against the whole hub: upload_file and
upload_folder go through the Xet token endpoint and CAS; the files then download byte-exact with
Xet off (plain resolve/LFS), so every client sees the same bytes. Token endpoint rules too."""
from __future__ import annotations

import asyncio
import hashlib
import os
import uuid

import httpx
import pytest
from huggingface_hub import HfApi, constants, hf_hub_download

MiB = 1024 * 1024


@pytest.fixture
def xet_on(monkeypatch, tmp_path):
    """Undo the suite's HF_HUB_DISABLE_XET=1 for this test (huggingface_hub reads the constant)."""
    monkeypatch.setattr(constants, "HF_HUB_DISABLE_XET", False)
    monkeypatch.setenv("HF_XET_CACHE", str(tmp_path / "xet-cache"))


def _repo(endpoint, user, private=True) -> str:
    api = HfApi(endpoint=endpoint, token=user.token)
    repo_id = f"{user.name}/xet-{uuid.uuid4().hex[:8]}"
    api.create_repo(repo_id, private=private)
    return repo_id


def _db_rows(stack, sql: str, *args):
    import asyncpg

    async def run():
        conn = await asyncpg.connect(stack.env["HANGAR_DATABASE_URL"], server_settings={"search_path": "lfs"})
        try:
            return await conn.fetch(sql, *args)
        finally:
            await conn.close()
    return asyncio.run(run())


def _xet_file_for(stack, sha256: str):
    rows = _db_rows(stack, "SELECT file_hash, size FROM xet_files WHERE sha256 = $1", sha256)
    return rows[0] if rows else None


def _write(path, size) -> str:
    data = os.urandom(size)
    path.write_bytes(data)
    return hashlib.sha256(data).hexdigest()


def test_upload_file_goes_through_xet_and_downloads_everywhere(stack, endpoint, user, xet_on, tmp_path):
    repo = _repo(endpoint, user)
    src = tmp_path / "model.safetensors"
    oid = _write(src, 12 * MiB + 17)
    api = HfApi(endpoint=endpoint, token=user.token)
    api.upload_file(path_or_fileobj=str(src), path_in_repo="model.safetensors", repo_id=repo)
    row = _xet_file_for(stack, oid)
    assert row is not None and row["size"] == 12 * MiB + 17      # uploaded through Xet, verified
    [info] = api.get_paths_info(repo, ["model.safetensors"])
    assert info.lfs.sha256 == oid
    local = hf_hub_download(repo, "model.safetensors", token=user.token, endpoint=endpoint,
                            cache_dir=str(tmp_path / "c1"))
    assert open(local, "rb").read() == src.read_bytes()


def test_upload_folder_twice_pipelines_several_files(stack, endpoint, user, xet_on, tmp_path):
    repo = _repo(endpoint, user)
    api = HfApi(endpoint=endpoint, token=user.token)
    oids = {}
    for round_ in range(2):
        folder = tmp_path / f"round{round_}"
        (folder / "sub").mkdir(parents=True)
        for name, size in ((f"a{round_}.bin", 11 * MiB), (f"sub/b{round_}.bin", 10 * MiB + 3),
                           (f"small{round_}.txt", 100)):
            oids[name] = _write(folder / name, size)
        api.upload_folder(folder_path=str(folder), repo_id=repo)
    files = set(api.list_repo_files(repo))
    assert set(oids) <= files
    for name, oid in oids.items():
        local = hf_hub_download(repo, name, token=user.token, endpoint=endpoint, cache_dir=str(tmp_path / "dl"))
        assert hashlib.sha256(open(local, "rb").read()).hexdigest() == oid
        if not name.startswith("small"):
            assert _xet_file_for(stack, oid) is not None


def test_token_endpoints_answer_what_the_client_parses(endpoint, user, stack):
    repo = _repo(endpoint, user)
    for kind in ("read", "write"):
        r = httpx.get(f"{endpoint}/api/models/{repo}/xet-{kind}-token/main",
                      headers={"Authorization": f"Bearer {user.token}"})
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["casUrl"] == f"{endpoint}/xet" == r.headers["X-Xet-Cas-Url"]
        assert body["accessToken"] == r.headers["X-Xet-Access-Token"]
        assert body["exp"] == int(r.headers["X-Xet-Token-Expiration"])


def test_read_token_cannot_obtain_a_write_token(endpoint, user, other_user):
    repo = _repo(endpoint, user)
    url = f"{endpoint}/api/models/{repo}/xet-write-token/main"
    assert httpx.get(url, headers={"Authorization": f"Bearer {user.read_token}"}).status_code == 403
    assert httpx.get(url.replace("write", "read"),
                     headers={"Authorization": f"Bearer {user.read_token}"}).status_code == 200
    # Private repo: invisible to others and to anonymous callers, like everywhere else.
    r = httpx.get(url, headers={"Authorization": f"Bearer {other_user.token}"})
    assert r.status_code == 404 and r.headers["X-Error-Code"] == "RepoNotFound"
    r = httpx.get(url)
    assert r.status_code == 401 and r.headers["X-Error-Code"] == "RepoNotFound"
    assert httpx.get(url, headers={"Authorization": "Bearer hf_invalid"}).status_code == 401


def test_anonymous_write_token_on_a_visible_repo_asks_for_credentials(endpoint, user):
    """The same rule as the API (hangar_common.edge): a public repo is not pretended missing; an
    anonymous caller asking to change it is told to authenticate, with the Bearer challenge."""
    repo = _repo(endpoint, user, private=False)
    r = httpx.get(f"{endpoint}/api/models/{repo}/xet-write-token/main")
    assert r.status_code == 401 and r.headers["X-Error-Code"] == "Unauthorized"
    assert r.headers["WWW-Authenticate"] == 'Bearer realm="Hangar"'
    assert httpx.get(f"{endpoint}/api/models/{repo}/xet-read-token/main").status_code == 200


def test_read_token_cannot_write_to_cas(endpoint, user):
    repo = _repo(endpoint, user)
    r = httpx.get(f"{endpoint}/api/models/{repo}/xet-read-token/main",
                  headers={"Authorization": f"Bearer {user.token}"})
    token = r.json()["accessToken"]
    r = httpx.post(f"{endpoint}/xet/v1/shards", content=b"x", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 403


def test_revoking_the_access_token_ends_its_xet_tokens_at_once(endpoint, user):
    """A CAS token is bound to the access token that minted it: once that one is revoked, its CAS
    tokens (valid for an hour otherwise) are refused on the next request; others' keep working."""
    repo = _repo(endpoint, user)
    owner = {"Authorization": f"Bearer {user.token}"}
    minted = httpx.post(f"{endpoint}/api/auth/tokens/create", json={"name": "xet-bound", "role": "write"},
                        headers=owner).json()
    bound = {"Authorization": f"Bearer {minted['token']}"}
    read = httpx.get(f"{endpoint}/api/models/{repo}/xet-read-token/main", headers=bound).json()["accessToken"]
    write = httpx.get(f"{endpoint}/api/models/{repo}/xet-write-token/main", headers=bound).json()["accessToken"]
    kept = httpx.get(f"{endpoint}/api/models/{repo}/xet-read-token/main", headers=owner).json()["accessToken"]
    probe = f"{endpoint}/xet/v1/chunks/default-merkledb/{'0' * 64}"
    for cas in (read, write, kept):
        assert httpx.get(probe, headers={"Authorization": f"Bearer {cas}"}).status_code == 404
    assert httpx.delete(f"{endpoint}/api/auth/tokens/{minted['id']}", headers=owner).status_code == 200
    for cas in (read, write):
        refused = httpx.get(probe, headers={"Authorization": f"Bearer {cas}"})
        assert refused.status_code == 401 and "revoked" in refused.json()["error"], refused.text
        shard = httpx.post(f"{endpoint}/xet/v1/shards", content=b"x", headers={"Authorization": f"Bearer {cas}"})
        assert shard.status_code in (401, 403), shard.text
    assert httpx.get(probe, headers={"Authorization": f"Bearer {kept}"}).status_code == 404


def _xorb_bytes(stack) -> int:
    return int(_db_rows(stack, "SELECT coalesce(sum(stored_bytes), 0) AS n FROM xet_xorbs")[0]["n"])


def _fresh_xet_session(monkeypatch, cache) -> None:
    """Drop huggingface_hub's process-wide hf_xet session so the next upload starts with an empty
    local cache: whatever it dedups, it learned from the server (global dedup)."""
    from huggingface_hub.utils import _xet

    monkeypatch.setenv("HF_XET_CACHE", str(cache))
    _xet._GLOBAL_XET_HOLDER.sigint_abort()


def test_reupload_with_a_small_change_sends_a_small_fraction(stack, endpoint, user, xet_on, monkeypatch,
                                                           tmp_path):
    size = 200 * MiB
    repo = _repo(endpoint, user)
    api = HfApi(endpoint=endpoint, token=user.token)
    src = tmp_path / "big.bin"
    _write(src, size)
    _fresh_xet_session(monkeypatch, tmp_path / "cache-1")
    before = _xorb_bytes(stack)
    api.upload_file(path_or_fileobj=str(src), path_in_repo="big.bin", repo_id=repo)
    first = _xorb_bytes(stack) - before
    assert first >= size                        # random bytes: everything went up once
    with open(src, "r+b") as handle:            # change 1 MiB in the middle
        handle.seek(size // 2)
        handle.write(os.urandom(MiB))
    oid = hashlib.sha256(src.read_bytes()).hexdigest()
    _fresh_xet_session(monkeypatch, tmp_path / "cache-2")
    before = _xorb_bytes(stack)
    api.upload_file(path_or_fileobj=str(src), path_in_repo="big.bin", repo_id=repo)
    second = _xorb_bytes(stack) - before
    assert second < 0.05 * size, f"re-upload sent {second} bytes of {size}"
    assert _xet_file_for(stack, oid) is not None
    local = hf_hub_download(repo, "big.bin", token=user.token, endpoint=endpoint, cache_dir=str(tmp_path / "dl"))
    assert hashlib.sha256(open(local, "rb").read()).hexdigest() == oid


def test_hf_cli_uploads_1_byte_to_300_mib_and_snapshot_download_matches(stack, endpoint, user, xet_on, tmp_path):
    import subprocess
    import sys
    from pathlib import Path

    from huggingface_hub import snapshot_download

    repo = _repo(endpoint, user)
    folder = tmp_path / "up"
    folder.mkdir()
    oids = {name: _write(folder / name, size) for name, size in
            (("one.bin", 1), ("mid.bin", 10 * MiB + 1), ("big.bin", 300 * MiB))}
    env = {k: v for k, v in os.environ.items() if k != "HF_HUB_DISABLE_XET"}
    env.update(HF_TOKEN=user.token, HF_ENDPOINT=endpoint, HF_XET_CACHE=str(tmp_path / "cli-cache"))
    hf = str(Path(sys.executable).parent / "hf")
    for name in oids:
        done = subprocess.run([hf, "upload", repo, str(folder / name), name], env=env, capture_output=True,
                              text=True, timeout=900)
        assert done.returncode == 0, done.stderr[-2000:]
    for name in ("mid.bin", "big.bin"):
        assert _xet_file_for(stack, oids[name]) is not None
    local = Path(snapshot_download(repo, token=user.token, endpoint=endpoint, cache_dir=str(tmp_path / "snap")))
    for name, oid in oids.items():
        assert hashlib.sha256((local / name).read_bytes()).hexdigest() == oid


def test_commit_of_a_xet_file_needs_entitlement(stack, endpoint, user, other_user, xet_on, tmp_path):
    import json

    repo = _repo(endpoint, user)
    src = tmp_path / "secret.bin"
    oid = _write(src, 11 * MiB)
    HfApi(endpoint=endpoint, token=user.token).upload_file(path_or_fileobj=str(src), path_in_repo="secret.bin",
                                                           repo_id=repo)
    assert _xet_file_for(stack, oid) is not None
    # Knowing the sha256 is not access: another user cannot commit it into their own repo.
    theirs = _repo(endpoint, other_user)
    body = "\n".join(json.dumps(line) for line in (
        {"key": "header", "value": {"summary": "steal", "description": ""}},
        {"key": "lfsFile", "value": {"path": "stolen.bin", "algo": "sha256", "oid": oid, "size": 11 * MiB}}))
    r = httpx.post(f"{endpoint}/api/models/{theirs}/commit/main", content=body,
                   headers={"Authorization": f"Bearer {other_user.token}", "Content-Type": "application/x-ndjson"})
    assert 400 <= r.status_code < 500 and r.headers["X-Error-Code"] == "LfsObjectMissing", r.text
    assert "stolen.bin" not in HfApi(endpoint=endpoint, token=other_user.token).list_repo_files(theirs)


def test_huggingface_hub_xet_download_path_works_with_the_refresh_route(stack, endpoint, user, xet_on, tmp_path):
    """What hf_hub_download does once resolve sends X-Xet-Hash and the xet-auth link: huggingface_hub's
    xet_get fetches a read token from the refresh route and hf_xet reconstructs the file."""
    from pathlib import Path

    from huggingface_hub.file_download import xet_get
    from huggingface_hub.utils._xet import XetFileData

    repo = _repo(endpoint, user)
    src = tmp_path / "w.bin"
    oid = _write(src, 11 * MiB + 5)
    api = HfApi(endpoint=endpoint, token=user.token)
    api.upload_file(path_or_fileobj=str(src), path_in_repo="w.bin", repo_id=repo)
    row = _xet_file_for(stack, oid)
    commit = api.repo_info(repo).sha
    refresh = f"{endpoint}/api/models/{repo}/xet-read-token/{commit}"
    target = Path(tmp_path / "out.incomplete")
    xet_get(incomplete_path=target, xet_file_data=XetFileData(row["file_hash"], refresh),
            headers={"authorization": f"Bearer {user.token}"}, expected_size=11 * MiB + 5)
    assert hashlib.sha256(target.read_bytes()).hexdigest() == oid

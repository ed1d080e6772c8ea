"""Garbage collection of Xet storage (run by `python -m services.lfs gc` after the LFS objects): only
unreferenced files, the xorbs no live file uses and the shards naming nothing left, only past the grace
period, nothing in a dry run."""
from __future__ import annotations

import asyncio
import hashlib
import os

import httpx
from huggingface_hub import HfApi, constants

from tests.lfs.gcutil import run_gc

from .test_cas import _s3, upload
from .test_hub_client import _db_rows

MiB = 1024 * 1024


def _shards_naming(stack, file_hash: str) -> set[str]:
    return {r["shard_key"] for r in _db_rows(stack, "SELECT shard_key FROM xet_shard_files WHERE file_hash = $1",
                                             file_hash)}


def _as_older_shards(stack, keys: set[str]) -> None:
    """As shards recorded before their files were indexed (migration x0003) look."""
    _db_rows(stack, "DELETE FROM xet_shard_files WHERE shard_key = ANY($1)", list(keys))
    _db_rows(stack, "UPDATE xet_shards SET files_indexed = false WHERE key = ANY($1)", list(keys))


def test_collects_only_unreferenced_xet_data_past_grace(stack, endpoint, user, cas_url, cas_token, xet_session,
                                                       monkeypatch, tmp_path):
    # An orphan: uploaded through Xet, never committed anywhere.
    orphan = os.urandom(3 * MiB)
    token, exp = cas_token("write")
    [orphan_info] = upload(xet_session, cas_url, token, exp, orphan)
    # A committed file, uploaded through Xet by huggingface_hub.
    monkeypatch.setattr(constants, "HF_HUB_DISABLE_XET", False)
    repo = f"{user.name}/gc-{os.urandom(4).hex()}"
    api = HfApi(endpoint=endpoint, token=user.token)
    api.create_repo(repo)
    kept = os.urandom(11 * MiB)
    (tmp_path / "kept.bin").write_bytes(kept)
    api.upload_file(path_or_fileobj=str(tmp_path / "kept.bin"), path_in_repo="kept.bin", repo_id=repo)
    headers = {"Authorization": f"Bearer {token}"}
    orphan_url = f"{cas_url}/v1/reconstructions/{orphan_info.hash}"
    sha = hashlib.sha256(kept).hexdigest()
    from .test_hub_client import _xet_file_for
    row = _xet_file_for(stack, sha)
    assert row is not None
    orphan_shards, kept_shards = _shards_naming(stack, orphan_info.hash), _shards_naming(stack, row["file_hash"])
    assert orphan_shards and kept_shards and not orphan_shards & kept_shards
    s3 = _s3(stack)

    young = run_gc(stack, "--grace", "3600")["xet"]
    assert orphan_info.hash not in young["files"] and not orphan_shards & set(young["shards"])   # too young
    dry = run_gc(stack, "--dry-run", "--grace", "0")["xet"]
    assert orphan_info.hash in dry["files"] and dry["xorbs"] and dry["xorb_bytes"] >= len(orphan)
    assert orphan_shards <= set(dry["shards"]) and not kept_shards & set(dry["shards"])
    assert httpx.get(orphan_url, headers=headers).status_code == 200                               # untouched
    assert all(s3.has(k) for k in orphan_shards)

    # Shards from before the file index: read once from S3, indexed, then judged like the others.
    _as_older_shards(stack, orphan_shards | kept_shards)
    done = run_gc(stack, "--grace", "0")["xet"]
    assert done["shards_indexed"] >= len(orphan_shards | kept_shards)
    assert orphan_info.hash in done["files"] and set(dry["xorbs"]) <= set(done["xorbs"])
    assert httpx.get(orphan_url, headers=headers).status_code == 404
    # The orphan's shards are gone (rows and S3 objects); the committed file's shards stay.
    assert orphan_shards <= set(done["shards"]) and done["shard_bytes"] > 0
    assert not any(s3.has(k) for k in orphan_shards)
    assert not _db_rows(stack, "SELECT 1 FROM xet_shards WHERE key = ANY($1)", list(orphan_shards))
    assert not kept_shards & set(done["shards"]) and all(s3.has(k) for k in kept_shards)
    assert _shards_naming(stack, row["file_hash"]) == kept_shards
    # The committed file survives and still downloads byte-exact, through Xet reconstruction too.
    read = httpx.get(f"{endpoint}/api/models/{repo}/xet-read-token/main",
                     headers={"Authorization": f"Bearer {user.token}"}).json()
    assert row["file_hash"] not in done["files"]
    import hf_xet
    with xet_session.new_file_download_group(endpoint=read["casUrl"], token=read["accessToken"],
                                             token_expiry_unix_secs=read["exp"]) as group:
        group.start_download_file(hf_xet.XetFileInfo(row["file_hash"], len(kept)), str(tmp_path / "out"))
    assert (tmp_path / "out").read_bytes() == kept
    assert not s3.has(f"lfs/{sha[:2]}/{sha[2:4]}/{sha}")    # stored once: as xorbs
    from tests.lfs.lfsutil import batch, bearer
    down = batch(endpoint, repo, "download", [(sha, len(kept))], headers=bearer(user.token)).json()["objects"][0]
    assert httpx.get(down["actions"]["download"]["href"], timeout=120).content == kept

    # Once its repository is deleted, the file, its xorbs and its shards go in the next collection.
    api.delete_repo(repo)
    last = run_gc(stack, "--grace", "0")["xet"]
    assert row["file_hash"] in last["files"] and kept_shards <= set(last["shards"])
    assert not any(s3.has(k) for k in kept_shards)


def test_xet_hashes_maps_verified_sha256_to_file_hash(stack, cas_url, cas_token, xet_session):
    """What the lfs servicer's XetHashes answers (services/lfs/xet/grpc_api.py)."""
    from types import SimpleNamespace

    from hangar_common import db
    from hangar_protos import lfs_pb2
    from services.lfs.xet import grpc_api

    data = os.urandom(70_000)
    token, exp = cas_token("write")
    [info] = upload(xet_session, cas_url, token, exp, data)
    sha = hashlib.sha256(data).hexdigest()

    async def run():
        engine = db.create_engine(stack.env["HANGAR_DATABASE_URL"], "lfs", pool_size=1)
        try:
            return await grpc_api.xet_hashes(SimpleNamespace(engine=engine), lfs_pb2.XetHashesRequest(
                oids=[sha, "0" * 64, "not-an-oid"]))
        finally:
            await engine.dispose()
    assert dict(asyncio.run(run()).xet_hashes) == {sha: info.hash}

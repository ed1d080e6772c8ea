"""Garbage collection of Xet storage: only unreferenced files and the xorbs no live file uses, only
past the grace period, nothing in a dry run."""
from __future__ import annotations

import asyncio
import hashlib
import os

import grpc
import httpx
from huggingface_hub import HfApi, constants

from services.lfs.xet import gc

from .test_cas import _s3, upload

MiB = 1024 * 1024


def _collect(stack, monkeypatch, **kwargs) -> gc.XetGcReport:
    from hangar_common import db
    from hangar_common.config import Settings
    from hangar_common.storage import ObjectStore
    from hangar_protos import metadata_pb2_grpc

    for key, value in stack.env.items():
        monkeypatch.setenv(key, value)

    async def run():
        engine = db.create_engine(stack.env["HANGAR_DATABASE_URL"], "lfs", pool_size=2)
        channel = grpc.aio.insecure_channel(f"127.0.0.1:{stack.service_ports['metadata']['grpc']}")
        try:
            return await gc.collect(engine, ObjectStore(Settings.from_env("lfs")),
                                    metadata_pb2_grpc.MetadataStub(channel), **kwargs)
        finally:
            await channel.close()
            await engine.dispose()
    return asyncio.run(run())


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

    assert orphan_info.hash not in _collect(stack, monkeypatch, grace=3600, dry_run=False).files   # too young
    dry = _collect(stack, monkeypatch, grace=0, dry_run=True)
    assert orphan_info.hash in dry.files and dry.xorbs and dry.xorb_bytes >= len(orphan)
    assert httpx.get(orphan_url, headers=headers).status_code == 200                               # untouched

    done = _collect(stack, monkeypatch, grace=0, dry_run=False)
    assert orphan_info.hash in done.files and set(dry.xorbs) <= set(done.xorbs)
    assert httpx.get(orphan_url, headers=headers).status_code == 404
    # The committed file survives and still downloads byte-exact, through Xet reconstruction too.
    sha = hashlib.sha256(kept).hexdigest()
    read = httpx.get(f"{endpoint}/api/models/{repo}/xet-read-token/main",
                     headers={"Authorization": f"Bearer {user.token}"}).json()
    from .test_hub_client import _xet_file_for
    row = _xet_file_for(stack, sha)
    assert row is not None and row["file_hash"] not in done.files
    import hf_xet
    with xet_session.new_file_download_group(endpoint=read["casUrl"], token=read["accessToken"],
                                             token_expiry_unix_secs=read["exp"]) as group:
        group.start_download_file(hf_xet.XetFileInfo(row["file_hash"], len(kept)), str(tmp_path / "out"))
    assert (tmp_path / "out").read_bytes() == kept
    assert not _s3(stack).has(f"lfs/{sha[:2]}/{sha[2:4]}/{sha}")    # stored once: as xorbs
    from tests.lfs.lfsutil import batch, bearer
    down = batch(endpoint, repo, "download", [(sha, len(kept))], headers=bearer(user.token)).json()["objects"][0]
    assert httpx.get(down["actions"]["download"]["href"], timeout=120).content == kept


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

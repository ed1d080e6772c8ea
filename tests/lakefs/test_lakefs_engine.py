"""The lakeFS engine: every Hub repository, ref and commit is also a lakeFS one, read back through
lakeFS's own clients; LFS bytes linked, never copied; crashes between the two writes repaired."""
from __future__ import annotations

import os
import time
import uuid

import lakefs
import pytest
from huggingface_hub import CommitOperationAdd, CommitOperationDelete, HfApi, hf_hub_download
from minio import Minio

from tests.commands import run_command
from tests.xet.test_hub_client import _db_rows, xet_on  # noqa: F401  (fixture)


@pytest.fixture()
def api(endpoint, user) -> HfApi:
    return HfApi(endpoint=endpoint, token=user.token)


@pytest.fixture()
def repo_id(api, user) -> str:
    rid = f"{user.name}/lk-{uuid.uuid4().hex[:8]}"
    api.create_repo(rid)
    return rid


def lakefs_client(lake) -> lakefs.Client:
    return lakefs.Client(host=lake.url, username=lake.access_key, password=lake.secret_key)


def hub_files(api: HfApi, repo_id: str, revision: str) -> dict[str, bytes]:
    out = {}
    for path in api.list_repo_files(repo_id, revision=revision):
        with open(hf_hub_download(repo_id, path, revision=revision, endpoint=api.endpoint, token=api.token), "rb") as f:
            out[path] = f.read()
    return out


def lakefs_files(lake, repository: str, ref: str) -> dict[str, bytes]:
    """Every file at `ref`, read through lakeFS's own high-level Python client."""
    repo = lakefs.repository(repository, client=lakefs_client(lake))
    return {obj.path: repo.ref(ref).object(obj.path).reader(mode="rb").read() for obj in repo.ref(ref).objects()}


def s3_gateway_files(lake, repository: str, ref: str) -> dict[str, bytes]:
    """The same through lakeFS's S3 gateway (bucket = repository, key = ref/path)."""
    host = lake.url.removeprefix("http://")
    s3 = Minio(host, access_key=lake.access_key, secret_key=lake.secret_key, secure=False, region="us-east-1")
    out = {}
    for obj in s3.list_objects(repository, prefix=f"{ref}/", recursive=True):
        resp = s3.get_object(repository, obj.object_name)
        try:
            out[obj.object_name.removeprefix(f"{ref}/")] = resp.read()
        finally:
            resp.close()
            resp.release_conn()
    return out


def lake_commit_of(lake, repository: str, ref: str, hub_sha: str) -> str:
    for commit in lake.log(repository, ref):
        if commit["metadata"].get("hangar.commit") == hub_sha:
            return commit["id"]
    raise AssertionError(f"no lakeFS commit carries {hub_sha} on {ref}")


def test_every_revision_reads_the_same_through_lakefs_clients(api, repo_id, lake):
    weights = os.urandom(11 * 1024 * 1024)  # above the LFS threshold
    api.create_commit(repo_id, [CommitOperationAdd("README.md", b"# card\n"), CommitOperationAdd("a/b/c.txt", b"c"),
                                CommitOperationAdd("model.bin", weights)], commit_message="weights")
    api.create_branch(repo_id, branch="dev/exp.1")
    api.create_commit(repo_id, [CommitOperationAdd("a/new.txt", b"n"), CommitOperationDelete("a/b/c.txt")],
                      commit_message="on dev", revision="dev/exp.1")
    api.create_tag(repo_id, tag="v1.0", revision="main")
    api.create_commit(repo_id, [CommitOperationAdd("README.md", b"# card v2\n")], commit_message="card")
    main_sha = api.repo_info(repo_id).sha
    dev_sha = api.repo_info(repo_id, revision="dev/exp.1").sha
    repository = lake.wait_branch("model", repo_id, "main", main_sha)
    dev = lake.wait_branch_named(repository, "dev-exp-1-")
    lake.wait_branch("model", repo_id, dev, dev_sha)
    tag = next(t["id"] for t in lake.paged(f"/repositories/{repository}/tags") if t["id"].startswith("v1-0-"))

    # Every Hub commit of every branch is a lakeFS commit carrying its id, and reads the same.
    for ref, lake_ref in (("main", "main"), ("dev/exp.1", dev)):
        for commit in api.list_repo_commits(repo_id, revision=ref):
            expected = hub_files(api, repo_id, commit.commit_id)
            lake_id = lake_commit_of(lake, repository, lake_ref, commit.commit_id)
            assert lakefs_files(lake, repository, lake_id) == expected, (ref, commit.title)
    assert lakefs_files(lake, repository, tag) == hub_files(api, repo_id, "v1.0")
    assert s3_gateway_files(lake, repository, "main") == hub_files(api, repo_id, "main")
    assert s3_gateway_files(lake, repository, dev) == hub_files(api, repo_id, "dev/exp.1")


def _bucket_bytes(stack) -> int:
    env = stack.env
    s3 = Minio(env["HANGAR_S3_ENDPOINT"].removeprefix("http://"), access_key=env["HANGAR_S3_ACCESS_KEY"],
               secret_key=env["HANGAR_S3_SECRET_KEY"], secure=False, region="us-east-1")
    return sum(o.size or 0 for o in s3.list_objects(env.get("HANGAR_S3_BUCKET", "hangar"), recursive=True))


def test_lfs_objects_are_linked_not_copied(api, repo_id, lake, stack):
    size = 24 * 1024 * 1024
    before = _bucket_bytes(stack)
    api.create_commit(repo_id, [CommitOperationAdd("big.bin", os.urandom(size))], commit_message="big")
    repository = lake.wait_branch("model", repo_id, "main", api.repo_info(repo_id).sha)
    grown = _bucket_bytes(stack) - before
    assert size <= grown < size + size // 2, f"S3 grew by {grown} bytes for one {size}-byte object"
    obj = lake.objects(repository, "main")["big.bin"]
    oid = obj["metadata"]["hangar-lfs-oid"]
    assert f"lfs/{oid[:2]}/{oid[2:4]}/{oid}" in obj["physical_address"]
    assert obj["size_bytes"] == size


def test_a_thousand_files_and_twenty_commits_round_trip(api, repo_id, lake):
    api.create_commit(repo_id, [CommitOperationAdd(f"data/{i:04d}.txt", f"row {i}\n".encode()) for i in range(1000)],
                      commit_message="1000 files")
    for n in range(19):
        api.create_commit(repo_id, [CommitOperationAdd(f"data/{n:04d}.txt", f"changed {n}\n".encode()),
                                    CommitOperationAdd(f"extra/{n}.txt", b"x")], commit_message=f"change {n}")
    hub_log = [c.commit_id for c in api.list_repo_commits(repo_id)]
    repository = lake.wait_branch("model", repo_id, "main", hub_log[0], timeout=180)
    lake_log = [c["metadata"].get("hangar.commit") for c in lake.log(repository, "main")]
    assert [c for c in lake_log if c] == hub_log  # the same history, newest first, commit for commit
    # The final revision file by file: blob ids agree, and the bytes of a sample read back.
    objects = lake.objects(repository, "main")
    entries = {e.path: e for e in api.list_repo_tree(repo_id, recursive=True) if hasattr(e, "blob_id")}
    assert set(objects) == set(entries)
    assert all(objects[p]["metadata"]["hangar-blob"] == entries[p].blob_id for p in entries)
    sample = lakefs_files(lake, repository, "main")
    assert sample["data/0005.txt"] == b"changed 5\n" and sample["data/0999.txt"] == b"row 999\n"


def test_refs_deleted_and_history_rewritten_follow(api, repo_id, lake):
    api.create_commit(repo_id, [CommitOperationAdd("a.txt", b"1")], commit_message="one")
    api.create_commit(repo_id, [CommitOperationAdd("b.txt", b"2")], commit_message="two")
    api.create_branch(repo_id, branch="gone")
    api.create_tag(repo_id, tag="old")
    repository = lake.wait_branch("model", repo_id, "main", api.repo_info(repo_id).sha)
    lake.wait_branch("model", repo_id, "gone", api.repo_info(repo_id, revision="gone").sha)
    api.super_squash_history(repo_id, commit_message="squashed")
    api.delete_branch(repo_id, branch="gone")
    api.delete_tag(repo_id, tag="old")
    squashed = api.repo_info(repo_id).sha
    lake.wait_branch("model", repo_id, "main", squashed)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        branches = {b["id"] for b in lake.paged(f"/repositories/{repository}/branches")}
        tags = {t["id"] for t in lake.paged(f"/repositories/{repository}/tags")}
        if "gone" not in branches and "old" not in tags:
            break
        time.sleep(0.3)
    assert "gone" not in branches and "old" not in tags
    assert lakefs_files(lake, repository, "main") == hub_files(api, repo_id, "main")
    api.delete_repo(repo_id)
    deadline = time.monotonic() + 60
    while lake.repository("model", repo_id) and time.monotonic() < deadline:
        time.sleep(0.3)
    assert lake.repository("model", repo_id) is None


def _reconcile(stack, *args: str) -> dict:
    return run_command(stack, "metadata", "lakefs-reconcile", *args, exit_codes=(0, 1))


def _kill(stack, name: str) -> None:
    stack.kill(name)  # held: the launcher's supervisor does not start it again by itself


def test_kill_between_the_hub_write_and_the_lakefs_write_is_repaired(api, repo_id, lake, stack):
    api.create_commit(repo_id, [CommitOperationAdd("a.txt", b"before")], commit_message="before")
    lake.wait_branch("model", repo_id, "main", api.repo_info(repo_id).sha)
    _kill(stack, "lakefs")              # lakeFS is gone: the Hub commit lands, lakeFS cannot follow
    api.create_commit(repo_id, [CommitOperationAdd("a.txt", b"after")], commit_message="after")
    hub_sha = api.repo_info(repo_id).sha
    _kill(stack, "metadata")            # ... and the follower dies with the change only in the Hub
    stack.start_service("lakefs")
    stack.start_service("metadata")     # reconciles on start
    repository = lake.wait_branch("model", repo_id, "main", hub_sha)
    assert lakefs_files(lake, repository, "main")["a.txt"] == b"after"
    number = _repo_number(lake, repository)
    assert not [d for d in _reconcile(stack, "--dry-run")["drift"] if d["repo_id"] == number]


def _repo_number(lake, repository: str) -> int:
    return int(repository.rsplit("-", 1)[1])


def test_a_crash_after_lakefs_committed_is_adopted_not_repeated(api, repo_id, lake, stack):
    """lakeFS committed but the engine did not record it: the reconciler adopts the lakeFS commit
    (its metadata carries the Hub id) instead of writing a second one."""
    import asyncio

    import asyncpg

    api.create_commit(repo_id, [CommitOperationAdd("x.txt", b"x")], commit_message="x")
    hub_sha = api.repo_info(repo_id).sha
    parent = api.list_repo_commits(repo_id)[1].commit_id
    repository = lake.wait_branch("model", repo_id, "main", hub_sha)
    number = _repo_number(lake, repository)

    async def forget() -> None:  # what a crash right after lakeFS's commit leaves in the engine's tables
        conn = await asyncpg.connect(stack.env["HANGAR_DATABASE_URL"], server_settings={"search_path": "metadata"})
        try:
            await conn.execute("SELECT pg_advisory_lock($1, $2)", 0x6C616B65, number)
            await conn.execute("DELETE FROM lakefs_commits WHERE repo_id = $1 AND hub_oid = $2", number, hub_sha)
            await conn.execute("UPDATE lakefs_refs SET synced_oid = $2 "
                               "WHERE repo_id = $1 AND hub_ref = 'refs/heads/main'", number, parent)
            report = _reconcile(stack, "--dry-run")
            assert any(d["repo_id"] == number and d["ref"] == "refs/heads/main" for d in report["drift"]), report
        finally:
            await conn.execute("SELECT pg_advisory_unlock($1, $2)", 0x6C616B65, number)
            await conn.close()

    asyncio.run(forget())
    report = _reconcile(stack)
    assert not any(d["repo_id"] == number for d in report["remaining"]), report
    carrying = [c for c in lake.log(repository, "main") if c["metadata"].get("hangar.commit") == hub_sha]
    assert len(carrying) == 1


def test_gc_keeps_objects_a_lakefs_commit_links(api, repo_id, lake, stack):
    """After a history rewrite drops an LFS file from every Hub revision, the object stays while a
    lakeFS commit of the repository links it (lfs's GC asks metadata UnreferencedOids)."""
    import asyncio

    import grpc

    from hangar_protos import metadata_pb2, metadata_pb2_grpc

    api.create_commit(repo_id, [CommitOperationAdd("w.bin", os.urandom(11 * 1024 * 1024))], commit_message="w")
    oid = api.get_paths_info(repo_id, ["w.bin"])[0].lfs.sha256
    lake.wait_branch("model", repo_id, "main", api.repo_info(repo_id).sha)
    api.delete_file("w.bin", repo_id)
    api.super_squash_history(repo_id)
    lake.wait_branch("model", repo_id, "main", api.repo_info(repo_id).sha)

    async def unreferenced() -> list[str]:
        async with grpc.aio.insecure_channel(stack.env["HANGAR_METADATA_TARGET"]) as channel:
            stub = metadata_pb2_grpc.MetadataStub(channel)
            return list((await stub.UnreferencedOids(metadata_pb2.OidsRequest(oids=[oid]))).oids)

    assert asyncio.run(unreferenced()) == []


def _lfs_command(stack, *args: str) -> dict:
    return run_command(stack, "lfs", *args)


def test_a_xet_uploaded_file_is_linked_through_one_verified_whole_copy(api, repo_id, lake, stack, xet_on, tmp_path):
    """lakeFS links whole objects, and a Xet-uploaded file is stored as xorbs only: lfs rebuilds one
    copy from the xorbs for lakeFS to link (hashed while written), and lakeFS reads the same bytes."""
    import hashlib

    data = os.urandom(12 * 1024 * 1024 + 5)
    oid = hashlib.sha256(data).hexdigest()
    (tmp_path / "x.safetensors").write_bytes(data)
    api.upload_file(path_or_fileobj=str(tmp_path / "x.safetensors"), path_in_repo="x.safetensors", repo_id=repo_id)
    assert _db_rows(stack, "SELECT key FROM objects WHERE oid = $1", oid)[0]["key"].startswith("xet-file:")
    repository = lake.wait_branch("model", repo_id, "main", api.repo_info(repo_id).sha)
    obj = lake.objects(repository, "main")["x.safetensors"]
    assert obj["physical_address"].endswith(f"lfs/{oid[:2]}/{oid[2:4]}/{oid}.linked")
    assert obj["size_bytes"] == len(data)
    assert lakefs_files(lake, repository, "main")["x.safetensors"] == data
    assert [r["key"] for r in _db_rows(stack, "SELECT key FROM linked_keys WHERE oid = $1", oid)] == \
        [f"lfs/{oid[:2]}/{oid[2:4]}/{oid}.linked"]


def test_the_xet_single_copy_migration_keeps_bytes_lakefs_links(api, user, lake, stack, tmp_path, monkeypatch):
    """An object uploaded over plain LFS and linked by lakeFS, whose bytes later also arrive through
    Xet, is stored twice; the migration that drops such copies must leave this one: lakeFS commits
    point at it."""
    import hashlib

    from huggingface_hub import constants

    data = os.urandom(11 * 1024 * 1024)
    oid = hashlib.sha256(data).hexdigest()
    plain = f"{user.name}/lk-{uuid.uuid4().hex[:8]}"
    api.create_repo(plain)
    api.create_commit(plain, [CommitOperationAdd("w.bin", data)], commit_message="plain LFS")
    lake.wait_branch("model", plain, "main", api.repo_info(plain).sha)
    via_xet = f"{user.name}/lk-{uuid.uuid4().hex[:8]}"
    api.create_repo(via_xet)
    monkeypatch.setattr(constants, "HF_HUB_DISABLE_XET", False)
    monkeypatch.setenv("HF_XET_CACHE", str(tmp_path / "xet-cache"))
    (tmp_path / "w.bin").write_bytes(data)
    api.upload_file(path_or_fileobj=str(tmp_path / "w.bin"), path_in_repo="w.bin", repo_id=via_xet)
    assert _db_rows(stack, "SELECT 1 FROM xet_files WHERE sha256 = $1", oid), "the second upload went through Xet"
    key = _db_rows(stack, "SELECT key FROM objects WHERE oid = $1", oid)[0]["key"]
    assert key and not key.startswith("xet-file:")
    assert oid not in _lfs_command(stack, "xet-single-copy", "--dry-run")["oids"]
    assert oid not in _lfs_command(stack, "xet-single-copy")["oids"]
    repository = lake.repository("model", plain)
    assert lakefs_files(lake, repository, "main")["w.bin"] == data


def test_a_rebuilt_copy_goes_with_its_object(api, repo_id, lake, stack, xet_on, tmp_path):
    """Once nothing references a Xet-uploaded object (its repository deleted, so lakeFS's links are
    gone too), garbage collection deletes the whole copy rebuilt for lakeFS with it."""
    import hashlib

    from minio.error import S3Error

    data = os.urandom(11 * 1024 * 1024 + 3)
    oid = hashlib.sha256(data).hexdigest()
    (tmp_path / "g.bin").write_bytes(data)
    api.upload_file(path_or_fileobj=str(tmp_path / "g.bin"), path_in_repo="g.bin", repo_id=repo_id)
    repository = lake.wait_branch("model", repo_id, "main", api.repo_info(repo_id).sha)
    copy = f"lfs/{oid[:2]}/{oid[2:4]}/{oid}.linked"
    env = stack.env
    s3 = Minio(env["HANGAR_S3_ENDPOINT"].removeprefix("http://"), access_key=env["HANGAR_S3_ACCESS_KEY"],
               secret_key=env["HANGAR_S3_SECRET_KEY"], secure=False, region="us-east-1")
    bucket = env.get("HANGAR_S3_BUCKET", "hangar")
    assert s3.stat_object(bucket, copy).size == len(data)
    api.delete_repo(repo_id)
    deadline = time.monotonic() + 90
    while lake.repository("model", repo_id) == repository and time.monotonic() < deadline:
        time.sleep(0.3)
    assert lake.repository("model", repo_id) is None
    report = _lfs_command(stack, "gc", "--grace", "0")
    assert oid in report["oids"], report
    with pytest.raises(S3Error):
        s3.stat_object(bucket, copy)
    assert not _db_rows(stack, "SELECT 1 FROM linked_keys WHERE oid = $1", oid)

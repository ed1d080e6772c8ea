"""A commit racing a collection never loses its object: CheckObjects (what metadata calls before a
commit lands) marks the object as just referenced, and the collector re-reads that mark under the
row lock. Objects are aged directly in the lfs schema so no test has to wait out a grace period."""
from __future__ import annotations

import asyncio

import asyncpg

from hangar_protos import lfs_pb2

from .gcutil import run_gc
from .lfsutil import create_repo, payload, upload_basic


def _age(stack, oid: str, seconds: int) -> None:
    async def run():
        conn = await asyncpg.connect(stack.env["HANGAR_DATABASE_URL"])
        try:
            await conn.execute("UPDATE lfs.objects SET verified_at = now() - make_interval(secs => $2), "
                               "last_referenced_at = now() - make_interval(secs => $2) WHERE oid = $1", oid, seconds)
        finally:
            await conn.close()
    asyncio.run(run())


def test_check_objects_protects_an_object_from_a_concurrent_collection(stack, endpoint, user, s3, lfs_grpc, peers):
    repo = create_repo(endpoint, user.token)
    protected, oid_a = payload(1000)
    dropped, oid_b = payload(1000)
    for data, oid in ((protected, oid_a), (dropped, oid_b)):
        assert upload_basic(endpoint, repo, data, oid, user.token).status_code == 200
        _age(stack, oid, 7200)
    # A commit of oid_a is in flight: metadata asked CheckObjects, its ref update has not landed yet.
    answer = lfs_grpc.CheckObjects(lfs_pb2.CheckObjectsRequest(
        principal=peers.principal(user.token), repo=peers.facts(repo),
        objects=[lfs_pb2.ObjectSpec(oid=oid_a, size=len(protected))]))
    assert answer.objects[0].usable
    report = run_gc(stack, "--grace", "3600")
    assert oid_b in report["oids"] and not s3.has(oid_b)
    assert oid_a not in report["oids"] and s3.has(oid_a)
    # Once collected, an object is refused to commits (the client uploads it again).
    gone = lfs_grpc.CheckObjects(lfs_pb2.CheckObjectsRequest(
        principal=peers.principal(user.token), repo=peers.facts(repo),
        objects=[lfs_pb2.ObjectSpec(oid=oid_b, size=len(dropped))]))
    assert not gone.objects[0].usable and gone.objects[0].reason == "missing"

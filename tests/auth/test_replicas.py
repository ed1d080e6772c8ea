"""Revocation reaches every replica (issue 5): a second auth replica, started on its own ports with
the same configuration, stops accepting a revoked token and a removed member at once, even though
both were just looked up (and cached) through it."""
from __future__ import annotations

import asyncio
import os
import sys

import grpc
import httpx
import pytest

from hangar_protos import auth_pb2, auth_pb2_grpc, common_pb2
from hangar_stack import infra
from tests.conftest import ROOT


@pytest.fixture(scope="module")
def replica(stack):
    """gRPC target of a second auth process sharing the stack's database, Redis and secret."""
    http_port, grpc_port = infra.free_port(), infra.free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("HANGAR_")}
    env.update(stack.env)
    env.update({"PYTHONPATH": os.pathsep.join([str(ROOT / "libs"), str(ROOT)]),
                "HANGAR_HTTP_PORT": str(http_port), "HANGAR_GRPC_PORT": str(grpc_port)})
    proc = infra.spawn([sys.executable, "-m", "services.auth"], stack.state / "logs" / "auth-replica.log",
                       env=env, cwd=ROOT)
    try:
        infra.wait_for_port(http_port, 60, proc, "auth-replica")
        yield f"127.0.0.1:{grpc_port}"
    finally:
        infra.stop_pid(proc.pid)


def rpc(target: str, method: str, request):
    async def run():
        async with grpc.aio.insecure_channel(target) as channel:
            return await getattr(auth_pb2_grpc.AuthStub(channel), method)(request, timeout=10)
    return asyncio.run(run())


def authenticate(target, token):
    return rpc(target, "Authenticate", auth_pb2.AuthenticateRequest(authorization=f"Bearer {token}"))


def test_revoked_token_fails_on_the_other_replica_at_once(replica, user, endpoint):
    made = httpx.post(f"{endpoint}/api/auth/tokens/create", json={"name": "replicated", "role": "read"},
                      headers={"Authorization": f"Bearer {user.token}"}).json()
    assert authenticate(replica, made["token"]).username == user.name
    resp = httpx.delete(f"{endpoint}/api/auth/tokens/{made['id']}", headers={"Authorization": f"Bearer {user.token}"})
    assert resp.status_code == 200
    with pytest.raises(grpc.aio.AioRpcError) as err:
        authenticate(replica, made["token"])
    assert err.value.code() == grpc.StatusCode.UNAUTHENTICATED


def test_removed_member_loses_access_on_the_other_replica_at_once(replica, make_user, make_org, endpoint):
    owner, member = make_user(), make_user()
    org = make_org(owner, members={member: "read"})
    facts = common_pb2.RepoFacts(repo=common_pb2.RepoRef(type="model", namespace=org.name, name="x"),
                                 repo_id="1", private=True)
    principal = authenticate(replica, member.token)
    ask = auth_pb2.AuthorizeRequest(principal=principal, repo=facts, action="read")
    assert rpc(replica, "Authorize", ask).allowed
    resp = httpx.delete(f"{endpoint}/api/org/{org}/members/{member.name}",
                        headers={"Authorization": f"Bearer {owner.token}"})
    assert resp.status_code == 200
    assert rpc(replica, "Authorize", ask).error_code == "RepoNotFound"

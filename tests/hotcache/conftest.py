"""A hub of its own with two replicas of gateway and metadata (HANGAR_REPLICAS_*), for the cache
invalidation tests: every change is made through Traefik and read back from each gateway replica
directly, so "seen at once on every replica" is checked replica by replica. Its Redis can be
stopped and started (an outage) without touching the session's stack."""
from __future__ import annotations

import os
import shutil
import uuid

import httpx
import pytest

from hangar_stack import infra
from hangar_stack.stack import ROOT, Stack
from tests.conftest import TestUser, register_user

REPLICAS = {"HANGAR_REPLICAS_GATEWAY": "2", "HANGAR_REPLICAS_METADATA": "2"}


@pytest.fixture(scope="package")
def replicated() -> Stack:
    state = ROOT / ".hangar" / "tests" / f"replicas-{os.getpid()}-{uuid.uuid4().hex[:6]}"
    saved = {k: os.environ.get(k) for k in REPLICAS}
    os.environ.update(REPLICAS)
    hub = Stack(state=state, port=infra.free_port())
    try:
        hub.up()
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    yield hub
    hub.down()
    shutil.rmtree(state, ignore_errors=True)


@pytest.fixture(scope="package")
def gateways(replicated) -> list[str]:
    """The base URL of each gateway replica (bypassing Traefik)."""
    urls = [f"http://127.0.0.1:{r['port']}" for r in replicated.records if r.get("service") == "gateway"]
    assert len(urls) == 2, replicated.records
    return urls


@pytest.fixture
def owner(replicated) -> TestUser:
    return register_user(replicated.endpoint)


@pytest.fixture
def api(replicated):
    """httpx against the hub through Traefik, `api(user)` with that user's write token."""
    clients = []

    def make(user: TestUser | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {user.token}"} if user else {}
        client = httpx.Client(base_url=replicated.endpoint, headers=headers, timeout=60)
        clients.append(client)
        return client
    yield make
    for client in clients:
        client.close()

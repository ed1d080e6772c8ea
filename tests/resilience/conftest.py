"""A hub of its own for the outage tests: they stop and kill -9 PostgreSQL, Redis, SeaweedFS and
services, which would disturb every other test sharing the session's hub (and its caches, pools and
webhook deliveries) if it happened there. Started by the same launcher, supervisor included."""
from __future__ import annotations

import os
import uuid

import pytest

from hangar_stack import infra
from hangar_stack.stack import ROOT, Stack
from tests.conftest import register_user

# Small enough that a few hundred requests rotate the logs (the rotation test reads this).
LOG_MAX_BYTES = 64 * 1024


@pytest.fixture(scope="package")
def own_stack():
    # Under this session's folder, which other sessions leave alone while this pytest process lives.
    state = ROOT / ".hangar" / "tests" / str(os.getpid()) / f"resilience-{uuid.uuid4().hex[:6]}"
    saved = os.environ.get("HANGAR_LOG_MAX_BYTES")
    os.environ["HANGAR_LOG_MAX_BYTES"] = str(LOG_MAX_BYTES)
    hub = Stack(state=state, port=infra.free_port())
    try:
        hub.up()
    finally:
        if saved is None:
            os.environ.pop("HANGAR_LOG_MAX_BYTES")
        else:
            os.environ["HANGAR_LOG_MAX_BYTES"] = saved
    yield hub
    hub.down()  # its state (logs) stays for a look after a failure; the next session removes it


@pytest.fixture(scope="package")
def hub_user(own_stack):
    return register_user(own_stack.endpoint)

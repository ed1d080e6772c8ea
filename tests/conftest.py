"""One hub for the whole test session, started by the same launcher as `make up`.

The stack lives under .hangar/tests/<pid> on free ports, so it never collides with a
hub started by `make up`. Clients in tests are the real ones: huggingface_hub, hf, git, git-lfs.
"""
from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest

# huggingface_hub reads HF_HUB_DISABLE_XET once, at import: set it before any test module imports it.
# Plain LFS is the suite's default path; Xet tests turn Xet back on for themselves (tests/xet).
os.environ.setdefault("HF_HUB_DISABLE_XET", "1")
# The session stack's webhooks may target receivers the tests run on loopback (the admin setting that
# exempts networks from the forgery check); retries and polls are quick so deliveries settle fast.
os.environ.setdefault("HANGAR_WEBHOOK_ALLOWED_NETWORKS", "127.0.0.0/8")
os.environ.setdefault("HANGAR_WEBHOOK_RETRY_BASE", "0.2")
os.environ.setdefault("HANGAR_WEBHOOK_TIMEOUT", "5")
os.environ.setdefault("HANGAR_COMMUNITY_POLL_INTERVAL", "0.2")

ROOT = Path(__file__).resolve().parents[1]

# tests/lakefs belong to the session whose stack runs the lakeFS engine (`make test` runs the
# contract suites a second time with HANGAR_METADATA_ENGINE=lakefs).
collect_ignore = [] if os.environ.get("HANGAR_METADATA_ENGINE") == "lakefs" else ["lakefs"]
sys.path[:0] = [str(ROOT / "libs"), str(ROOT)]

from hangar_stack import infra  # noqa: E402
from hangar_stack.stack import Stack  # noqa: E402


@pytest.fixture(scope="session")
def stack(tmp_path_factory) -> Stack:
    # Each test session has its own stack, so several sessions can run side by side.
    sessions = ROOT / ".hangar" / "tests"
    for old in sessions.glob("*") if sessions.exists() else ():
        # A folder is another session's while that pytest process lives (it may still be starting).
        session_alive = old.name.isdigit() and infra.pid_alive(int(old.name))
        if not session_alive and Stack(state=old).running() is None:
            outside = old / "pg-location"  # a cluster kept outside the tree (see infra._postgres_base)
            if outside.exists():
                shutil.rmtree(outside.read_text().strip(), ignore_errors=True)
            shutil.rmtree(old, ignore_errors=True)
    state = sessions / str(os.getpid())
    hub = Stack(state=state, port=infra.free_port())
    hub.up()
    # Real clients in tests talk to this hub only, with their own HOME (git config, HF cache).
    home = tmp_path_factory.mktemp("home")
    os.environ.update({"HF_ENDPOINT": hub.endpoint, "HF_HUB_DISABLE_XET": "1", "HOME": str(home),
                       "HF_HOME": str(home / "hf"), "HF_HUB_DISABLE_TELEMETRY": "1",
                       "HF_HUB_DISABLE_PROGRESS_BARS": "1", "GIT_TERMINAL_PROMPT": "0"})
    yield hub
    hub.down()


@pytest.fixture(scope="session")
def endpoint(stack) -> str:
    return stack.endpoint


# --- identities (issue 5) -------------------------------------------------------------------------
import uuid  # noqa: E402
from dataclasses import dataclass  # noqa: E402

import httpx  # noqa: E402


@dataclass(frozen=True)
class TestUser:
    """A registered user: `token` is a write token (a read one when made with role="read")."""
    __test__ = False  # not a test class
    name: str
    password: str
    token: str
    read_token: str
    email: str = ""


def unique_name(prefix: str = "user") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def register_user(endpoint: str, name: str | None = None, role: str = "write") -> TestUser:
    """Register through REST, log in (session + CSRF cookies), and create a write and a read token."""
    name = name or unique_name()
    password, email = f"pw-{uuid.uuid4().hex}", f"{name}@example.test"
    with httpx.Client(base_url=endpoint, timeout=30) as http:
        resp = http.post("/api/auth/register", json={"username": name, "email": email, "password": password})
        assert resp.status_code == 201, resp.text
        resp = http.post("/api/auth/login", json={"username": name, "password": password})
        assert resp.status_code == 200, resp.text
        csrf = {"X-CSRF-Token": resp.json()["csrfToken"]}
        tokens = {}
        for token_role in ("write", "read"):
            resp = http.post("/api/auth/tokens/create", json={"name": f"test-{token_role}", "role": token_role},
                             headers=csrf)
            assert resp.status_code == 201, resp.text
            tokens[token_role] = resp.json()["token"]
    main = tokens["read"] if role == "read" else tokens["write"]
    return TestUser(name=name, password=password, token=main, read_token=tokens["read"], email=email)


@pytest.fixture(scope="session")
def make_user(endpoint):
    """make_user(name=None, role="write") -> TestUser, registered through the REST API."""
    def make(name: str | None = None, role: str = "write") -> TestUser:
        return register_user(endpoint, name, role)
    return make


@pytest.fixture(scope="session")
def user(make_user) -> TestUser:
    return make_user()


@pytest.fixture(scope="session")
def other_user(make_user) -> TestUser:
    return make_user()


@dataclass(frozen=True)
class TestOrg:
    """An organization; `str(org)` is its name, so f"{org}/repo" is a repo id in it."""
    __test__ = False
    name: str
    owner: TestUser                  # its super-admin (creator)
    roles: tuple = ()                # ((TestUser, role), ...) as added

    def __str__(self) -> str:
        return self.name


def create_org(endpoint: str, owner: TestUser, name: str | None = None,
               members: dict | None = None) -> TestOrg:
    """Create through REST with the owner's write token, then add each member with its role
    ("read" | "member" | "admin" | "super-admin"; "contributor"/"write" mean member)."""
    name = name or unique_name("org")
    auth = {"Authorization": f"Bearer {owner.token}"}
    with httpx.Client(base_url=endpoint, timeout=30, headers=auth) as http:
        resp = http.post("/api/org/create", json={"name": name})
        assert resp.status_code == 201, resp.text
        for member, role in (members or {}).items():
            resp = http.post(f"/api/org/{name}/members", json={"username": member.name, "role": role})
            assert resp.status_code == 201, resp.text
    return TestOrg(name=name, owner=owner, roles=tuple((members or {}).items()))


@pytest.fixture(scope="session")
def make_org(endpoint):
    """make_org(owner: TestUser, name=None, members={TestUser: role}) -> TestOrg."""
    def make(owner: TestUser, name: str | None = None, members: dict | None = None) -> TestOrg:
        return create_org(endpoint, owner, name, members)
    return make

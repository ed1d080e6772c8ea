"""Fixtures for Xet tests: CAS tokens minted with the stack's secret (as the token endpoints do),
and the real hf_xet client pointed at the hub's CAS URL."""
from __future__ import annotations

import os
import uuid

import pytest


@pytest.fixture(scope="session")
def cas_url(stack) -> str:
    return stack.endpoint + "/xet"


@pytest.fixture(scope="session")
def cas_identity(endpoint, make_user) -> tuple[str, str]:
    """(user id, access token id) of a real user: CAS tokens are bound to the access token that
    minted them, and the CAS routes check it is still valid."""
    import httpx

    who = make_user()
    with httpx.Client(base_url=endpoint, headers={"Authorization": f"Bearer {who.token}"}) as http:
        user_id = http.get("/api/whoami-v2").json()["id"]
        token_id = next(t["id"] for t in http.get("/api/auth/tokens").json() if t["role"] == "write")
    return user_id, token_id


@pytest.fixture
def cas_token(stack, cas_identity):
    """mint(scope="write", repo_id=...) -> (token, exp) for an arbitrary repository id."""
    from services.lfs.xet import tokens

    def mint(scope: str = "write", repo_id: str | None = None, ttl: int = 3600):
        user_id, token_id = cas_identity
        return tokens.mint(stack.env["HANGAR_SECRET_KEY"], repo_id=repo_id or f"repo-{uuid.uuid4().hex}",
                           user_id=user_id, scope=scope, ttl=ttl, token_id=token_id)
    return mint


@pytest.fixture
def xet_session(tmp_path):
    """A fresh hf_xet session with its own cache (no dedup against earlier tests' local shards)."""
    import hf_xet

    old = os.environ.get("HF_XET_CACHE")
    os.environ["HF_XET_CACHE"] = str(tmp_path / "xet-cache")
    try:
        yield hf_xet.XetSession()
    finally:
        if old is None:
            os.environ.pop("HF_XET_CACHE", None)
        else:
            os.environ["HF_XET_CACHE"] = old

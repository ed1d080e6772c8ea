"""Fixtures of the repo API tests: an authenticated HfApi, raw HTTP with the user's token, and a
fresh model repo per test."""
from __future__ import annotations

import os

import httpx
import pytest
from huggingface_hub import HfApi, constants

# plain LFS is the default path (docs/clients.md "Xet"): huggingface_hub reads HF_HUB_DISABLE_XET once, at import,
# which may happen before the session's stack fixture sets it.
os.environ["HF_HUB_DISABLE_XET"] = "1"
constants.HF_HUB_DISABLE_XET = True

from .client_flows import unique  # noqa: E402  (after the environment is set)


@pytest.fixture(scope="session")
def api(endpoint, user) -> HfApi:
    return HfApi(endpoint=endpoint, token=user.token)


@pytest.fixture()
def http(endpoint, user):
    with httpx.Client(base_url=endpoint, headers={"Authorization": f"Bearer {user.token}"}, timeout=60) as client:
        yield client


@pytest.fixture()
def anon(endpoint):
    with httpx.Client(base_url=endpoint, timeout=60) as client:
        yield client


@pytest.fixture()
def repo(api, user) -> str:
    repo_id = f"{user.name}/{unique('t')}"
    api.create_repo(repo_id)
    return repo_id

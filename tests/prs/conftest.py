"""Fixtures of the pull request tests: a repo owner, a contributor who is no member of anything the
owner holds, their HfApi clients, and the git fixtures of tests/git."""
from __future__ import annotations

import uuid

import httpx
import pytest
from huggingface_hub import HfApi, constants

from tests.community.conftest import receiver  # noqa: F401  (the webhook receiver)
from tests.git.conftest import git_home, hub  # noqa: F401  (fixtures for the git tests here)


@pytest.fixture(scope="session")
def owner(make_user):
    return make_user()


@pytest.fixture(scope="session")
def contributor(make_user):
    return make_user()


@pytest.fixture(scope="session")
def owner_api(endpoint, owner) -> HfApi:
    constants.HF_HUB_DISABLE_XET = True      # in-process calls: the LFS batch path (Xet runs in pr_flows)
    return HfApi(endpoint=endpoint, token=owner.token)


@pytest.fixture(scope="session")
def contributor_api(endpoint, contributor) -> HfApi:
    return HfApi(endpoint=endpoint, token=contributor.token)


@pytest.fixture()
def pr_repo(owner_api, owner) -> str:
    repo_id = f"{owner.name}/pr-{uuid.uuid4().hex[:8]}"
    owner_api.create_repo(repo_id)
    owner_api.upload_file(path_or_fileobj=b"# card\n", path_in_repo="README.md", repo_id=repo_id)
    return repo_id


def client(endpoint: str, user=None) -> httpx.Client:
    headers = {"Authorization": f"Bearer {user.token}"} if user else {}
    return httpx.Client(base_url=endpoint, headers=headers, timeout=60)

"""Fixtures for the git smart-HTTP tests: real git and git-lfs against the session hub."""
from __future__ import annotations

import uuid
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from huggingface_hub import HfApi

from tests.git.gitutil import git


@pytest.fixture(scope="session")
def git_home(stack) -> Path:
    """The test HOME (set by the stack fixture) with an identity and git-lfs's filters installed."""
    git("config", "--global", "user.name", "Git Tester")
    git("config", "--global", "user.email", "git-tester@example.test")
    git("config", "--global", "init.defaultBranch", "main")
    git("lfs", "install", "--skip-repo")
    return Path.home()


@pytest.fixture(scope="session")
def hub(endpoint, git_home):
    return Hub(endpoint)


class Hub:
    """URLs and API clients for one hub."""

    def __init__(self, endpoint: str) -> None:
        self.endpoint = endpoint
        self.netloc = urlsplit(endpoint).netloc

    def api(self, user=None) -> HfApi:
        return HfApi(endpoint=self.endpoint, token=user.token if user else False)

    def url(self, repo_id: str, repo_type: str = "model", user=None, token: str | None = None,
            suffix: str = ".git") -> str:
        prefix = "" if repo_type == "model" else f"{repo_type}s/"
        cred = f"{user.name}:{token or user.token}@" if user else ""
        return f"http://{cred}{self.netloc}/{prefix}{repo_id}{suffix}"

    def new_repo(self, user, repo_type: str = "model", private: bool = False) -> str:
        repo_id = f"{user.name}/git-{uuid.uuid4().hex[:8]}"
        self.api(user).create_repo(repo_id, repo_type=repo_type, private=private)
        return repo_id

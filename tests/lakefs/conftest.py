"""The lakeFS engine's own tests. They run in the session whose stack uses the lakeFS engine
(`HANGAR_METADATA_ENGINE=lakefs`, as `make test` runs the contract suite a second time); the
root conftest leaves this folder out of the git-engine session."""
from __future__ import annotations

import time

import httpx
import pytest

from services.metadata.lakefs import names


class Lake:
    """A small synchronous view of the stack's lakeFS for assertions (its API over httpx)."""

    def __init__(self, env: dict[str, str]) -> None:
        self.url = env["HANGAR_LAKEFS_URL"]
        self.access_key, self.secret_key = env["HANGAR_LAKEFS_ACCESS_KEY"], env["HANGAR_LAKEFS_SECRET_KEY"]
        self.http = httpx.Client(base_url=self.url + "/api/v1", auth=(self.access_key, self.secret_key), timeout=30)

    def get(self, path: str, **params):
        resp = self.http.get(path, params=params)
        resp.raise_for_status()
        return resp.json()

    def paged(self, path: str, **params) -> list[dict]:
        out, after = [], ""
        while True:
            body = self.get(path, after=after, amount=1000, **params)
            out += body["results"]
            if not body["pagination"]["has_more"]:
                return out
            after = body["pagination"]["next_offset"]

    def repository(self, repo_type: str, repo_id: str) -> str | None:
        """The lakeFS repository of a Hub repository (its id starts with the readable slug)."""
        namespace, name = repo_id.split("/")
        prefix = names.repository_id(repo_type, namespace, name, 0)[:-2] + "-"
        found = [r["id"] for r in self.paged("/repositories") if r["id"].startswith(prefix)
                 and r["id"][len(prefix):].isdigit()]
        return found[-1] if found else None

    def head(self, repo: str, branch: str) -> dict | None:
        resp = self.http.get(f"/repositories/{repo}/branches/{branch}")
        if resp.status_code == 404:
            return None
        commit = self.get(f"/repositories/{repo}/commits/{resp.json()['commit_id']}")
        return commit

    def log(self, repo: str, ref: str) -> list[dict]:
        return self.paged(f"/repositories/{repo}/refs/{ref}/commits")

    def objects(self, repo: str, ref: str) -> dict[str, dict]:
        return {o["path"]: o for o in self.paged(f"/repositories/{repo}/refs/{ref}/objects/ls")}

    def wait_branch(self, repo_type: str, repo_id: str, branch: str, hub_sha: str, timeout: float = 90) -> str:
        """Wait until lakeFS's branch carries `hub_sha`; return the lakeFS repository id."""
        deadline, last = time.monotonic() + timeout, None
        while time.monotonic() < deadline:
            lake = self.repository(repo_type, repo_id)
            if lake:
                head = self.head(lake, branch)
                last = head and head["metadata"].get("hangar.commit")
                if last == hub_sha:
                    return lake
            time.sleep(0.3)
        raise AssertionError(f"lakeFS did not follow {repo_id}@{branch} to {hub_sha} (at {last})")


    def wait_branch_named(self, repository: str, prefix: str, timeout: float = 90) -> str:
        """Wait until a lakeFS branch whose id starts with `prefix` exists (the follower writes the
        default branch first and the others after it); return its id."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = [b["id"] for b in self.paged(f"/repositories/{repository}/branches") if b["id"].startswith(prefix)]
            if found:
                return found[0]
            time.sleep(0.3)
        raise AssertionError(f"lakeFS has no branch {prefix}* in {repository}")


@pytest.fixture(scope="session")
def lake(stack) -> Lake:
    env = stack.env
    if env.get("HANGAR_METADATA_ENGINE") != "lakefs":
        pytest.fail("tests/lakefs need the lakeFS engine session (HANGAR_METADATA_ENGINE=lakefs)")
    return Lake(env)

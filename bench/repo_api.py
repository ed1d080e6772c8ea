"""The HF repo API through the gateway, driven by huggingface_hub (HTTP + NDJSON, Traefik in front),
against git itself on the same files: a commit of 1,000 small files, the recursive tree of a
100k-file repository (paginated, 1,000 entries a page), and repo_info with every sibling. git's
listing is timed on the repository as committed (loose objects: `git_s`, `ratio`) and once packed
(`git_packed_s`, `ratio_packed`).

Run: .venv/bin/python -m bench.repo_api   (results in bench/results/repo_api.json)
"""
from __future__ import annotations

import os
import tempfile
import uuid
from pathlib import Path

import httpx

from .harness import Timer, hub, report, rss_mb
from .metadata_engine import BIG, files, git_baseline

os.environ["HF_HUB_DISABLE_XET"] = "1"  # before huggingface_hub reads it: Xet is not served yet

from huggingface_hub import CommitOperationAdd, HfApi  # noqa: E402


def bench_user(endpoint: str) -> tuple[str, str]:
    """Register a user through REST and return (name, write token)."""
    name, password = f"bench-{uuid.uuid4().hex[:8]}", uuid.uuid4().hex
    with httpx.Client(base_url=endpoint, timeout=60) as http:
        http.post("/api/auth/register", json={"username": name, "email": f"{name}@bench.test",
                                              "password": password}).raise_for_status()
        login = http.post("/api/auth/login", json={"username": name, "password": password})
        login.raise_for_status()
        token = http.post("/api/auth/tokens/create", json={"name": "bench", "role": "write"},
                          headers={"X-CSRF-Token": login.json()["csrfToken"]})
        token.raise_for_status()
        return name, token.json()["token"]


def _commit(api: HfApi, repo_id: str, batch: dict[str, bytes], message: str) -> None:
    api.create_commit(repo_id, commit_message=message,
                      operations=[CommitOperationAdd(path, data) for path, data in batch.items()])


def _pid(stack, name: str) -> int:
    return next(r["pid"] for r in stack.records if r["name"] == name)


def run(stack) -> list[dict]:
    user, token = bench_user(stack.endpoint)
    api = HfApi(endpoint=stack.endpoint, token=token)
    small = api.create_repo(f"{user}/small").repo_id
    thousand = files(1000)
    with Timer() as commit:
        _commit(api, small, thousand, "1000 files")
    with tempfile.TemporaryDirectory(ignore_cleanup_errors=True) as tmp:
        git_commit, _, _ = git_baseline(thousand, Path(tmp))

    big = api.create_repo(f"{user}/big").repo_id
    everything = files(BIG)
    items = list(everything.items())
    with Timer() as build:
        for i in range(0, BIG, 10_000):
            _commit(api, big, dict(items[i:i + 10_000]), f"part {i}")
    with Timer() as tree:
        count = sum(1 for _ in api.list_repo_tree(big, recursive=True))
    with Timer() as info:
        siblings = len(api.repo_info(big, files_metadata=True).siblings)
    with tempfile.TemporaryDirectory(ignore_cleanup_errors=True) as tmp:
        _, git_list, git_packed = git_baseline(everything, Path(tmp))
    return [
        {"case": "commit 1,000 small files (create_commit)", "hangar_s": round(commit.seconds, 3),
         "git_s": round(git_commit, 3), "ratio": round(commit.seconds / git_commit, 2)},
        {"case": f"build {BIG:,}-file repo (10 commits of 10k over HTTP)", "hangar_s": round(build.seconds, 2)},
        {"case": f"list_repo_tree recursive, {count:,} entries", "hangar_s": round(tree.seconds, 3),
         "git_s": round(git_list, 3), "ratio": round(tree.seconds / git_list, 2),
         "git_packed_s": round(git_packed, 3), "ratio_packed": round(tree.seconds / git_packed, 2)},
        {"case": f"repo_info files_metadata, {siblings:,} siblings", "hangar_s": round(info.seconds, 3),
         "git_s": round(git_list, 3), "ratio": round(info.seconds / git_list, 2),
         "git_packed_s": round(git_packed, 3), "ratio_packed": round(info.seconds / git_packed, 2)},
        {"case": "gateway RSS after (MiB)", "hangar_s": round(rss_mb(_pid(stack, "gateway")), 1)},
    ]


def main() -> None:
    load_start = os.getloadavg()
    with hub() as stack:
        rows = run(stack)
    rows.append({"case": "load average (1, 5, 15 min) at start and end; the machine is shared",
                 "hangar_s": f"{load_start} -> {os.getloadavg()}"})
    report("repo_api", rows)


if __name__ == "__main__":
    main()

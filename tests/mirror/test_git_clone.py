"""git clone through the mirror: the same commits, tags and files as a clone of the upstream."""
from __future__ import annotations

import os
import subprocess

from .conftest import Upstream


def _git(*args, cwd=None) -> str:
    env = {**os.environ, "GIT_LFS_SKIP_SMUDGE": "1", "GIT_TERMINAL_PROMPT": "0"}
    return subprocess.run(["git", *args], cwd=cwd, env=env, check=True, capture_output=True, text=True,
                          timeout=300).stdout


def test_clone_keeps_upstream_commit_ids(endpoint, upstream: Upstream, tmp_path):
    clones = {}
    for name, base in (("mirror", endpoint), ("upstream", upstream.endpoint)):
        target = tmp_path / name
        _git("clone", "-q", f"{base}/{upstream.public}", str(target))
        clones[name] = {
            "head": _git("rev-parse", "HEAD", cwd=target).strip(),
            "log": _git("log", "--all", "--format=%H %T %s", cwd=target),
            "refs": _git("ls-remote", f"{base}/{upstream.public}", cwd=target),
            "config": (target / "config.json").read_bytes(),
            "pointer": (target / "weights" / "model.bin").read_bytes(),
        }
    assert clones["mirror"] == clones["upstream"]
    assert clones["mirror"]["head"] == upstream.api.repo_info(upstream.public).sha
    assert "refs/tags/v1" in clones["mirror"]["refs"] and "refs/heads/dev" in clones["mirror"]["refs"]

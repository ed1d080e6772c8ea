"""Reads through the mirror under the older clients: for every python in HANGAR_EXTRA_CLIENT_PYTHONS
(venvs with huggingface_hub 1.x and 0.36.x), client_reads.py compares what the mirror answers with
the upstream's own answers (repo info at branch and tag, commits, tree, snapshot_download,
hf_hub_download at a tag, HfFileSystem), and once more with the suite's huggingface_hub 2.4 with Xet
on (its default)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import Upstream

READS = Path(__file__).with_name("client_reads.py")
PYTHONS = [p for p in os.environ.get("HANGAR_EXTRA_CLIENT_PYTHONS", "").split(":") if p]


# `make test` always provides the venvs; only a bare `pytest` outside CI may skip (CI fails instead).
@pytest.mark.skipif(not PYTHONS and not os.environ.get("CI"), reason="HANGAR_EXTRA_CLIENT_PYTHONS is empty")
@pytest.mark.parametrize("python", PYTHONS or [""])
def test_reads_through_the_mirror_under_older_clients(python, endpoint, upstream: Upstream, tmp_path):
    assert python, "HANGAR_EXTRA_CLIENT_PYTHONS is empty: run through `make test`, which provides the venvs"
    _run(python, "1", endpoint, upstream, tmp_path)


def test_reads_through_the_mirror_with_xet_on(endpoint, upstream: Upstream, tmp_path):
    _run(sys.executable, "0", endpoint, upstream, tmp_path)


def _run(python: str, disable_xet: str, endpoint: str, upstream: Upstream, tmp_path) -> None:
    version = subprocess.run([python, "-c", "import huggingface_hub; print(huggingface_hub.__version__)"],
                             capture_output=True, text=True, check=True).stdout.strip()
    env = {**os.environ, "HF_HUB_DISABLE_XET": disable_xet, "HF_HOME": str(tmp_path / "hf"),
           "HF_HUB_DISABLE_TELEMETRY": "1", "HF_HUB_DISABLE_PROGRESS_BARS": "1", "PYTHONPATH": ""}
    for key in ("HF_TOKEN", "HF_ENDPOINT"):
        env.pop(key, None)
    run = subprocess.run([python, str(READS), endpoint, upstream.endpoint, upstream.public], capture_output=True,
                         text=True, env=env, timeout=900)
    results = [json.loads(line) for line in run.stdout.splitlines() if line.startswith("{")]
    failed = {r["read"]: r["error"] for r in results if not r["ok"]}
    assert len(results) == 6 and not failed and run.returncode == 0, (
        f"huggingface_hub {version} (HF_HUB_DISABLE_XET={disable_xet}): {len(failed)} read(s) failed\n"
        + "\n".join(f"--- {name}\n{error}" for name, error in failed.items()) + run.stderr[-3000:])

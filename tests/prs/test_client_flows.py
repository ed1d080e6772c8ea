"""The pull request and discussion flows (pr_flows.py) under every client we support: the suite's
huggingface_hub 2.4 with Xet on (its default: upload_folder opens a draft PR and commits to its
ref; uploads go through a contributor's Xet write token) and off (LFS batch), and the older client
venvs of HANGAR_EXTRA_CLIENT_PYTHONS (newest 1.x and 0.36.x) with Xet off. Each run uses a fresh
owner and a fresh contributor who is no member of the owner's namespace."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

FLOWS = Path(__file__).with_name("pr_flows.py")
PYTHONS = [p for p in os.environ.get("HANGAR_EXTRA_CLIENT_PYTHONS", "").split(":") if p]


@pytest.mark.parametrize("disable_xet", ["1", "0"], ids=["xet-off", "xet-on"])
def test_flows_with_huggingface_hub_2_4(disable_xet, endpoint, make_user, tmp_path):
    run_flows(sys.executable, disable_xet, endpoint, make_user, tmp_path)


@pytest.mark.skipif(not PYTHONS and not os.environ.get("CI"), reason="HANGAR_EXTRA_CLIENT_PYTHONS is empty")
@pytest.mark.parametrize("python", PYTHONS or [""])
def test_flows_under_older_clients(python, endpoint, make_user, tmp_path):
    assert python, "HANGAR_EXTRA_CLIENT_PYTHONS is empty: run through `make test`, which provides the venvs"
    run_flows(python, "1", endpoint, make_user, tmp_path)


def run_flows(python: str, disable_xet: str, endpoint, make_user, tmp_path, *flows: str):
    version = subprocess.run([python, "-c", "import huggingface_hub; print(huggingface_hub.__version__)"],
                             capture_output=True, text=True, check=True).stdout.strip()
    owner, contributor = make_user(), make_user()
    env = {**os.environ, "HF_HUB_DISABLE_XET": disable_xet, "HF_HOME": str(tmp_path / "hf"), "HF_ENDPOINT": endpoint,
           "HF_HUB_DISABLE_TELEMETRY": "1", "HF_HUB_DISABLE_PROGRESS_BARS": "1", "PYTHONPATH": ""}
    env.pop("HF_TOKEN", None)
    run = subprocess.run([python, str(FLOWS), endpoint, owner.token, contributor.token, *flows],
                         capture_output=True, text=True, env=env, timeout=1200)
    results = [json.loads(line) for line in run.stdout.splitlines() if line.startswith("{")]
    failed = {r["flow"]: r["error"] for r in results if not r["ok"]}
    assert results and not failed and run.returncode == 0, (
        f"huggingface_hub {version} (HF_HUB_DISABLE_XET={disable_xet}): {len(failed)} flow(s) failed\n"
        + "\n".join(f"--- {name}\n{error}" for name, error in failed.items()) + run.stderr[-3000:])

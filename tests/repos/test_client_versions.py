"""The same flows under other huggingface_hub versions: for every python in
HANGAR_EXTRA_CLIENT_PYTHONS (colon-separated; venvs with huggingface_hub 1.x and 0.36.x), run
client_flows.py as a subprocess against the hub and require every flow to pass. And once more with
the suite's own huggingface_hub at its default settings: Xet on, as a plain install uses it."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

FLOWS = Path(__file__).with_name("client_flows.py")
PYTHONS = [p for p in os.environ.get("HANGAR_EXTRA_CLIENT_PYTHONS", "").split(":") if p]


# `make test` always provides the venvs; only a bare `pytest` outside CI may skip (CI fails instead).
@pytest.mark.skipif(not PYTHONS and not os.environ.get("CI"), reason="HANGAR_EXTRA_CLIENT_PYTHONS is empty")
@pytest.mark.parametrize("python", PYTHONS or [""])
def test_flows_under_client(python: str, endpoint, make_user, tmp_path):
    assert python, "HANGAR_EXTRA_CLIENT_PYTHONS is empty: run through `make test`, which provides the venvs"
    _run_flows(python, "1", endpoint, make_user, tmp_path)


def test_flows_with_xet_on_by_default(endpoint, make_user, tmp_path):
    _run_flows(sys.executable, "0", endpoint, make_user, tmp_path)


def _run_flows(python: str, disable_xet: str, endpoint, make_user, tmp_path):
    version = subprocess.run([python, "-c", "import huggingface_hub; print(huggingface_hub.__version__)"],
                             capture_output=True, text=True, check=True).stdout.strip()
    user = make_user()
    env = {**os.environ, "HF_HUB_DISABLE_XET": disable_xet, "HF_HOME": str(tmp_path / "hf"), "HF_ENDPOINT": endpoint,
           "HF_HUB_DISABLE_TELEMETRY": "1", "HF_HUB_DISABLE_PROGRESS_BARS": "1", "PYTHONPATH": ""}
    env.pop("HF_TOKEN", None)
    run = subprocess.run([python, str(FLOWS), endpoint, user.token], capture_output=True, text=True, env=env,
                         timeout=1800)
    results = [json.loads(line) for line in run.stdout.splitlines() if line.startswith("{")]
    failed = {r["flow"]: r["error"] for r in results if not r["ok"]}
    assert results and not failed and run.returncode == 0, (
        f"huggingface_hub {version}: {len(failed)} flow(s) failed\n"
        + "\n".join(f"--- {name}\n{error}" for name, error in failed.items()) + run.stderr[-3000:])

"""Run `python -m services.lfs gc` against the test stack and return its JSON report."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run_gc(stack, *args: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HANGAR_")}
    env.update(stack.env)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "libs"), str(ROOT)])
    proc = subprocess.run([sys.executable, "-m", "services.lfs", "gc", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr + proc.stdout
    return json.loads(proc.stdout.strip().splitlines()[-1])

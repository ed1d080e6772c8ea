"""Run a service's command line (`python -m services.<name> ...`) against the test stack, with the
stack's HANGAR_* settings only, and return the JSON report it prints (its logs go to stderr)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run_command(stack, service: str, *args: str, exit_codes: tuple[int, ...] = (0,)) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HANGAR_")}
    env.update(stack.env)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "libs"), str(ROOT)])
    proc = subprocess.run([sys.executable, "-m", f"services.{service}", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode in exit_codes, proc.stderr + proc.stdout
    return json.loads(proc.stdout)

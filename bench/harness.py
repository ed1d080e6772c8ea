"""Shared pieces of the benchmarks: a hub of their own, timing, and a results table."""
from __future__ import annotations

import contextlib
import json
import os
import shutil
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "libs"), str(ROOT)]

from hangar_stack import infra  # noqa: E402
from hangar_stack.stack import Stack  # noqa: E402

RESULTS = ROOT / "bench" / "results"


@contextlib.contextmanager
def hub():
    """A fresh hub on free ports for one benchmark run."""
    state = ROOT / ".hangar" / "bench" / uuid.uuid4().hex[:8]
    stack = Stack(state=state, port=infra.free_port())
    stack.up()
    os.environ.update({"HF_ENDPOINT": stack.endpoint, "HF_HUB_DISABLE_TELEMETRY": "1",
                       "HF_HUB_DISABLE_PROGRESS_BARS": "1"})
    try:
        yield stack
    finally:
        stack.down()
        shutil.rmtree(state, ignore_errors=True)


class Timer:
    def __enter__(self):
        self.started = time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.seconds = time.perf_counter() - self.started


def rss_mb(pid: int) -> float:
    """Resident memory of a process, in MiB."""
    with open(f"/proc/{pid}/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def report(name: str, rows: list[dict]) -> None:
    """Print a table and keep it as JSON under bench/results/."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"{name}.json").write_text(json.dumps(rows, indent=2))
    print(f"\n== {name} ==")
    for row in rows:
        print("  " + "  ".join(f"{k}={v:.3f}" if isinstance(v, float) else f"{k}={v}" for k, v in row.items()))

"""The launcher keeps a stack whole (issue 10, item 6): `make up` on a half-alive stack starts what is
missing instead of saying "already running", and logs rotate by size."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import httpx

from hangar_stack import infra
from hangar_stack.stack import ROOT
from tests.resilience.conftest import LOG_MAX_BYTES


def _supervisor(stack) -> int:
    return json.loads(stack.state_file.read_text())["supervisor"]


def _wait_healthy(endpoint: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while httpx.get(f"{endpoint}/health", timeout=10).status_code != 200:
        assert time.monotonic() < deadline, "the hub did not become healthy"
        time.sleep(0.3)


def test_up_on_a_half_alive_stack_heals_it(own_stack):
    """Without the supervisor (killed too), a crashed service leaves /health 503; `up` then starts
    the missing service and the supervisor again, and returns once the hub is healthy."""
    supervisor = _supervisor(own_stack)
    os.kill(supervisor, signal.SIGKILL)
    while infra.pid_alive(supervisor):
        time.sleep(0.05)
    own_stack.kill("git", hold=False)
    assert httpx.get(f"{own_stack.endpoint}/health", timeout=10).status_code == 503
    env = {k: v for k, v in os.environ.items() if not k.startswith("HANGAR_")}
    env.update({"HANGAR_STATE_DIR": str(own_stack.state), "HANGAR_PORT": str(own_stack.port),
                "PYTHONPATH": os.pathsep.join([str(ROOT / "libs"), str(ROOT)])})
    done = subprocess.run([sys.executable, "-m", "hangar_stack", "up"], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "already running" not in done.stdout
    assert "started again: git, supervisor" in done.stdout, done.stdout
    assert httpx.get(f"{own_stack.endpoint}/health", timeout=10).status_code == 200
    new_supervisor = _supervisor(own_stack)
    assert new_supervisor != supervisor and infra.pid_alive(new_supervisor)
    # ... and that supervisor heals the next crash by itself.
    before = own_stack.kill("git", hold=False)
    deadline = time.monotonic() + 60
    while own_stack.pid_of("git") == before:
        assert time.monotonic() < deadline, "git was not started again"
        time.sleep(0.2)
    _wait_healthy(own_stack.endpoint)


def test_logs_rotate_by_size(own_stack):
    """The stack runs with HANGAR_LOG_MAX_BYTES=64 KiB: a few hundred requests (each an access-log
    line) push the gateway's log past it, and the supervisor rotates it to gateway.log.1 while the
    gateway goes on writing into the truncated log."""
    logs = own_stack.state / "logs"
    with httpx.Client(base_url=own_stack.endpoint, timeout=30) as http:
        deadline = time.monotonic() + 180
        while not (logs / "gateway.log.1").exists():
            for _ in range(50):
                http.get("/api/models", params={"search": "x" * 100})
            assert time.monotonic() < deadline, "gateway.log was not rotated"
        marker = f"after-rotation-{os.getpid()}"
        http.get("/api/does-not-exist", headers={"X-Request-Id": marker})
    assert (logs / "gateway.log.1").stat().st_size > LOG_MAX_BYTES
    deadline = time.monotonic() + 10
    while marker not in (logs / "gateway.log").read_text(errors="replace"):
        assert time.monotonic() < deadline, "the gateway no longer writes its log"
        time.sleep(0.2)
    assert b"\0" not in (logs / "gateway.log").read_bytes()[:4096]

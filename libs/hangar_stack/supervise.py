"""The launcher's supervisor: one detached process per stack (`python -m hangar_stack supervise`,
started by `up`) that keeps the stack whole and its logs bounded.

- A process of the stack that is gone (crashed, killed, OOM-killed) is started again on the ports
  and environment it had, PostgreSQL, Redis and SeaweedFS included (their data survives). Restarts
  back off per process: 1 s, 2 s, 4 s, ... up to 60 s while it keeps dying, back to 1 s once it has
  stayed up for a minute. A process stopped on purpose (`Stack.stop_service`, `Stack.kill`) is
  "held" and left alone until it is started again.
- Logs (`<state>/logs/*.log`) rotate by size: past HANGAR_LOG_MAX_BYTES (default 20 MB) a log is
  copied to `<name>.log.1` (older copies shift to .2 ... up to HANGAR_LOG_BACKUPS, default 3) and
  truncated in place. Every process writes its log in append mode, so it goes on writing at the
  new end; a line written between the copy and the truncation can be lost (the copytruncate
  trade-off, as logrotate's: the processes need no signal and no pipe through the supervisor).

The supervisor ends when the stack's state file is gone (`down`) or names another supervisor.
"""
from __future__ import annotations

import logging
import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

logger = logging.getLogger("hangar.supervise")

POLL_SECONDS = 0.5
BACKOFF_FIRST, BACKOFF_MAX, STABLE_AFTER = 1.0, 60.0, 60.0


def _env_int(env: dict[str, str], name: str, default: int) -> int:
    raw = env.get(name, os.environ.get(name, ""))
    return int(raw) if raw.isdigit() else default


@dataclass
class Backoff:
    """When a process may next be restarted, per process name."""
    delay: dict[str, float] = field(default_factory=dict)
    not_before: dict[str, float] = field(default_factory=dict)
    started_at: dict[str, float] = field(default_factory=dict)

    def due(self, name: str, now: float) -> bool:
        return now >= self.not_before.get(name, 0.0)

    def restarted(self, name: str, now: float) -> None:
        stable = now - self.started_at.get(name, 0.0) >= STABLE_AFTER
        delay = BACKOFF_FIRST if stable or name not in self.delay else min(self.delay[name] * 2, BACKOFF_MAX)
        self.delay[name], self.started_at[name], self.not_before[name] = delay, now, now + delay


def rotate(log: Path, max_bytes: int, backups: int) -> bool:
    """Copy-truncate `log` when it is larger than max_bytes; True when it rotated."""
    try:
        if log.stat().st_size <= max_bytes:
            return False
    except FileNotFoundError:
        return False
    for n in range(backups, 1, -1):
        older = log.with_name(f"{log.name}.{n - 1}")
        if older.exists():
            older.replace(log.with_name(f"{log.name}.{n}"))
    if backups >= 1:
        shutil.copyfile(log, log.with_name(f"{log.name}.1"))
    with open(log, "r+b") as fh:
        fh.truncate(0)
    return True


def rotate_all(logs: Path, env: dict[str, str]) -> None:
    """Rotate what is due; the limits are the stack's settings (as `up` was given them)."""
    max_bytes = _env_int(env, "HANGAR_LOG_MAX_BYTES", 20 * 1024 * 1024)
    backups = _env_int(env, "HANGAR_LOG_BACKUPS", 3)
    for log in sorted(logs.glob("*.log")):
        if rotate(log, max_bytes, backups):
            logger.info("log rotated", extra={"fields": {"log": log.name}})


def run(state: Path) -> int:
    """The supervisor's loop (the process `Stack.up` starts)."""
    from . import infra
    from .stack import Stack

    me = os.getpid()
    backoff = Backoff()
    while True:
        try:
            stack = Stack.load(state)
        except (OSError, ValueError) as exc:  # unreadable for a moment: look again
            print(f"supervisor: state file unreadable ({exc}); retrying", flush=True)
            time.sleep(POLL_SECONDS)
            continue
        if stack is None or stack.supervisor_pid not in (None, me):
            return 0
        now = time.monotonic()
        for record in stack.records:
            name = record["name"]
            if record.get("held") or infra.pid_alive(record["pid"]) or not backoff.due(name, now):
                continue
            backoff.restarted(name, now)
            try:
                if stack.restart(name, if_gone=True):
                    print(f"supervisor: {name} (pid {record['pid']}) was gone; started again", flush=True)
            except Exception as exc:  # tried again after the backoff
                print(f"supervisor: starting {name} again failed: {exc}", flush=True)
        rotate_all(state / "logs", stack.env)
        time.sleep(POLL_SECONDS)

"""`python -m bench.git_clone`: git clone through Hangar vs git's own `git http-backend`.

1. Speed: a 1,000-file, 20-commit repository is pushed to a fresh hub and to a bare repository
   that `git http-backend` (CGI, bench/baselines/git_http_backend.py) serves on loopback; both are
   cloned (protocol v2 and v0) `BENCH_GIT_RUNS` times; median times compared (Hangar / baseline).
2. Memory: a repository holding `BENCH_GIT_LARGE_MB` MiB (default 256, up to 2048) of regular,
   incompressible files is pushed, then cloned while the git service's resident memory is sampled.

Environment: BENCH_GIT_RUNS (default 3), BENCH_GIT_LARGE_MB (default 256; 0 skips part 2).
"""
from __future__ import annotations

import os
import statistics
import subprocess
import tempfile
import threading
import time
import uuid
from pathlib import Path

import httpx
from huggingface_hub import HfApi

from bench.baselines.git_http_backend import HttpBackend
from bench.harness import Timer, hub, report, rss_mb

FILES, COMMITS = 1000, 20
RUNS = int(os.environ.get("BENCH_GIT_RUNS", "3"))
LARGE_MB = min(int(os.environ.get("BENCH_GIT_LARGE_MB", "256")), 2048)
LARGE_FILE_MB = 64


def git(*args: str, cwd: Path | None = None, env: dict | None = None) -> str:
    proc = subprocess.run(["git", *args], cwd=cwd, capture_output=True,
                          env={**os.environ, "GIT_TERMINAL_PROMPT": "0", **(env or {})})
    if proc.returncode:
        raise RuntimeError(f"git {' '.join(args)}: {proc.stderr.decode()}")
    return proc.stdout.decode().strip()


def register(endpoint: str) -> tuple[str, str]:
    """A user and a write token, through the REST API."""
    name, password = f"bench-{uuid.uuid4().hex[:8]}", uuid.uuid4().hex
    with httpx.Client(base_url=endpoint, timeout=60) as http:
        http.post("/api/auth/register", json={"username": name, "email": f"{name}@bench.test",
                                              "password": password}).raise_for_status()
        csrf = http.post("/api/auth/login", json={"username": name, "password": password}).json()["csrfToken"]
        resp = http.post("/api/auth/tokens/create", json={"name": "bench", "role": "write"},
                         headers={"X-CSRF-Token": csrf})
        resp.raise_for_status()
    return name, resp.json()["token"]


def create_repo(endpoint: str, name: str, token: str) -> str:
    repo = f"{name}/bench-{uuid.uuid4().hex[:6]}"
    HfApi(endpoint=endpoint, token=token).create_repo(repo)
    return repo


def build_history(work: Path) -> None:
    """On top of the hub's initial commit: 1,000 files over 20 commits, each touching 50 files."""
    for c in range(COMMITS):
        for i in range(c * FILES // COMMITS, (c + 1) * FILES // COMMITS):
            path = work / f"d{i % 20:02d}" / f"s{i % 7}" / f"file{i:04d}.txt"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(f"file {i}\n" + "lorem ipsum dolor sit amet\n" * (20 + i % 50))
        if c:
            for i in range(0, FILES // COMMITS * c, 37):      # and edits to earlier files
                path = work / f"d{i % 20:02d}" / f"s{i % 7}" / f"file{i:04d}.txt"
                path.write_text(path.read_text() + f"edit in commit {c}\n")
        git("add", "-A", cwd=work)
        git("commit", "-q", "-m", f"bench commit {c}", cwd=work)


def clone_times(url: str, tmp: Path, version: str) -> list[float]:
    times = []
    for run in range(RUNS):
        dest = tmp / f"clone-{uuid.uuid4().hex[:6]}"
        with Timer() as t:
            git("-c", f"protocol.version={version}", "clone", "-q", "--no-checkout", url, str(dest))
        times.append(t.seconds)
        if run == 0 and int(git("rev-list", "--count", "--all", cwd=dest)) < COMMITS:
            raise RuntimeError(f"clone of {url} is incomplete")
    return times


def speed(stack, user: str, token: str, tmp: Path) -> list[dict]:
    repo = create_repo(stack.endpoint, user, token)
    netloc = stack.endpoint.split("//")[1]
    push_url = f"http://{user}:{token}@{netloc}/{repo}.git"
    work = tmp / "work"
    git("clone", "-q", push_url, str(work))
    build_history(work)
    with Timer() as push:
        git("push", "-q", "origin", "main", cwd=work)
    baseline_root = tmp / "baseline"
    git("init", "-q", "--bare", str(baseline_root / "repo.git"))
    git("push", "-q", str(baseline_root / "repo.git"), "main", cwd=work)
    rows = []
    with HttpBackend(baseline_root) as base_url:
        for version in ("2", "0"):
            hangar = clone_times(f"{stack.endpoint}/{repo}.git", tmp, version)
            baseline = clone_times(f"{base_url}/repo.git", tmp, version)
            rows.append({"case": f"clone 1000 files/21 commits, protocol v{version}",
                         "hangar_s": statistics.median(hangar), "http_backend_s": statistics.median(baseline),
                         "ratio": statistics.median(hangar) / statistics.median(baseline)})
    rows.append({"case": "push of that history (git push)", "hangar_s": push.seconds})
    return rows


class RssSampler:
    def __init__(self, pid: int) -> None:
        self.pid, self.peak, self._stop = pid, 0.0, threading.Event()

    def __enter__(self):
        self.before = rss_mb(self.pid)
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, rss_mb(self.pid))
            time.sleep(0.05)

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


def memory(stack, user: str, token: str, tmp: Path) -> list[dict]:
    repo = create_repo(stack.endpoint, user, token)
    netloc = stack.endpoint.split("//")[1]
    url = f"http://{user}:{token}@{netloc}/{repo}.git"
    work = tmp / "large"
    git("clone", "-q", url, str(work))
    remaining, n = LARGE_MB, 0
    while remaining > 0:
        size = min(LARGE_FILE_MB, remaining)
        with open(work / f"part{n}.dat", "wb") as fh:     # .dat: not an LFS pattern, a regular blob
            for _ in range(size):
                fh.write(os.urandom(1 << 20))
        remaining -= size
        n += 1
    git("add", "-A", cwd=work)
    git("commit", "-q", "-m", "large regular files", cwd=work)
    pid = next(r["pid"] for r in stack.running()["processes"] if r["name"] == "git")
    with RssSampler(pid) as push_rss, Timer() as push:
        git("push", "-q", "origin", "main", cwd=work)
    dest = tmp / "large-clone"
    with RssSampler(pid) as clone_rss, Timer() as clone:
        git("clone", "-q", "--no-checkout", f"{stack.endpoint}/{repo}.git", str(dest))
    got = sum(int(line.split()[3]) for line in git("ls-tree", "-r", "-l", "HEAD", cwd=dest).splitlines()
              if line.split()[3].isdigit())
    if got < LARGE_MB << 20:
        raise RuntimeError(f"large clone incomplete: {got} bytes")
    return [{"case": f"clone of {LARGE_MB} MiB of regular files", "seconds": clone.seconds,
             "git_rss_before_mb": clone_rss.before, "git_rss_peak_mb": clone_rss.peak},
            {"case": f"push of {LARGE_MB} MiB of regular files", "seconds": push.seconds,
             "git_rss_before_mb": push_rss.before, "git_rss_peak_mb": push_rss.peak}]


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="hangar-bench-git-") as tmpdir, hub() as stack:
        tmp = Path(tmpdir)
        home = tmp / "home"
        home.mkdir()
        os.environ.update({"HOME": str(home), "GIT_CONFIG_NOSYSTEM": "1"})
        git("config", "--global", "user.name", "Bench")
        git("config", "--global", "user.email", "bench@example.test")
        user, token = register(stack.endpoint)
        rows = speed(stack, user, token, tmp)
        if LARGE_MB:
            rows += memory(stack, user, token, tmp)
        report("git_clone", rows)


if __name__ == "__main__":
    main()

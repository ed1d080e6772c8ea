"""`python -m bench.git_push_regular`: a git push of large regular (non-LFS) files, and whether it
slows the database for everyone else (issue 17, goal 4; docs/storage.md, "Large regular files").

- Push: `BENCH_PUSH_MB` MiB (default 50) of incompressible regular files of `BENCH_PUSH_FILE_MB`
  MiB each (default 10, under the configured LFS threshold), one commit, `git push` to the hub; the
  same push to a bare repository behind `git http-backend` (bench/baselines) is the baseline.
- Database: while the hub push runs, a probe keeps reading a small repository (repo_info and its
  tree, each a few PostgreSQL queries through gateway and metadata); its latencies are compared with
  the same probe on the idle hub just before (p50/p95 ratios: 1.0 = the push costs others nothing).
  PostgreSQL's size growth and the metadata service's peak RSS are reported too.

The machine is shared with other sessions: the load average at start and end is kept with the figures.
"""
from __future__ import annotations

import asyncio
import os
import statistics
import tempfile
import threading
import time
from pathlib import Path

import asyncpg
from huggingface_hub import HfApi

from bench.baselines.git_http_backend import HttpBackend
from bench.git_clone import create_repo, git, register
from bench.harness import Timer, hub, report
from bench.lfs_transfer import RssSampler

MiB = 1 << 20
TOTAL_MB = int(os.environ.get("BENCH_PUSH_MB", "50"))
FILE_MB = int(os.environ.get("BENCH_PUSH_FILE_MB", "10"))


class Probe(threading.Thread):
    """Latencies of a small read (repo_info + its tree) issued back to back."""

    def __init__(self, api: HfApi, repo: str) -> None:
        super().__init__(daemon=True)
        self.api, self.repo, self.stop, self.seconds = api, repo, threading.Event(), []

    def run(self) -> None:
        while not self.stop.is_set():
            started = time.perf_counter()
            self.api.repo_info(self.repo)
            list(self.api.list_repo_tree(self.repo))
            self.seconds.append(time.perf_counter() - started)

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.join()


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def db_bytes(env: dict) -> int:
    async def run():
        conn = await asyncpg.connect(env["HANGAR_DATABASE_URL"])
        try:
            return await conn.fetchval("SELECT pg_database_size(current_database())")
        finally:
            await conn.close()
    return int(asyncio.run(run()))


def main() -> None:
    load_start = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="hangar-bench-push-") as tmpdir, hub() as stack:
        tmp = Path(tmpdir)
        user, token = register(stack.endpoint)
        api = HfApi(endpoint=stack.endpoint, token=token)
        small = create_repo(stack.endpoint, user, token)
        api.upload_file(path_or_fileobj=b"hello\n", path_in_repo="README.md", repo_id=small)
        repo = create_repo(stack.endpoint, user, token)
        netloc = stack.endpoint.split("//")[1]
        work = tmp / "work"
        git("clone", "-q", f"http://{user}:{token}@{netloc}/{repo}.git", str(work))
        remaining, n = TOTAL_MB, 0
        while remaining > 0:
            size = min(FILE_MB, remaining)
            with open(work / f"part{n}.dat", "wb") as fh:     # .dat: not an LFS pattern, a regular blob
                fh.write(os.urandom(size * MiB))
            remaining, n = remaining - size, n + 1
        git("add", "-A", cwd=work)
        git("commit", "-q", "-m", "large regular files", cwd=work)

        with Probe(api, small) as idle:
            time.sleep(10)
        before = db_bytes(stack.env)
        metadata_pid = next(r["pid"] for r in stack.records if r["name"] == "metadata")
        with Probe(api, small) as busy, RssSampler(metadata_pid) as rss, Timer() as push:
            git("push", "-q", "origin", "main", cwd=work)
        grown = db_bytes(stack.env) - before

        base_root = tmp / "baseline"
        git("init", "-q", "--bare", str(base_root / "repo.git"))
        git("config", "http.receivepack", "true", cwd=base_root / "repo.git")
        with HttpBackend(base_root) as base_url, Timer() as base_push:
            git("push", "-q", f"{base_url}/repo.git", "HEAD:refs/heads/main", cwd=work)

    report("git_push_regular", [{
        "push_mb": TOTAL_MB, "file_mb": FILE_MB,
        "hangar_push_s": push.seconds, "http_backend_push_s": base_push.seconds,
        "push_ratio": base_push.seconds / push.seconds,
        "probe_idle_p50_s": statistics.median(idle.seconds), "probe_idle_p95_s": pct(idle.seconds, 0.95),
        "probe_during_push_p50_s": statistics.median(busy.seconds) if busy.seconds else None,
        "probe_during_push_p95_s": pct(busy.seconds, 0.95) if busy.seconds else None,
        "probe_p50_ratio": statistics.median(busy.seconds) / statistics.median(idle.seconds) if busy.seconds else None,
        "probe_p95_ratio": (pct(busy.seconds, 0.95) / pct(idle.seconds, 0.95)) if busy.seconds else None,
        "probes_idle": len(idle.seconds), "probes_during_push": len(busy.seconds),
        "database_growth_mb": grown / MiB, "metadata_rss_peak_mb": rss.peak,
        "loadavg_start": list(load_start), "loadavg_end": list(os.getloadavg()),
        "note": "2-core machine shared with other sessions; ratios are side by side in one run",
    }])


if __name__ == "__main__":
    main()

"""Memory soak: sustained commit load against a fresh hub, sampling the resident memory (RSS) of
every service. The load is the one that made metadata grow without bound (issue #10): many commits
into folders with thousands of files, so every commit makes new large trees for the caches.

Bounded in count and time: at most --commits commits and --seconds of load, then --idle seconds
without load (memory should stay flat while idle, not only stop growing). Every sample lands in
bench/results/soak.json; the summary compares each service's RSS at the end of the load and after
the idle period with its RSS once warmed up (the first fifth of the run).

Run: make bench BENCH_ARGS=soak   (or .venv/bin/python -m bench.soak --seconds 120)
"""
from __future__ import annotations

import argparse
import asyncio
import time

import grpc

from hangar_protos import common_pb2, metadata_pb2_grpc
from hangar_protos import metadata_pb2 as pb

from .harness import hub, report, rss_mb

WHO = common_pb2.Principal(user_id="1", username="soak")
REPOS = 6
FILES_PER_COMMIT = 40
WORKERS = 4
SAMPLE_EVERY = 5.0


def _commit(repo, n: int):
    yield pb.CommitChunk(header=pb.CommitHeader(repo=repo, revision="main", summary=f"soak {n}", author=WHO))
    for i in range(FILES_PER_COMMIT):      # new files in one wide folder, and a change in a second one
        yield pb.CommitChunk(file=pb.FileOp(path=f"wide/f{n:06d}-{i:02d}.txt", data=b"%d %d\n" % (n, i)))
    yield pb.CommitChunk(file=pb.FileOp(path=f"shards/s{n % 7}/state.json", data=b'{"n": %d}\n' % n))


class Load:
    def __init__(self, md, repos, *, commits: int, deadline: float) -> None:
        self.md, self.repos, self.limit, self.deadline = md, repos, commits, deadline
        self.done = 0
        self.errors = 0

    async def worker(self) -> None:
        while self.done < self.limit and time.monotonic() < self.deadline:
            n = self.done
            self.done += 1
            repo = self.repos[n % len(self.repos)]
            try:
                await self.md.Commit(_commit(repo, n), timeout=120)
                if n % 10 == 0:                 # reads walk the big trees too
                    async for _ in self.md.ListTree(pb.ListTreeRequest(repo=repo, revision="main", path="wide",
                                                                       limit=1000, expand=True)):
                        break
            except grpc.aio.AioRpcError:
                self.errors += 1


def _services(stack) -> dict[str, int]:
    return {r["name"]: r["pid"] for r in stack.records if r.get("pid")}


async def run(stack, *, seconds: float, commits: int, idle: float) -> tuple[list[dict], dict]:
    channel = grpc.aio.insecure_channel(f"127.0.0.1:{stack.service_ports['metadata']['grpc']}")
    md = metadata_pb2_grpc.MetadataStub(channel)
    repos = []
    for i in range(REPOS):
        repo = common_pb2.RepoRef(type="model", namespace="soak", name=f"wide-{i}")
        await md.CreateRepo(pb.CreateRepoRequest(repo=repo, creator=WHO))
        repos.append(repo)
    pids = _services(stack)
    started = time.monotonic()
    load = Load(md, repos, commits=commits, deadline=started + seconds)
    samples: list[dict] = []

    def sample(phase: str) -> None:
        row = {"t_s": round(time.monotonic() - started, 1), "phase": phase, "commits": load.done}
        row.update({name: round(rss_mb(pid), 1) for name, pid in pids.items()})
        samples.append(row)

    workers = [asyncio.create_task(load.worker()) for _ in range(WORKERS)]
    sample("load")
    while not all(w.done() for w in workers):
        await asyncio.wait(workers, timeout=SAMPLE_EVERY)
        sample("load")
    idle_until = time.monotonic() + idle
    while time.monotonic() < idle_until:
        await asyncio.sleep(min(SAMPLE_EVERY, max(0.0, idle_until - time.monotonic())))
        sample("idle")
    await channel.close()
    return samples, _summary(samples, pids, load, time.monotonic() - started)


def _summary(samples: list[dict], pids: dict, load: Load, elapsed: float) -> dict:
    loaded = [s for s in samples if s["phase"] == "load"]
    warm = loaded[max(0, len(loaded) // 5)]
    end_load, end = loaded[-1], samples[-1]
    services = {name: {"warm_mb": warm[name], "peak_mb": max(s[name] for s in samples),
                       "end_of_load_mb": end_load[name], "after_idle_mb": end[name],
                       "growth_after_warmup": round(end_load[name] / warm[name], 2) if warm[name] else None}
                for name in pids}
    return {"commits": load.done, "errors": load.errors, "seconds": round(elapsed, 1),
            "files_per_commit": FILES_PER_COMMIT + 1, "repos": REPOS, "services": services}


def main() -> None:
    args = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    args.add_argument("--seconds", type=float, default=300.0, help="load duration (bounded)")
    args.add_argument("--commits", type=int, default=6000, help="commit count (bounded)")
    args.add_argument("--idle", type=float, default=30.0, help="idle time sampled after the load")
    args.add_argument("--cache-mb", type=int, default=0, help="HANGAR_METADATA_CACHE_MB for the hub (0: default)")
    args.add_argument("--name", default="soak", help="results file name (bench/results/<name>.json)")
    opts = args.parse_args()
    with hub() as stack:
        if opts.cache_mb:       # metadata again, with this budget
            stack.stop_service("metadata")
            stack.env["HANGAR_METADATA_CACHE_MB"] = str(opts.cache_mb)
            stack.start_service("metadata")
        samples, summary = asyncio.run(run(stack, seconds=min(opts.seconds, 1800.0),
                                           commits=min(opts.commits, 100_000), idle=min(opts.idle, 600.0)))
    report(opts.name, samples)
    report(f"{opts.name}_summary", [{"service": name, **figures} for name, figures in summary["services"].items()])
    print({k: v for k, v in summary.items() if k != "services"})


if __name__ == "__main__":
    main()

"""Versioning engine speed, through the metadata gRPC API of a fresh hub, against git itself on the
same files: a commit of 1,000 small files, and the recursive tree of a 100k-file repository.

Run: .venv/bin/python -m bench.metadata_engine   (results in bench/results/metadata_engine.json)
"""
from __future__ import annotations

import asyncio
import subprocess
import tempfile
from pathlib import Path

import grpc

from hangar_protos import (
    common_pb2,  # noqa: E402
    metadata_pb2_grpc,  # noqa: E402
)
from hangar_protos import metadata_pb2 as pb  # noqa: E402

from .harness import Timer, hub, report, rss_mb

WHO = common_pb2.Principal(user_id="1", username="bench")
BIG = 100_000


def files(n: int, prefix: str = "") -> dict[str, bytes]:
    return {f"{prefix}d{i % 100:02d}/s{(i // 100) % 10}/f{i:06d}.txt": f"file {i}\n".encode() for i in range(n)}


def _stream(repo, batch: dict[str, bytes], summary: str):
    yield pb.CommitChunk(header=pb.CommitHeader(repo=repo, revision="main", summary=summary, author=WHO))
    for path, data in batch.items():
        yield pb.CommitChunk(file=pb.FileOp(path=path, data=data))


def git_baseline(all_files: dict[str, bytes], work: Path) -> tuple[float, float, float]:
    """(git add+commit of the files, git ls-tree -r -l of the result as committed (loose objects),
    the same listing once the repository is packed, as a git server keeps it) in seconds."""
    env = {"GIT_AUTHOR_NAME": "b", "GIT_AUTHOR_EMAIL": "b@b", "GIT_COMMITTER_NAME": "b",
           "GIT_COMMITTER_EMAIL": "b@b", "PATH": "/usr/bin:/bin", "HOME": str(work)}
    subprocess.run(["git", "init", "-q", str(work)], check=True, env=env)
    for path, data in all_files.items():
        (work / path).parent.mkdir(parents=True, exist_ok=True)
        (work / path).write_bytes(data)
    with Timer() as commit:
        subprocess.run(["git", "add", "-A"], cwd=work, check=True, env=env)
        subprocess.run(["git", "-c", "gc.auto=0", "commit", "-qm", "x"], cwd=work, check=True, env=env)
    listing = ["git", "ls-tree", "-r", "-t", "-l", "HEAD"]
    with Timer() as loose:
        subprocess.run(listing, cwd=work, check=True, env=env, stdout=subprocess.DEVNULL)
    subprocess.run(["git", "-c", "pack.threads=1", "repack", "-adq"], cwd=work, check=True, env=env)
    with Timer() as packed:
        subprocess.run(listing, cwd=work, check=True, env=env, stdout=subprocess.DEVNULL)
    return commit.seconds, loose.seconds, packed.seconds


def _pid(stack, name: str) -> int:
    return next(r["pid"] for r in stack.records if r.get("name") == name)


async def run(stack) -> list[dict]:
    channel = grpc.aio.insecure_channel(f"127.0.0.1:{stack.service_ports['metadata']['grpc']}")
    md = metadata_pb2_grpc.MetadataStub(channel)
    rows = []
    small = common_pb2.RepoRef(type="model", namespace="bench", name="small")
    await md.CreateRepo(pb.CreateRepoRequest(repo=small, creator=WHO))
    thousand = files(1000)
    with Timer() as t:
        await md.Commit(_stream(small, thousand, "1000 files"))
    with tempfile.TemporaryDirectory(ignore_cleanup_errors=True) as tmp:
        base_commit, _, _ = git_baseline(thousand, Path(tmp))
    rows.append({"case": "commit 1,000 small files", "hangar_s": round(t.seconds, 3),
                 "git_s": round(base_commit, 3), "ratio": round(t.seconds / base_commit, 2)})

    big = common_pb2.RepoRef(type="model", namespace="bench", name="big")
    await md.CreateRepo(pb.CreateRepoRequest(repo=big, creator=WHO))
    everything = files(BIG)
    items = list(everything.items())
    with Timer() as build:
        for i in range(0, BIG, 10_000):
            await md.Commit(_stream(big, dict(items[i:i + 10_000]), f"part {i}"))
    with Timer() as cold:
        count = sum([len(p.entries) async for p in md.ListTree(pb.ListTreeRequest(
            repo=big, revision="main", recursive=True))])
    with Timer() as warm:
        [p async for p in md.ListTree(pb.ListTreeRequest(repo=big, revision="main", recursive=True))]
    with Timer() as paged:
        await anext(md.ListTree(pb.ListTreeRequest(repo=big, revision="main", recursive=True, limit=1000,
                                                   expand=True)).__aiter__())
    with tempfile.TemporaryDirectory(ignore_cleanup_errors=True) as tmp:
        _, base_list, _ = git_baseline(everything, Path(tmp))
    rows += [
        {"case": f"build {BIG:,}-file repo (10 commits of 10k)", "hangar_s": round(build.seconds, 2)},
        {"case": f"recursive tree, {count:,} entries (cold cache)", "hangar_s": round(cold.seconds, 3),
         "git_s": round(base_list, 3), "ratio": round(cold.seconds / base_list, 2)},
        {"case": "recursive tree (warm cache)", "hangar_s": round(warm.seconds, 3),
         "git_s": round(base_list, 3), "ratio": round(warm.seconds / base_list, 2)},
        {"case": "first page of 1,000 with lastCommit", "hangar_s": round(paged.seconds, 3)},
        {"case": "metadata RSS after (MiB)", "hangar_s": round(rss_mb(_pid(stack, "metadata")), 1)},
    ]
    await channel.close()
    return rows


def main() -> None:
    with hub() as stack:
        rows = asyncio.run(run(stack))
    report("metadata_engine", rows)


if __name__ == "__main__":
    main()

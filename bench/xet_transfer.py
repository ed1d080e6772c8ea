"""`python -m bench.xet_transfer`: a large file through Xet vs. the LFS path vs. S3 directly, in the
same run, plus the deduplication of a re-upload with 1 % of the bytes changed.

- Upload. Xet: `HfApi.upload_file` with huggingface_hub's defaults (hf_xet chunks, dedups, sends
  xorbs and a shard; the server verifies every chunk, then rebuilds the file once to hash it; the
  xorbs are the only copy, docs/storage.md). LFS: the same call with Xet disabled (batch API, multipart PUTs). S3: the
  same part PUTs to a plain S3 multipart upload (bench.lfs_transfer.direct_upload).
- Download. Xet: hf_xet reconstruction with a read token from the token endpoint (presigned xorb
  ranges). LFS: `hf_hub_download` (302 to S3). S3: a presigned GET. Non-Xet download of the
  Xet-uploaded file: `hf_hub_download` with Xet disabled (302 to the lfs service's stream of the
  xorbs), with the lfs service's peak RSS; `lfs_copies_bytes` is what S3 holds under lfs/ for it (0).
- Dedup: the file with 1 % of its bytes rewritten in 10 places is uploaded again from a fresh hf_xet
  session (empty local cache: only the server's global dedup helps); the bytes the server received
  are the new xorb bytes recorded in PostgreSQL.

Ratios are throughput ratios (baseline seconds / measured seconds). BENCH_XET_MB (default 1024). The
downloads run BENCH_XET_ROUNDS rounds (default 3), every path once per round; medians are compared.
The machine is shared with other sessions: the load average at start and end is kept with the figures.
"""
from __future__ import annotations

import asyncio
import hashlib
import os
import statistics
import tempfile
import uuid
from pathlib import Path

os.environ.pop("HF_HUB_DISABLE_XET", None)

import asyncpg  # noqa: E402
import httpx  # noqa: E402
from huggingface_hub import HfApi, constants, hf_hub_download  # noqa: E402

from bench.git_clone import create_repo, register  # noqa: E402
from bench.harness import Timer, hub, report, rss_mb  # noqa: E402
from bench.lfs_transfer import (  # noqa: E402
    RssSampler,
    direct_download,
    direct_upload,
    make_file,
    s3_clients,
    sha256_file,
)

MiB = 1024 * 1024
SIZE_MB = int(os.environ.get("BENCH_XET_MB", "1024"))
ROUNDS = int(os.environ.get("BENCH_XET_ROUNDS", "3"))


def xorb_bytes(env: dict) -> int:
    async def run():
        conn = await asyncpg.connect(env["HANGAR_DATABASE_URL"], server_settings={"search_path": "lfs"})
        try:
            return await conn.fetchval("SELECT coalesce(sum(stored_bytes), 0) FROM xet_xorbs")
        finally:
            await conn.close()
    return int(asyncio.run(run()))


def fresh_xet_session(cache: Path) -> None:
    from huggingface_hub.utils import _xet

    os.environ["HF_XET_CACHE"] = str(cache)
    _xet._GLOBAL_XET_HOLDER.sigint_abort()


def xet_download(endpoint: str, repo: str, token: str, file_hash: str, size: int, target: Path) -> None:
    import hf_xet

    answer = httpx.get(f"{endpoint}/api/models/{repo}/xet-read-token/main",
                       headers={"Authorization": f"Bearer {token}"}).json()
    session = hf_xet.XetSession()
    with session.new_file_download_group(endpoint=answer["casUrl"], token=answer["accessToken"],
                                         token_expiry_unix_secs=answer["exp"]) as group:
        group.start_download_file(hf_xet.XetFileInfo(file_hash, size), str(target))


def file_hash_of(env: dict, sha256: str) -> str:
    async def run():
        conn = await asyncpg.connect(env["HANGAR_DATABASE_URL"], server_settings={"search_path": "lfs"})
        try:
            return await conn.fetchval("SELECT file_hash FROM xet_files WHERE sha256 = $1", sha256)
        finally:
            await conn.close()
    return asyncio.run(run())


def change_one_percent(path: Path, size: int) -> None:
    """Rewrite 1 % of the file in 10 evenly spread places."""
    piece = size // 1000
    with open(path, "r+b") as fh:
        for i in range(10):
            fh.seek(i * size // 10 + size // 20)
            fh.write(os.urandom(piece))


def lfs_copies_bytes(env: dict, oid: str) -> int:
    internal, _, bucket = s3_clients(env)
    return sum(o.size or 0 for o in internal.list_objects(bucket, prefix=f"lfs/{oid[:2]}/{oid[2:4]}/{oid}",
                                                          recursive=True))


def main() -> None:
    load_start = os.getloadavg()
    with hub() as stack, tempfile.TemporaryDirectory() as tmp:
        tmp, env, size = Path(tmp), stack.env, SIZE_MB * MiB
        name, token = register(stack.endpoint)
        api = HfApi(endpoint=stack.endpoint, token=token)
        source = tmp / "weights.bin"
        make_file(source, SIZE_MB)
        oid = sha256_file(source)

        repo = create_repo(stack.endpoint, name, token)
        fresh_xet_session(tmp / "xet-cache-1")
        constants.HF_HUB_DISABLE_XET = False
        before = xorb_bytes(env)
        with Timer() as xet_up:
            api.upload_file(path_or_fileobj=str(source), path_in_repo="weights.bin", repo_id=repo)
        first_bytes = xorb_bytes(env) - before
        file_hash = file_hash_of(env, oid)
        copies = lfs_copies_bytes(env, oid)

        # Other bytes for the LFS path, or it would find the object Xet just stored and skip the upload.
        other = tmp / "other.bin"
        make_file(other, SIZE_MB)
        other_oid = sha256_file(other)
        constants.HF_HUB_DISABLE_XET = True
        lfs_repo = create_repo(stack.endpoint, name, token)
        with Timer() as lfs_up:
            api.upload_file(path_or_fileobj=str(other), path_in_repo="weights.bin", repo_id=lfs_repo)
        with Timer() as s3_up:
            key = direct_upload(other, env)

        # Downloads: ROUNDS rounds, each path once per round, so that a change of the shared
        # machine's load hits every path alike; medians are compared.
        lfs_pid = next(r["pid"] for r in stack.records if r["name"] == "lfs")
        idle_rss, peak_rss = rss_mb(lfs_pid), 0.0
        downs: dict[str, list[float]] = {"xet": [], "lfs": [], "stream": [], "s3": []}
        for i in range(ROUNDS):
            os.environ["HF_XET_CACHE"] = str(tmp / f"xet-download-{i}")    # nothing cached from a round before
            with Timer() as t:
                assert direct_download(key, env, tmp / "direct.bin") == other_oid
            downs["s3"].append(t.seconds)
            (tmp / "direct.bin").unlink()
            with Timer() as t:
                xet_download(stack.endpoint, repo, token, file_hash, size, tmp / "xet.bin")
                assert sha256_file(tmp / "xet.bin") == oid
            downs["xet"].append(t.seconds)
            (tmp / "xet.bin").unlink()
            constants.HF_HUB_DISABLE_XET = True
            with RssSampler(lfs_pid) as rss, Timer() as t:
                local = hf_hub_download(repo, "weights.bin", token=token, endpoint=stack.endpoint,
                                        cache_dir=str(tmp / f"cache-{uuid.uuid4().hex}"))
                assert sha256_file(Path(local)) == oid
            downs["stream"].append(t.seconds)
            peak_rss = max(peak_rss, rss.peak)
            Path(local).unlink()
            with Timer() as t:
                local = hf_hub_download(lfs_repo, "weights.bin", token=token, endpoint=stack.endpoint,
                                        cache_dir=str(tmp / f"cache-{uuid.uuid4().hex}"))
                assert sha256_file(Path(local)) == other_oid
            downs["lfs"].append(t.seconds)
            Path(local).unlink()
        xet_down, lfs_down, stream_down, s3_down = (statistics.median(downs[k]) for k in ("xet", "lfs", "stream", "s3"))

        change_one_percent(source, size)
        fresh_xet_session(tmp / "xet-cache-2")
        constants.HF_HUB_DISABLE_XET = False
        before = xorb_bytes(env)
        with Timer() as reup:
            api.upload_file(path_or_fileobj=str(source), path_in_repo="weights.bin", repo_id=repo)
        second_bytes = xorb_bytes(env) - before
        [entry] = api.get_paths_info(repo, ["weights.bin"])
        assert hashlib.sha256(source.read_bytes()).hexdigest() == entry.lfs.sha256

    report("xet_transfer", [{
        "size_mb": SIZE_MB, "download_rounds": ROUNDS,
        "xet_upload_s": xet_up.seconds, "lfs_upload_s": lfs_up.seconds, "s3_upload_s": s3_up.seconds,
        "xet_vs_s3_upload_ratio": s3_up.seconds / xet_up.seconds,
        "xet_vs_lfs_upload_ratio": lfs_up.seconds / xet_up.seconds,
        "xet_download_s": xet_down, "lfs_download_s": lfs_down, "s3_download_s": s3_down,
        "xet_vs_s3_download_ratio": s3_down / xet_down,
        "xet_vs_lfs_download_ratio": lfs_down / xet_down,
        "non_xet_download_of_xet_file_s": stream_down,
        "non_xet_download_vs_s3_ratio": s3_down / stream_down,
        "download_samples_s": downs,
        "lfs_rss_idle_mb": idle_rss, "lfs_rss_peak_stream_mb": peak_rss,
        "lfs_copies_bytes": copies,
        "first_upload_bytes_received": first_bytes,
        "reupload_1pct_changed_s": reup.seconds, "reupload_bytes_received": second_bytes,
        "reupload_fraction_transferred": second_bytes / size,
        "loadavg_start": list(load_start), "loadavg_end": list(os.getloadavg()),
        "note": "2-core machine shared with other sessions; ratios are side by side in one run",
    }])


if __name__ == "__main__":
    main()

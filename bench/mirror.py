"""`python -m bench.mirror`: a large LFS file through the upstream mirror (issue 18), each figure
against its baseline in the same run.

Two hubs: one plays the upstream (huggingface.co), the other is the mirror (HANGAR_UPSTREAM_URL set
to the first). A file of BENCH_MIRROR_MB (default 1024) MiB is uploaded to the upstream, then:

- Cold. Mirror: `hf_hub_download` through the mirror of a file it does not hold (its mirror service
  fetches it from the upstream, verifies the sha256 and streams it on as it arrives). Baseline:
  `hf_hub_download` of the same file straight from the upstream (a 302 to the upstream's S3), right
  after (the upstream's S3 has just been read by the mirror: the page cache favours the baseline).
- Cached. Mirror: `hf_hub_download` through the mirror once it holds the file (a 302 to the mirror's
  S3). Baseline: a streamed GET of a presigned URL of the same object on the mirror's S3.

Each download ends with the client's sha256 of the file, on both sides. Ratios are throughput
ratios (baseline seconds / mirror seconds): 1.0 means as fast as the baseline. One run of each; the
machine is shared with other work, so the load average at the start and end is kept with the figures.
"""
from __future__ import annotations

import os
import shutil
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path

os.environ["HF_HUB_DISABLE_XET"] = "1"   # the LFS path is what the mirror serves
os.environ["HF_HUB_DISABLE_PROGRESS_BARS"] = "1"

import httpx  # noqa: E402
from huggingface_hub import HfApi, hf_hub_download  # noqa: E402

from bench.git_clone import create_repo, register  # noqa: E402
from bench.harness import ROOT, Timer, report  # noqa: E402
from bench.lfs_transfer import make_file, s3_clients, sha256_file  # noqa: E402
from hangar_stack import infra  # noqa: E402
from hangar_stack.stack import Stack  # noqa: E402

SIZE_MB = int(os.environ.get("BENCH_MIRROR_MB", "1024"))


def _download(endpoint: str, repo: str, cache: Path) -> str:
    local = hf_hub_download(repo, "weights.bin", endpoint=endpoint, cache_dir=str(cache))
    digest = sha256_file(Path(local))
    shutil.rmtree(cache, ignore_errors=True)
    return digest


def _direct_s3(env: dict, oid: str, target: Path) -> str:
    _, public, bucket = s3_clients(env)
    url = public.presigned_get_object(bucket, f"lfs/{oid[:2]}/{oid[2:4]}/{oid}", expires=timedelta(hours=1))
    with httpx.stream("GET", url, timeout=1200) as resp, open(target, "wb") as fh:
        resp.raise_for_status()
        for block in resp.iter_bytes(8 * 1024 * 1024):
            fh.write(block)
    digest = sha256_file(target)
    target.unlink()
    return digest


def _wait_stored(endpoint: str, repo: str) -> None:
    """Until the mirror has handed the verified bytes to lfs (resolve answers its 302)."""
    deadline = time.monotonic() + 600
    while httpx.head(f"{endpoint}/{repo}/resolve/main/weights.bin", timeout=60).status_code != 302:
        assert time.monotonic() < deadline, "the mirror never stored the object"
        time.sleep(1)


def main() -> None:
    states = [ROOT / ".hangar" / "bench" / uuid.uuid4().hex[:8] for _ in range(2)]
    upstream = Stack(state=states[0], port=infra.free_port())
    mirror = Stack(state=states[1], port=infra.free_port())
    load_start = os.getloadavg()
    try:
        upstream.up()
        mirror.up()
        mirror.stop_service("mirror")
        mirror.env.update({"HANGAR_UPSTREAM_URL": upstream.endpoint, "HANGAR_MIRROR_TIMEOUT": "60"})
        mirror.start_service("mirror")
        with tempfile.TemporaryDirectory() as tmp:
            tmp = Path(tmp)
            name, token = register(upstream.endpoint)
            repo = create_repo(upstream.endpoint, name, token)
            source = tmp / "weights.bin"
            make_file(source, SIZE_MB)
            oid = sha256_file(source)
            HfApi(endpoint=upstream.endpoint, token=token).upload_file(
                path_or_fileobj=str(source), path_in_repo="weights.bin", repo_id=repo)
            source.unlink()
            HfApi(endpoint=mirror.endpoint).repo_info(repo)      # the repo's metadata, cached before timing

            with Timer() as cold:
                assert _download(mirror.endpoint, repo, tmp / "m") == oid
            with Timer() as direct_cold:
                assert _download(upstream.endpoint, repo, tmp / "u") == oid
            _wait_stored(mirror.endpoint, repo)
            with Timer() as cached:
                assert _download(mirror.endpoint, repo, tmp / "m2") == oid
            with Timer() as direct_cached:
                assert _direct_s3(mirror.env, oid, tmp / "direct.bin") == oid
        rows = [{"size_mb": SIZE_MB, "runs": 1,
                 "cold_mirror_s": cold.seconds, "cold_upstream_direct_s": direct_cold.seconds,
                 "cold_ratio": direct_cold.seconds / cold.seconds,
                 "cached_mirror_s": cached.seconds, "cached_s3_direct_s": direct_cached.seconds,
                 "cached_ratio": direct_cached.seconds / cached.seconds,
                 "loadavg_start": list(load_start), "loadavg_end": list(os.getloadavg()),
                 "note": "one run each on a 2-core machine shared with other helpers' test stacks"}]
        report("mirror", rows)
    finally:
        for stack, state in ((mirror, states[1]), (upstream, states[0])):
            stack.down()
            shutil.rmtree(state, ignore_errors=True)


if __name__ == "__main__":
    main()

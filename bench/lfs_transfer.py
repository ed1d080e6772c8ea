"""`python -m bench.lfs_transfer`: a large LFS file through Hangar vs. the same transfer made directly
against S3, in the same run.

- Upload. Hangar: `HfApi.upload_file` (client sha256, batch, multipart PUTs to presigned S3 URLs,
  completion with the server's verification read and server-side copy, commit). Baseline: client
  sha256 plus the same part PUTs to presigned URLs of a plain S3 multipart upload, then completion.
- Download. Hangar: `hf_hub_download` (resolve answers 302 to a presigned S3 GET) plus client sha256
  of the file. Baseline: a streamed GET of a presigned URL to disk plus client sha256.
- Memory: the lfs service's resident memory is sampled during the Hangar transfers.

Ratios are throughput ratios (baseline seconds / Hangar seconds): 1.0 means as fast as S3 directly.
Environment: BENCH_LFS_MB (default 1024), BENCH_LFS_RUNS (default 1).
"""
from __future__ import annotations

import hashlib
import os
import statistics
import tempfile
import threading
import uuid
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

# The LFS batch path is what this measures (huggingface_hub reads this when imported).
os.environ["HF_HUB_DISABLE_XET"] = "1"

import httpx  # noqa: E402
from huggingface_hub import HfApi, hf_hub_download  # noqa: E402
from minio import Minio  # noqa: E402
from minio.datatypes import Part  # noqa: E402

from bench.git_clone import create_repo, register  # noqa: E402
from bench.harness import Timer, hub, report, rss_mb  # noqa: E402

MiB = 1024 * 1024
SIZE_MB = int(os.environ.get("BENCH_LFS_MB", "1024"))
RUNS = int(os.environ.get("BENCH_LFS_RUNS", "1"))
CHUNK = 16 * MiB  # the lfs service's default part size


def make_file(path: Path, size_mb: int) -> None:
    with open(path, "wb") as fh:
        for _ in range(size_mb):
            fh.write(os.urandom(MiB))


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(8 * MiB), b""):
            digest.update(block)
    return digest.hexdigest()


class RssSampler(threading.Thread):
    """Peak resident memory of one process while the block runs."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid, self.peak, self.stop = pid, 0.0, threading.Event()

    def run(self) -> None:
        while not self.stop.wait(0.05):
            self.peak = max(self.peak, rss_mb(self.pid))

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.join()


def s3_clients(env: dict) -> tuple[Minio, Minio, str]:
    def client(url: str) -> Minio:
        parts = urlsplit(url)
        return Minio(parts.netloc, access_key=env["HANGAR_S3_ACCESS_KEY"], secret_key=env["HANGAR_S3_SECRET_KEY"],
                     secure=parts.scheme == "https", region=env.get("HANGAR_S3_REGION", "us-east-1"))
    return client(env["HANGAR_S3_ENDPOINT"]), client(env["HANGAR_S3_PUBLIC_URL"]), env.get("HANGAR_S3_BUCKET", "hangar")


def direct_upload(path: Path, env: dict) -> str:
    """Client sha256 + presigned multipart PUTs + completion, straight to S3."""
    internal, public, bucket = s3_clients(env)
    sha256_file(path)
    key = f"bench/{uuid.uuid4().hex}"
    upload_id = internal._create_multipart_upload(bucket, key, {})
    parts = []
    with open(path, "rb") as fh, httpx.Client(timeout=600) as http:
        number = 0
        while block := fh.read(CHUNK):
            number += 1
            url = public.get_presigned_url("PUT", bucket, key, expires=timedelta(hours=1),
                                           extra_query_params={"partNumber": str(number), "uploadId": upload_id})
            resp = http.put(url, content=block)
            resp.raise_for_status()
            parts.append(Part(number, resp.headers["etag"]))
    internal._complete_multipart_upload(bucket, key, upload_id, parts)
    return key


def direct_download(key: str, env: dict, target: Path) -> str:
    _, public, bucket = s3_clients(env)
    url = public.presigned_get_object(bucket, key, expires=timedelta(hours=1))
    with httpx.stream("GET", url, timeout=600) as resp, open(target, "wb") as fh:
        resp.raise_for_status()
        for block in resp.iter_bytes(8 * MiB):
            fh.write(block)
    return sha256_file(target)


def main() -> None:
    rows = []
    with hub() as stack, tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        name, token = register(stack.endpoint)
        lfs_pid = next(r["pid"] for r in stack.records if r["name"] == "lfs")
        source = tmp / "weights.bin"
        make_file(source, SIZE_MB)
        oid = sha256_file(source)
        timings = {"hangar_up": [], "s3_up": [], "hangar_down": [], "s3_down": []}
        idle_rss, peak_rss = rss_mb(lfs_pid), 0.0
        for _ in range(RUNS):
            api = HfApi(endpoint=stack.endpoint, token=token)
            repo = create_repo(stack.endpoint, name, token)
            with RssSampler(lfs_pid) as rss, Timer() as up:
                api.upload_file(path_or_fileobj=str(source), path_in_repo="weights.bin", repo_id=repo)
            with Timer() as direct_up:
                key = direct_upload(source, stack.env)
            cache = tmp / f"cache-{uuid.uuid4().hex}"
            with RssSampler(lfs_pid) as rss_down, Timer() as down:
                local = hf_hub_download(repo, "weights.bin", token=token, cache_dir=str(cache), endpoint=stack.endpoint)
                assert sha256_file(Path(local)) == oid
            with Timer() as direct_down:
                assert direct_download(key, stack.env, tmp / "direct.bin") == oid
            Path(local).unlink()
            (tmp / "direct.bin").unlink()
            peak_rss = max(peak_rss, rss.peak, rss_down.peak)
            for k, timer in (("hangar_up", up), ("s3_up", direct_up), ("hangar_down", down), ("s3_down", direct_down)):
                timings[k].append(timer.seconds)
        med = {k: statistics.median(v) for k, v in timings.items()}
        rows.append({"size_mb": SIZE_MB, "runs": RUNS,
                     "hangar_upload_s": med["hangar_up"], "s3_upload_s": med["s3_up"],
                     "upload_ratio": med["s3_up"] / med["hangar_up"],
                     "hangar_download_s": med["hangar_down"], "s3_download_s": med["s3_down"],
                     "download_ratio": med["s3_down"] / med["hangar_down"],
                     "lfs_rss_idle_mb": idle_rss, "lfs_rss_peak_mb": peak_rss})
    report("lfs_transfer", rows)


if __name__ == "__main__":
    main()

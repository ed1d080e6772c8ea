"""`python -m bench.lfs_transfer`: a large LFS file through Hangar vs. the same transfer made directly
against S3, in the same run.

- Multipart upload. Hangar: `HfApi.upload_file` (client sha256, batch, multipart PUTs to presigned S3
  URLs, completion with the server's verification read, commit; no server-side copy since
  docs/storage.md). Baseline: client sha256 plus the same part PUTs to presigned URLs of a plain S3
  multipart upload, then completion.
- Basic upload (the git-lfs protocol): client sha256, batch, one PUT of the whole file to the
  presigned URL, verify. Baseline: client sha256 plus one presigned PUT of the whole file to S3.
- Download. Hangar: `hf_hub_download` (resolve answers 302 to a presigned S3 GET) plus client sha256
  of the file. Baseline: a streamed GET of a presigned URL to disk plus client sha256.
- Memory: the lfs service's resident memory is sampled during the Hangar transfers.

Ratios are throughput ratios (baseline seconds / Hangar seconds): 1.0 means as fast as S3 directly.
Environment: BENCH_LFS_MB (default 1024), BENCH_LFS_RUNS (default 1). The machine is shared with
other sessions: the load average at start and end is kept with the figures.
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


def file_body(path: Path):
    with open(path, "rb") as fh:
        while block := fh.read(8 * MiB):
            yield block


def direct_put(path: Path, env: dict) -> str:
    """Client sha256 + one presigned PUT of the whole file, straight to S3."""
    _, public, bucket = s3_clients(env)
    sha256_file(path)
    key = f"bench/{uuid.uuid4().hex}"
    url = public.get_presigned_url("PUT", bucket, key, expires=timedelta(hours=1))
    size = path.stat().st_size
    resp = httpx.put(url, content=file_body(path), headers={"Content-Length": str(size)}, timeout=600)
    resp.raise_for_status()
    return key


def basic_upload(path: Path, endpoint: str, repo: str, token: str) -> None:
    """What git-lfs does for one object: sha256, batch (basic), PUT to the upload href, verify."""
    oid, size = sha256_file(path), path.stat().st_size
    body = {"operation": "upload", "transfers": ["basic"], "hash_algo": "sha256",
            "objects": [{"oid": oid, "size": size}]}
    headers = {"Accept": "application/vnd.git-lfs+json", "Content-Type": "application/vnd.git-lfs+json",
               "Authorization": f"Bearer {token}"}
    with httpx.Client(timeout=600) as http:
        answer = http.post(f"{endpoint}/{repo}.git/info/lfs/objects/batch", json=body, headers=headers)
        answer.raise_for_status()
        actions = answer.json()["objects"][0]["actions"]
        http.put(actions["upload"]["href"], content=file_body(path),
                 headers={"Content-Length": str(size)}).raise_for_status()
        http.post(actions["verify"]["href"], json={"oid": oid, "size": size},
                  headers={k: v for k, v in headers.items() if k != "Authorization"}).raise_for_status()


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
    load_start = os.getloadavg()
    with hub() as stack, tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        name, token = register(stack.endpoint)
        lfs_pid = next(r["pid"] for r in stack.records if r["name"] == "lfs")
        source = tmp / "weights.bin"
        make_file(source, SIZE_MB)
        oid = sha256_file(source)
        keys = ("hangar_up", "s3_up", "hangar_basic_up", "s3_put", "hangar_down", "s3_down")
        timings: dict[str, list[float]] = {k: [] for k in keys}
        idle_rss, peak_rss = rss_mb(lfs_pid), 0.0
        for _ in range(RUNS):
            api = HfApi(endpoint=stack.endpoint, token=token)
            # Private: the basic upload below is by another user, who must send the bytes again.
            repo = api.create_repo(f"{name}/bench-{uuid.uuid4().hex[:6]}", private=True).repo_id
            with RssSampler(lfs_pid) as rss, Timer() as up:
                api.upload_file(path_or_fileobj=str(source), path_in_repo="weights.bin", repo_id=repo)
            with Timer() as direct_up:
                key = direct_upload(source, stack.env)
            # A fresh user: the object is not "already present" for them, the bytes are sent again.
            other, other_token = register(stack.endpoint)
            basic_repo = create_repo(stack.endpoint, other, other_token)
            with RssSampler(lfs_pid) as rss_basic, Timer() as basic_up:
                basic_upload(source, stack.endpoint, basic_repo, other_token)
            with Timer() as direct_put_t:
                direct_put(source, stack.env)
            cache = tmp / f"cache-{uuid.uuid4().hex}"
            with RssSampler(lfs_pid) as rss_down, Timer() as down:
                local = hf_hub_download(repo, "weights.bin", token=token, cache_dir=str(cache), endpoint=stack.endpoint)
                assert sha256_file(Path(local)) == oid
            with Timer() as direct_down:
                assert direct_download(key, stack.env, tmp / "direct.bin") == oid
            Path(local).unlink()
            (tmp / "direct.bin").unlink()
            peak_rss = max(peak_rss, rss.peak, rss_basic.peak, rss_down.peak)
            for k, timer in zip(keys, (up, direct_up, basic_up, direct_put_t, down, direct_down)):
                timings[k].append(timer.seconds)
        med = {k: statistics.median(v) for k, v in timings.items()}
        rows.append({"size_mb": SIZE_MB, "runs": RUNS,
                     "hangar_multipart_upload_s": med["hangar_up"], "s3_multipart_upload_s": med["s3_up"],
                     "multipart_upload_ratio": med["s3_up"] / med["hangar_up"],
                     "hangar_basic_upload_s": med["hangar_basic_up"], "s3_put_s": med["s3_put"],
                     "basic_upload_ratio": med["s3_put"] / med["hangar_basic_up"],
                     "hangar_download_s": med["hangar_down"], "s3_download_s": med["s3_down"],
                     "download_ratio": med["s3_down"] / med["hangar_down"],
                     "lfs_rss_idle_mb": idle_rss, "lfs_rss_peak_mb": peak_rss,
                     "loadavg_start": list(load_start), "loadavg_end": list(os.getloadavg()),
                     "note": "2-core machine shared with other sessions; ratios are side by side in one run"})
    report("lfs_transfer", rows)


if __name__ == "__main__":
    main()

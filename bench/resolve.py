"""Hot reads through Traefik: `HEAD`/`GET /{repo}/resolve/main/{small file}` (anonymous and with a
token), `repo_info` and `paths-info`, loaded by ApacheBench (`ab -k -c 64`, `-i` for HEAD) against
a minimal ASGI app on uvicorn loaded by the same tool in the same run (the baseline: what one Python
process can answer at all on this machine). The hub runs with 1 and then 2 replicas of gateway and
metadata (`HANGAR_REPLICAS_*`); RSS of the services is sampled through every load.

Run: .venv/bin/python -m bench.resolve   (results in bench/results/resolve.json)
     BENCH_REPLICAS=1 (only one configuration), BENCH_SECONDS=10 (per load), BENCH_CONCURRENCY=64
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import httpx

from .harness import ROOT, hub, report, rss_mb
from .repo_api import bench_user

os.environ["HF_HUB_DISABLE_XET"] = "1"

from huggingface_hub import HfApi  # noqa: E402

from hangar_stack import infra  # noqa: E402

SECONDS = int(os.environ.get("BENCH_SECONDS", "10"))
CONCURRENCY = int(os.environ.get("BENCH_CONCURRENCY", "64"))
SAMPLED = ("gateway", "metadata", "auth", "traefik")
SMALL = b'{"architectures": ["BenchModel"], "hidden_size": 64}\n'

# The baseline: a minimal ASGI app, served by uvicorn with the hub's own settings (uvloop, httptools).
MINIMAL_APP = '''
BODY = b'{"architectures": ["BenchModel"], "hidden_size": 64}\\n'
HEADERS = [(b"content-type", b"application/json"), (b"content-length", str(len(BODY)).encode()),
           (b"etag", b'"baseline"'), (b"x-repo-commit", b"0" * 40)]

async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    await send({"type": "http.response.start", "status": 200, "headers": HEADERS})
    await send({"type": "http.response.body", "body": b"" if scope["method"] == "HEAD" else BODY})
'''


NOTES = (
    "Figures are absolute for this shared machine at the load average given; ratio_to_baseline compares "
    "with the minimal app measured under the same load in the same run. The warm path makes no gRPC call "
    "(auth and metadata CPU per request near zero); gateway and Traefik take the CPU. With 2 cores shared "
    "by ab, Traefik and the gateway(s), a second gateway replica adds a second Python process where one "
    "was the bottleneck (one core), so throughput rises until the two cores are full; metadata replicas "
    "do not matter for warm reads (no calls reach them). On a bigger machine replicas scale further: warm "
    "reads share nothing (each replica answers from its own memory) and invalidation costs one message "
    "per change, not per read. Under a heavy foreign load the ratio overstates what an idle machine "
    "shows: the kernel shares the cores among processes, and the hub runs several (Traefik, gateways) "
    "against the minimal app's one. cpu_ms_per_request_total is the sturdier figure: 2 cores / that "
    "figure bounds the hub's throughput on this machine when nothing else runs.")


def ab(url: str, *, head: bool = False, token: str = "", post: tuple[Path, str] | None = None) -> dict:
    """One load of `SECONDS` by ab: requests/s, latency percentiles (ms), failures."""
    argv = ["ab", "-q", "-k", "-c", str(CONCURRENCY), "-t", str(SECONDS), "-n", "10000000", "-r"]
    if head:
        argv.append("-i")
    if token:
        argv += ["-H", f"Authorization: Bearer {token}"]
    if post:
        argv += ["-p", str(post[0]), "-T", post[1]]
    out = subprocess.run([*argv, url], capture_output=True, text=True, timeout=SECONDS + 120).stdout
    def number(pattern: str) -> float:
        match = re.search(pattern, out, re.M)
        return float(match.group(1)) if match else float("nan")
    non2xx = number(r"^Non-2xx responses:\s+(\d+)")
    return {"rps": number(r"^Requests per second:\s+([\d.]+)"),
            "p50_ms": number(r"^\s+50%\s+(\d+)"), "p99_ms": number(r"^\s+99%\s+(\d+)"),
            "max_ms": number(r"^\s+100%\s+(\d+)"), "requests": int(number(r"^Complete requests:\s+(\d+)")),
            "failed": int(number(r"^Failed requests:\s+(\d+)")),
            "non_2xx": 0 if non2xx != non2xx else int(non2xx)}


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used so far."""
    with open(f"/proc/{pid}/stat") as fh:
        fields = fh.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class RssSampler:
    """RSS (MiB) of the named processes every 0.5 s while a load runs (first, peak and last), and
    the CPU time each used during it."""

    def __init__(self, pids: dict[str, int]) -> None:
        self.pids, self.samples = pids, {name: [] for name in pids}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            for name, pid in self.pids.items():
                try:
                    self.samples[name].append(rss_mb(pid))
                except OSError:
                    pass
            self._stop.wait(0.5)

    def __enter__(self):
        self._cpu = {name: cpu_seconds(pid) for name, pid in self.pids.items()}
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.cpu = {name: cpu_seconds(pid) - self._cpu[name] for name, pid in self.pids.items()}

    def cpu_ms_per_request(self, requests: int) -> dict:
        return {name: round(1000 * s / max(requests, 1), 3) for name, s in self.cpu.items()}

    def summary(self) -> dict:
        return {name: {"first": round(s[0], 1), "peak": round(max(s), 1), "last": round(s[-1], 1)}
                for name, s in self.samples.items() if s}


def service_pids(stack) -> dict[str, int]:
    pids = {}
    for record in stack.records:
        base = record["name"].split("@")[0]
        if base in SAMPLED:
            pids[record["name"]] = record["pid"]   # the service's own process (python -m services.X)
    return pids


def baseline_app(state: Path):
    """Start the minimal app; returns (process, url)."""
    app_dir = state / "baseline"
    app_dir.mkdir(parents=True, exist_ok=True)
    (app_dir / "minimal_app.py").write_text(MINIMAL_APP)
    port = infra.free_port()
    proc = subprocess.Popen([sys.executable, "-m", "uvicorn", "minimal_app:app", "--host", "127.0.0.1",
                             "--port", str(port), "--loop", "uvloop", "--http", "httptools",
                             "--no-access-log", "--log-level", "warning"], cwd=app_dir,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    infra.wait_for_port(port, 30, proc, "baseline")
    return proc, f"http://127.0.0.1:{port}/"


def prepare(stack) -> dict:
    user, token = bench_user(stack.endpoint)
    api = HfApi(endpoint=stack.endpoint, token=token)
    repo = api.create_repo(f"{user}/hot-{uuid.uuid4().hex[:6]}").repo_id
    api.upload_file(path_or_fileobj=SMALL, path_in_repo="config.json", repo_id=repo)
    base = stack.endpoint
    urls = {"resolve": f"{base}/{repo}/resolve/main/config.json", "repo_info": f"{base}/api/models/{repo}",
            "paths_info": f"{base}/api/models/{repo}/paths-info/main"}
    with httpx.Client(timeout=30) as http:   # the answers are right before they are counted
        head = http.head(urls["resolve"])
        assert head.status_code == 200 and head.headers.get("x-repo-commit"), head.headers
        assert http.get(urls["resolve"]).content == SMALL
        assert http.get(urls["repo_info"]).status_code == 200
        assert http.post(urls["paths_info"], data={"paths": "config.json"}).json()[0]["path"] == "config.json"
    return {"token": token, "urls": urls}


def hub_loads(stack, setup: dict, form: Path) -> dict:
    urls, token = setup["urls"], setup["token"]
    loads = {
        "head_resolve_anonymous": lambda: ab(urls["resolve"], head=True),
        "head_resolve_token": lambda: ab(urls["resolve"], head=True, token=token),
        "get_resolve_anonymous": lambda: ab(urls["resolve"]),
        "get_resolve_token": lambda: ab(urls["resolve"], token=token),
        "repo_info_token": lambda: ab(urls["repo_info"], token=token),
        "paths_info_token": lambda: ab(urls["paths_info"], token=token,
                                       post=(form, "application/x-www-form-urlencoded")),
    }
    results = {}
    for name, load in loads.items():
        with RssSampler(service_pids(stack)) as rss:
            results[name] = load()
        results[name]["rss_mb"] = rss.summary()
        results[name]["cpu_ms_per_request"] = rss.cpu_ms_per_request(results[name]["requests"])
        print(f"  {name}: {results[name]['rps']:.0f}/s p99 {results[name]['p99_ms']} ms", flush=True)
    return results


def run_config(replicas: int, baseline_proc, baseline_url: str, form: Path) -> dict:
    os.environ["HANGAR_REPLICAS_GATEWAY"] = os.environ["HANGAR_REPLICAS_METADATA"] = str(replicas)
    try:
        with hub() as stack:
            setup = prepare(stack)
            for _ in range(2):   # warm the caches and connection pools
                ab(setup["urls"]["resolve"], head=True)
            baseline = {}
            for method in ("head", "get"):
                with RssSampler({"minimal_app": baseline_proc.pid}) as sampler:
                    baseline[method] = ab(baseline_url, head=method == "head")
                baseline[method]["cpu_ms_per_request"] = sampler.cpu_ms_per_request(baseline[method]["requests"])
            results = hub_loads(stack, setup, form)
    finally:
        os.environ.pop("HANGAR_REPLICAS_GATEWAY", None)
        os.environ.pop("HANGAR_REPLICAS_METADATA", None)
    for name, result in results.items():
        base = baseline["head"] if name.startswith("head") else baseline["get"]
        result["ratio_to_baseline"] = round(result["rps"] / base["rps"], 3)
        # CPU the hub's processes spent per answer, summed: what bounds throughput once cores are
        # the limit (ab's own CPU comes on top; so does the other sessions' load on this machine).
        result["cpu_ms_per_request_total"] = round(sum(result["cpu_ms_per_request"].values()), 3)
    return {"replicas": {"gateway": replicas, "metadata": replicas}, "baseline_minimal_app": baseline,
            "hub": results}


def main() -> None:
    if not shutil.which("ab"):
        sys.exit("ab not found: apt-get install apache2-utils (make bench-deps)")
    configs = [int(n) for n in os.environ.get("BENCH_REPLICAS", "1,2").split(",")]
    load_before = os.getloadavg()
    state = Path(tempfile.mkdtemp(prefix="bench-resolve-", dir=ROOT / ".hangar"))
    form = state / "paths.form"
    form.write_text("paths=config.json&expand=false")
    proc, baseline_url = baseline_app(state)
    try:
        runs = [run_config(n, proc, baseline_url, form) for n in configs]
    finally:
        proc.terminate()
        proc.wait(10)
        shutil.rmtree(state, ignore_errors=True)
    report("resolve", [{
        "what": "HEAD/GET resolve of a small regular file, repo_info and paths-info through Traefik, "
                f"ab -k -c {CONCURRENCY} -t {SECONDS} (-i for HEAD); baseline: a minimal ASGI app on "
                "uvicorn (uvloop, httptools), same tool, same run, no Traefik in front",
        "machine": f"{os.cpu_count()} cores, shared with other sessions' work (figures vary with their load)",
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "notes": NOTES,
        "runs": runs,
    }])


if __name__ == "__main__":
    main()

"""Pages against the API calls that return the same data, in one run on one hub: the repo page
(card rendered from README.md) vs repo_info, the first page of a 10,000-entry folder (50 entries
with their last commit) vs the API's expanded tree page, and the commit list (30 commits) vs the
API's commit list. Each is requested N times over one keep-alive connection through Traefik;
p50/p95 wall time on the client (loopback) stands for server time, and the ratio page/API is what
the issue bounds (within 2x, under 150 ms p95). Page and API requests alternate, and each row keeps
the 1-minute load average before and after it: the machine is shared with other work.

Run: .venv/bin/python -m bench.web_pages   (results in bench/results/web_pages.json)
"""
from __future__ import annotations

import base64
import json
import os
import statistics
import time

import httpx

from .harness import hub, report
from .repo_api import bench_user

N = 60
FOLDER = 10_000
COMMITS = 80
CARD = ("---\nlicense: apache-2.0\nlibrary_name: transformers\ntags: [bench, text-classification]\n---\n"
        "# Bench model\n\n" + "Some text with `code` and a [link](config.json).\n\n" * 30 +
        "| metric | value |\n|---|---|\n" + "".join(f"| m{i} | {i / 10} |\n" for i in range(30)) +
        "\n```python\nfrom transformers import pipeline\npipe = pipeline('text-classification')\n```\n")


def _ndjson(summary: str, files: dict[str, bytes]) -> str:
    lines = [json.dumps({"key": "header", "value": {"summary": summary}})]
    lines += [json.dumps({"key": "file", "value": {"path": p, "encoding": "base64",
                                                   "content": base64.b64encode(d).decode()}}) for p, d in files.items()]
    return "\n".join(lines) + "\n"


def _setup(http: httpx.Client, repo_id: str) -> None:
    http.post("/api/repos/create", json={"name": repo_id.split("/")[1]}).raise_for_status()
    commit = f"/api/models/{repo_id}/commit/main"
    headers = {"Content-Type": "application/x-ndjson"}
    http.post(commit, content=_ndjson("card", {"README.md": CARD.encode()}), headers=headers).raise_for_status()
    big = {f"big/file-{i:05d}.txt": f"{i}\n".encode() for i in range(FOLDER)}
    http.post(commit, content=_ndjson("10k files", big), headers=headers, timeout=600).raise_for_status()
    for i in range(COMMITS):
        body = _ndjson(f"change {i}", {f"notes/{i}.txt": b"x\n"})
        http.post(commit, content=body, headers=headers).raise_for_status()


def _paired_times(http: httpx.Client, page: str, api: str) -> tuple[list[float], list[float]]:
    """Page and API call requested alternately (one warm-up each, as a browsing user would), so a
    burst of load from the machine's other users falls on both sides alike."""
    http.get(page).raise_for_status()
    http.get(api).raise_for_status()
    out: tuple[list[float], list[float]] = ([], [])
    for _ in range(N):
        for path, times in ((page, out[0]), (api, out[1])):
            started = time.perf_counter()
            response = http.get(path)
            times.append((time.perf_counter() - started) * 1000)
            response.raise_for_status()
    return out


def _p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1]


def run(stack) -> list[dict]:
    user, token = bench_user(stack.endpoint)
    repo_id = f"{user}/bench-pages"
    with httpx.Client(base_url=stack.endpoint, headers={"Authorization": f"Bearer {token}"}, timeout=120) as http:
        _setup(http, repo_id)
    pairs = [
        ("repo page", f"/{repo_id}", f"/api/models/{repo_id}"),
        (f"first page of a {FOLDER:,}-entry folder", f"/{repo_id}/tree/main/big",
         f"/api/models/{repo_id}/tree/main/big?expand=true"),
        ("commit list (30)", f"/{repo_id}/commits/main", f"/api/models/{repo_id}/commits/main?limit=30"),
    ]
    rows = []
    # Pages are read anonymously (a public repo), the API with the same visibility: no token.
    with httpx.Client(base_url=stack.endpoint, timeout=60) as http:
        for case, page, api in pairs:
            load_before = os.getloadavg()[0]
            page_ms, api_ms = _paired_times(http, page, api)
            rows.append({"case": case, "page_p50_ms": round(statistics.median(page_ms), 1),
                         "page_p95_ms": round(_p95(page_ms), 1), "api_p50_ms": round(statistics.median(api_ms), 1),
                         "api_p95_ms": round(_p95(api_ms), 1),
                         "ratio_p95": round(_p95(page_ms) / _p95(api_ms), 2), "requests": N,
                         "loadavg_1m_before": round(load_before, 2), "loadavg_1m_after": round(os.getloadavg()[0], 2),
                         "cpus": os.cpu_count(),
                         "note": "shared machine: other helpers' stacks and tests ran at the same time"})
    return rows


def main() -> None:
    with hub() as stack:
        rows = run(stack)
    report("web_pages", rows)


if __name__ == "__main__":
    main()

"""Pages against the API calls that return the same data, in one run on one hub: the repo page
(card rendered from README.md) vs repo_info, the first page of a 10,000-entry folder (50 entries
with their last commit) vs the API's expanded tree page, and the commit list (30 commits) vs the
API's commit list. Each is requested N times over one keep-alive connection through Traefik;
p50/p95 wall time on the client (loopback) stands for server time, and the ratio page/API is what
the issue bounds (within 2x, under 150 ms p95).

Run: .venv/bin/python -m bench.web_pages   (results in bench/results/web_pages.json)
"""
from __future__ import annotations

import base64
import json
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


def _times(http: httpx.Client, path: str) -> list[float]:
    http.get(path).raise_for_status()  # warm caches once, as a browsing user would
    out = []
    for _ in range(N):
        started = time.perf_counter()
        response = http.get(path)
        out.append((time.perf_counter() - started) * 1000)
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
            page_ms, api_ms = _times(http, page), _times(http, api)
            rows.append({"case": case, "page_p50_ms": round(statistics.median(page_ms), 1),
                         "page_p95_ms": round(_p95(page_ms), 1), "api_p50_ms": round(statistics.median(api_ms), 1),
                         "api_p95_ms": round(_p95(api_ms), 1),
                         "ratio_p95": round(_p95(page_ms) / _p95(api_ms), 2), "requests": N})
    return rows


def main() -> None:
    with hub() as stack:
        rows = run(stack)
    report("web_pages", rows)


if __name__ == "__main__":
    main()

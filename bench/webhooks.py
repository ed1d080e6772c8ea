"""Webhook delivery: repository events going through metadata's outbox, community's import, fan-out
and delivery worker to a receiver on loopback, against the same receiver POSTed to directly.

- live: N tag creations (each one ref move, so one event) while the worker runs, and how long after
  the last one the receiver holds all N deliveries (does delivery keep up with changes?);
- backlog: N events recorded while the community service is stopped, then the time from its restart
  (healthy) until all N are delivered: the pipeline's own rate, against N sequential direct POSTs of
  the same payload from one client to the same receiver.
- latency: one tag at a time, from `create_tag` returning to the delivery arriving (the worker's poll
  interval, HANGAR_COMMUNITY_POLL_INTERVAL, bounds the wait when it is idle).

Run: .venv/bin/python -m bench.webhooks   (results in bench/results/webhooks.json)
"""
from __future__ import annotations

import json
import os
import statistics
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx

os.environ.setdefault("HANGAR_WEBHOOK_ALLOWED_NETWORKS", "127.0.0.0/8")  # the receiver is on loopback

from huggingface_hub import HfApi  # noqa: E402

from .harness import Timer, hub, report  # noqa: E402
from .repo_api import bench_user  # noqa: E402

EVENTS = 200
LATENCY_SAMPLES = 10


class _Server(ThreadingHTTPServer):
    request_queue_size = 128   # the worker delivers concurrently; a backlog of 5 drops SYNs (1 s retries)


class Receiver:
    def __init__(self) -> None:
        self.arrivals: list[tuple[float, dict]] = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with receiver.lock:
                    receiver.arrivals.append((time.perf_counter(), body))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.server = _Server(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def count(self) -> int:
        with self.lock:
            return len(self.arrivals)

    def wait_for(self, n: int, timeout: float = 300.0) -> float:
        deadline = time.monotonic() + timeout
        while self.count() < n:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{self.count()} of {n} deliveries arrived")
            time.sleep(0.005)
        with self.lock:
            return self.arrivals[n - 1][0]


def run(stack) -> list[dict]:
    user, token = bench_user(stack.endpoint)
    api = HfApi(endpoint=stack.endpoint, token=token)
    receiver = Receiver()
    repo = api.create_repo(f"{user}/hooked").repo_id
    api.create_webhook(url=receiver.url, watched=[{"type": "model", "name": repo}], domains=["repo"])

    with Timer() as creating:
        for i in range(EVENTS):
            api.create_tag(repo, tag=f"t{i}")
    created_at = time.perf_counter()
    last = receiver.wait_for(EVENTS)
    drain = last - created_at
    hub_rate = EVENTS / (creating.seconds + drain)
    sample = receiver.arrivals[0][1]

    with httpx.Client() as http, Timer() as direct:
        for _ in range(EVENTS):
            http.post(receiver.url, json=sample).raise_for_status()
    direct_rate = EVENTS / direct.seconds

    stack.stop_service("community")
    for i in range(EVENTS):
        api.create_tag(repo, tag=f"b{i}")
    before = receiver.count()
    stack.start_service("community")
    restarted = time.perf_counter()
    backlog = receiver.wait_for(before + EVENTS) - restarted
    backlog_rate = EVENTS / backlog

    latencies = []
    for i in range(LATENCY_SAMPLES):
        before = receiver.count()
        api.create_tag(repo, tag=f"latency-{i}")
        start = time.perf_counter()
        latencies.append(receiver.wait_for(before + 1) - start)
        time.sleep(0.3)
    return [
        {"case": f"live: {EVENTS} tag events", "create_s": creating.seconds, "delivered_after_last_s": drain,
         "events_per_s": hub_rate},
        {"case": f"backlog: {EVENTS} events after a restart", "deliver_s": backlog,
         "hub_deliveries_per_s": backlog_rate, "direct_posts_per_s": direct_rate,
         "ratio_direct_over_hub": direct_rate / backlog_rate},
        {"case": "one event, idle worker", "median_latency_s": statistics.median(latencies),
         "max_latency_s": max(latencies),
         "poll_interval_s": float(os.environ.get("HANGAR_COMMUNITY_POLL_INTERVAL", "1"))},
    ]


if __name__ == "__main__":
    with hub() as stack:
        report("webhooks", run(stack))

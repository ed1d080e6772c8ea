"""Fixtures of the community tests: a real HTTP webhook receiver on loopback (the session stack
allows 127.0.0.0/8 as webhook targets, see tests/conftest.py) and helpers to wait for deliveries."""
from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from huggingface_hub import HfApi


@dataclass
class Received:
    path: str
    headers: dict
    body: dict


@dataclass
class Receiver:
    """Records every POST. Paths choose the answer: `/fail/N/...` answers 500 to the first N requests
    of that path, `/slow/...` waits a second before answering, `/redirect/...` answers 302 to
    `/redirected`; anything else answers 200."""
    port: int
    received: list = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    counts: dict = field(default_factory=dict)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def at(self, path: str) -> list[Received]:
        with self.lock:
            return [r for r in self.received if r.path == path]

    def wait(self, path: str, predicate, timeout: float = 60.0) -> list[Received]:
        """Bounded wait until `predicate(requests at path)` holds; returns those requests."""
        deadline = time.monotonic() + timeout
        while True:
            got = self.at(path)
            if predicate(got):
                return got
            assert time.monotonic() < deadline, f"receiver {path}: {[r.body.get('event') for r in got]}"
            time.sleep(0.1)


def _handler(receiver: Receiver):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_POST(self):
            raw = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            try:
                body = json.loads(raw)
            except ValueError:
                body = {"unparsable": raw.decode(errors="replace")}
            with receiver.lock:
                receiver.received.append(Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body))
                count = receiver.counts[self.path] = receiver.counts.get(self.path, 0) + 1
            parts = self.path.strip("/").split("/")
            if parts[0] == "fail" and count <= int(parts[1]):
                self.send_response(500)
            elif parts[0] == "redirect":
                self.send_response(302)
                self.send_header("Location", receiver.url("/redirected"))
            else:
                if parts[0] == "slow":
                    time.sleep(1.0)
                self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

    return Handler


class _Server(ThreadingHTTPServer):
    request_queue_size = 128   # the worker delivers concurrently; a backlog of 5 drops SYNs (1 s retries)


@pytest.fixture(scope="session")
def receiver():
    server = _Server(("127.0.0.1", 0), None)
    hook = Receiver(port=server.server_address[1])
    server.RequestHandlerClass = _handler(hook)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield hook
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="session")
def api(endpoint, user) -> HfApi:
    return HfApi(endpoint=endpoint, token=user.token)

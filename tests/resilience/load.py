"""A light load of real requests against a hub, recording every answer, for the outage tests."""
from __future__ import annotations

import base64
import json
import threading
import time
import uuid
from dataclasses import dataclass, field

import httpx


@dataclass
class Answer:
    kind: str
    status: int
    headers: dict
    body: str


@dataclass
class Load:
    """Rounds of: whoami, repo info, a small commit, a file download, all with the user's token."""
    endpoint: str
    token: str
    repo: str
    answers: list[Answer] = field(default_factory=list)
    acknowledged: list[str] = field(default_factory=list)   # commit ids the hub answered 200 for
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.endpoint, timeout=60,
                            headers={"Authorization": f"Bearer {self.token}"})

    def round(self, http: httpx.Client) -> list[Answer]:
        got = []
        for kind, send in (("whoami", lambda: http.get("/api/whoami-v2")),
                           ("repo", lambda: http.get(f"/api/models/{self.repo}")),
                           ("commit", lambda: self._commit(http)),
                           ("download", lambda: http.get(f"/{self.repo}/resolve/main/README.md"))):
            try:
                resp = send()
            except httpx.TransportError as exc:  # the edge itself never answered
                got.append(Answer(kind, 0, {}, repr(exc)))
                continue
            got.append(Answer(kind, resp.status_code, dict(resp.headers), resp.text[:2000]))
            if kind == "commit" and resp.status_code == 200:
                self.acknowledged.append(resp.json()["commitOid"])
        self.answers.extend(got)
        return got

    def _commit(self, http: httpx.Client) -> httpx.Response:
        name = uuid.uuid4().hex[:12]
        lines = [{"key": "header", "value": {"summary": f"load {name}", "description": ""}},
                 {"key": "file", "value": {"path": f"load/{name}.txt", "encoding": "base64",
                                           "content": base64.b64encode(name.encode()).decode()}}]
        body = b"".join(json.dumps(line).encode() + b"\n" for line in lines)
        return http.post(f"/api/models/{self.repo}/commit/main", content=body,
                         headers={"Content-Type": "application/x-ndjson"})

    def start(self) -> None:
        def loop():
            with self.client() as http:
                while not self._stop.is_set():
                    self.round(http)
                    time.sleep(0.05)
        self._stop.clear()
        self._thread = threading.Thread(target=loop, daemon=True)
        self._thread.start()

    def stop(self) -> list[Answer]:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=120)
        return self.answers

    def wait_recovered(self, timeout: float = 120) -> None:
        """Until a whole round answers 200 (what recovery means here)."""
        deadline = time.monotonic() + timeout
        with self.client() as http:
            while True:
                got = self.round(http)
                if all(a.status == 200 for a in got):
                    return
                assert time.monotonic() < deadline, [(a.kind, a.status, a.body[:200]) for a in got]
                time.sleep(0.5)


def assert_no_server_error(answers: list[Answer], *, hidden: tuple[str, ...] = ()) -> list[Answer]:
    """Every answer is a success or a clean 503 (Retry-After, X-Error-Code, nothing internal named);
    returns the 503s."""
    unavailable = []
    for a in answers:
        assert a.status != 0, (a.kind, a.body)
        assert a.status < 500 or a.status == 503, (a.kind, a.status, a.body)
        for secret in hidden:
            assert secret not in a.body, (a.kind, a.status, a.body)
            assert all(secret not in v for v in a.headers.values()), (a.kind, a.headers)
        if a.status == 503:
            assert a.headers.get("retry-after", "").isdigit(), (a.kind, a.headers)
            assert a.headers.get("x-error-code"), (a.kind, a.headers)
            assert json.loads(a.body)["error"]
            unavailable.append(a)
        elif a.status >= 400:
            assert a.headers.get("x-error-code"), (a.kind, a.status, a.headers)
    return unavailable

"""A real HTTP hop between the mirror and the upstream stack: it forwards every request (so the
upstream is a real Hangar), counts them, and can misbehave on demand the way a bad upstream does
(wrong bytes, truncated bodies, 5xx, slowness, unreachable). LFS download hrefs in batch answers are
rewritten to pass through it too, so object downloads are counted and can be faulted."""
from __future__ import annotations

import json
import os
import subprocess
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, quote, urlsplit

import httpx

HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade", "proxy-authorization",
       "proxy-authenticate", "host", "content-length", "content-encoding"}


class FaultProxy:
    def __init__(self, upstream: str) -> None:
        self.upstream = upstream.rstrip("/")
        self.counts: Counter = Counter()
        self.lock = threading.Lock()
        # Object faults by oid: "wrong" (other bytes), "short" (truncated), "500", "slow" (stall).
        self.object_faults: dict[str, str] = {}
        self.down = False
        self.release = threading.Event()   # lets "hold" objects go on
        # Repos served by git itself (git http-backend on bare repos under `git_root`), for
        # upstream trees a Hangar upstream would never accept: repo id -> head commit.
        self.git_root = ""
        self.foreign: dict[str, str] = {}
        # Ids without a namespace the upstream redirects, as the Hub does for its oldest repos
        # (`gpt2` -> `openai-community/gpt2`): a Hangar upstream has none of its own.
        self.legacy: dict[str, str] = {}
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def count(self, what: str) -> int:
        with self.lock:
            return self.counts[what]

    def _bump(self, what: str) -> None:
        with self.lock:
            self.counts[what] += 1

    def _handler(self):
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _forward(self):
                if proxy.down:
                    self.connection.close()   # as an unreachable upstream: no answer at all
                    return
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length) if length else b""
                path = self.path
                if path.startswith("/__object__"):
                    return self._object(path)
                moved = self._legacy(path)
                if moved:
                    proxy._bump("api")
                    return self._answer(307, {"location": moved}, b"")
                foreign = self._foreign_repo(urlsplit(path).path)
                if foreign:
                    proxy._bump("git" if "/api/" not in path else "api")
                    proxy._bump(f"path:{urlsplit(path).path}")
                    return self._git_backend(foreign, path, body)
                kind = "lfs-batch" if path.endswith("/info/lfs/objects/batch") else \
                    "git" if ("/info/refs" in path or "git-upload-pack" in path) else "api"
                proxy._bump(kind)
                proxy._bump(f"path:{urlsplit(path).path}")
                headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP}
                with httpx.Client(timeout=60) as client:
                    resp = client.request(self.command, proxy.upstream + path, headers=headers, content=body)
                data = resp.content
                if kind == "lfs-batch" and resp.status_code == 200:
                    data = self._rewrite(data)
                self._answer(resp.status_code, resp.headers, data)

            def _legacy(self, path: str) -> str:
                split = urlsplit(path)
                parts = split.path.split("/")[1:]
                if parts[:2] == ["api", "models"] and len(parts) >= 3 and parts[2] in proxy.legacy and (
                        len(parts) == 3 or (parts[3] == "revision" and len(parts) >= 5)):
                    rest = "/".join(["", "api", "models", proxy.legacy[parts[2]], *parts[3:]])
                elif len(parts) >= 2 and parts[0] in proxy.legacy and parts[1] == "resolve":
                    rest = "/".join(["", proxy.legacy[parts[0]], *parts[1:]])
                else:
                    return ""
                return rest + (f"?{split.query}" if split.query else "")

            def _foreign_repo(self, path: str) -> str:
                parts = [p for p in path.split("/") if p]
                for repo in proxy.foreign:
                    ns, name = repo.split("/")
                    if parts[:4] == ["api", "models", ns, name] or parts[:2] == [ns, name]:
                        return repo
                return ""

            def _git_backend(self, repo: str, path: str, body: bytes):
                if path.startswith("/api/"):
                    info = {"id": repo, "private": False, "gated": False, "sha": proxy.foreign[repo]}
                    return self._answer(200, {"content-type": "application/json"}, json.dumps(info).encode())
                split = urlsplit(path)
                env = {"PATH": os.environ["PATH"], "GIT_PROJECT_ROOT": proxy.git_root, "GIT_HTTP_EXPORT_ALL": "1",
                       "PATH_INFO": split.path, "QUERY_STRING": split.query, "REQUEST_METHOD": self.command,
                       "CONTENT_TYPE": self.headers.get("content-type", ""), "CONTENT_LENGTH": str(len(body)),
                       "HTTP_CONTENT_ENCODING": self.headers.get("content-encoding", ""),
                       "GIT_PROTOCOL": self.headers.get("git-protocol", "")}
                run = subprocess.run(["git", "http-backend"], input=body, env=env, capture_output=True, timeout=60)
                head, _, data = run.stdout.partition(b"\r\n\r\n")
                status, headers = 200, {}
                for line in head.decode().split("\r\n"):
                    key, _, value = line.partition(":")
                    if key.lower() == "status":
                        status = int(value.split()[0])
                    elif key:
                        headers[key.strip()] = value.strip()
                self._answer(status, headers, data)

            def _rewrite(self, data: bytes) -> bytes:
                answer = json.loads(data)
                for obj in answer.get("objects", []):
                    action = (obj.get("actions") or {}).get("download")
                    if action:
                        action["href"] = f"{proxy.url}/__object__?oid={obj['oid']}&u={quote(action['href'], safe='')}"
                return json.dumps(answer).encode()

            def _object(self, path: str):
                query = parse_qs(urlsplit(path).query)
                oid, target = query["oid"][0], query["u"][0]
                proxy._bump("object")
                proxy._bump(f"object:{oid}")
                fault = proxy.object_faults.get(oid)
                if fault == "500":
                    return self._answer(500, {}, b"upstream broke")
                with httpx.Client(timeout=60, follow_redirects=True) as client:
                    resp = client.get(target)
                data = resp.content
                if fault == "wrong":
                    data = bytes(b ^ 0xFF for b in data)
                if fault == "short":
                    self.send_response(200)
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data[: len(data) // 2])
                    self.wfile.flush()
                    self.connection.close()
                    return
                if fault == "hold":
                    # Alive but not done until released: a byte a second (the mirror's read
                    # timeout never fires), the rest once `release` is set.
                    self.send_response(200)
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    sent = 0
                    try:
                        while not proxy.release.wait(1.0) and sent < len(data) - 1:
                            self.wfile.write(data[sent:sent + 1])
                            self.wfile.flush()
                            sent += 1
                        self.wfile.write(data[sent:])
                    except OSError:
                        pass   # the mirror went away mid-transfer
                    return
                if fault == "slow":
                    self.send_response(200)
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data[:1024])
                    self.wfile.flush()
                    time.sleep(30)
                    self.connection.close()
                    return
                self._answer(resp.status_code, {"content-type": "application/octet-stream"}, data)

            def _answer(self, status: int, headers, data: bytes):
                self.send_response(status)
                for key, value in headers.items():
                    if key.lower() not in HOP:
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_HEAD = _forward

        return Handler

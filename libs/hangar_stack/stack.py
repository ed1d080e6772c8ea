"""The local stack launcher behind `make up`, `make down`, `make logs` and the test session.

    python -m hangar_stack up [--foreground]   start everything, return once /health answers 200;
                                               on a running stack, start again what is missing
    python -m hangar_stack down                stop everything `up` started
    python -m hangar_stack status | logs [-f]
    python -m hangar_stack admin NAME [--email E]   first admin of the running stack; prints a token
    python -m hangar_stack supervise           the supervisor `up` starts (supervise.py): restarts
                                               crashed processes with backoff, rotates the logs

Infrastructure is embedded unless HANGAR_DATABASE_URL / HANGAR_REDIS_URL / HANGAR_S3_ENDPOINT point
at external services. State lives under HANGAR_STATE_DIR (default `.hangar/`).
"""
from __future__ import annotations

import argparse
import contextlib
import fcntl
import json
import os
import secrets
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from . import infra, lakefs, supervise
from .infra import StartupError

ROOT = Path(__file__).resolve().parents[2]

# Start order matters: gRPC services own migrations and are dialled by the HTTP services.
SERVICES = ("auth", "metadata", "lfs", "community", "mirror", "git", "gateway", "web")


def replicas(name: str) -> int:
    """How many processes of a service to run: HANGAR_REPLICAS_<NAME> (default 1)."""
    raw = os.environ.get(f"HANGAR_REPLICAS_{name.upper()}", "").strip()
    count = int(raw) if raw.isdigit() else 1
    if not 1 <= count <= 16:
        raise StartupError(f"HANGAR_REPLICAS_{name.upper()}={raw}: between 1 and 16 replicas")
    return count


def replica_name(name: str, index: int) -> str:
    """The record (and log) name of a replica: `gateway` for the first, `gateway@2` for the second."""
    return name if index == 0 else f"{name}@{index + 1}"


def grpc_target(ports: list[dict[str, int]]) -> str:
    """A gRPC target naming every replica; the channels balance calls over them (round robin)."""
    if len(ports) == 1:
        return f"127.0.0.1:{ports[0]['grpc']}"
    return "ipv4:" + ",".join(f"127.0.0.1:{p['grpc']}" for p in ports)


@dataclass
class Stack:
    state: Path
    port: int = 8080
    records: list[dict] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)
    service_ports: dict[str, dict[str, int]] = field(default_factory=dict)   # each service's first replica
    replica_ports: dict[str, list[dict[str, int]]] = field(default_factory=dict)
    supervisor_pid: int | None = None
    supervised: bool = True

    @property
    def state_file(self) -> Path:
        return self.state / "stack.json"

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @classmethod
    def load(cls, state: Path) -> Stack | None:
        """The stack described by `state`'s state file, or None when there is none."""
        try:
            saved = json.loads((state / "stack.json").read_text())
        except FileNotFoundError:
            return None
        stack = cls(state=state, port=int(saved["endpoint"].rsplit(":", 1)[1]),
                    records=saved.get("processes", []), env=saved.get("env", {}))
        stack.supervisor_pid = saved.get("supervisor")
        for r in stack.records:
            if "grpc_port" in r:
                stack.replica_ports.setdefault(r.get("service", r["name"]), []).append(
                    {"http": r["port"], "grpc": r["grpc_port"]})
        stack.service_ports = {name: ports[0] for name, ports in stack.replica_ports.items()}
        return stack

    @contextlib.contextmanager
    def _locked(self):
        """The state file changes under this lock (the supervisor and the launcher both write it);
        inside, self.records is what the file says."""
        self.state.mkdir(parents=True, exist_ok=True)
        with open(self.state / "stack.lock", "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                if self.state_file.exists():
                    saved = json.loads(self.state_file.read_text())
                    self.records = saved.get("processes", self.records)
                    self.supervisor_pid = saved.get("supervisor", self.supervisor_pid)
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    # --- lifecycle ------------------------------------------------------------------------

    def running(self) -> dict | None:
        if not self.state_file.exists():
            return None
        saved = json.loads(self.state_file.read_text())
        if any(infra.pid_alive(r["pid"]) for r in saved.get("processes", [])):
            return saved
        return None

    def up(self, timeout: float = 120.0) -> None:
        self.state.mkdir(parents=True, exist_ok=True)
        if not infra.port_is_free(self.port):
            raise StartupError(f"port {self.port} is already in use (set HANGAR_PORT to choose another)")
        try:
            self._start_infrastructure()
            self._start_services()
            ping = infra.free_port()
            http = {name: [p["http"] for p in ports] for name, ports in self.replica_ports.items()}
            self._record(infra.start_traefik(self.state, self.port, ping, http["gateway"], http["lfs"],
                                             http["git"], http["web"]))
            self._wait_healthy(timeout)
            if self.supervised:
                self.start_supervisor()
        except BaseException:
            self.down()
            raise

    def start_supervisor(self) -> None:
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "libs"), str(ROOT)]),
               "PYTHONUNBUFFERED": "1", "HANGAR_STATE_DIR": str(self.state)}
        proc = infra.spawn([sys.executable, "-m", "hangar_stack", "supervise"],
                           self.state / "logs" / "supervisor.log", env=env, cwd=ROOT)
        with self._locked():
            self.supervisor_pid = proc.pid
            self._record_all()

    def heal(self, timeout: float = 120.0) -> list[str]:
        """Start again every process of a running stack that is gone (and the supervisor); return
        their names. What `up` does on a stack that is already running."""
        healed = []
        with self._locked():
            missing = [r["name"] for r in self.records if not infra.pid_alive(r["pid"])]
        for name in missing:
            if self.restart(name, if_gone=True):  # (unless the supervisor was quicker)
                healed.append(name)
        if self.supervisor_pid is None or not infra.pid_alive(self.supervisor_pid):
            self.start_supervisor()
            healed.append("supervisor")
        self._wait_healthy(timeout)
        return healed

    def down(self) -> None:
        records = self.records
        if self.state_file.exists():
            saved = json.loads(self.state_file.read_text())
            records = saved.get("processes", records)
            self.supervisor_pid = saved.get("supervisor", self.supervisor_pid)
        if self.supervisor_pid:  # first, so it restarts nothing while the rest stops
            infra.stop_pid(self.supervisor_pid, timeout=5)
            self.supervisor_pid = None
        for record in reversed(records):
            infra.stop_pid(record["pid"], timeout=20 if record["name"] == "postgres" else 15)
        self.records = []
        self.state_file.unlink(missing_ok=True)

    # --- pieces ---------------------------------------------------------------------------

    def _record(self, record: dict) -> None:
        self.records.append(record)
        self._record_all()

    def _secret(self, name: str) -> str:
        path = self.state / name
        if not path.exists():
            path.write_text(secrets.token_hex(32))
            path.chmod(0o600)
        return path.read_text().strip()

    def _start_infrastructure(self) -> None:
        env = os.environ
        self.env = {"HANGAR_PORT": str(self.port),
                    "HANGAR_SECRET_KEY": env.get("HANGAR_SECRET_KEY") or self._secret("secret_key"),
                    "HANGAR_PUBLIC_URL": env.get("HANGAR_PUBLIC_URL", self.endpoint),
                    # Xet-stored objects stream from the hub under another host name (the Hub's
                    # cas-bridge): clients keep the file metadata of resolve's redirect.
                    "HANGAR_LFS_XET_BRIDGE_URL": env.get("HANGAR_LFS_XET_BRIDGE_URL",
                                                         self.endpoint.replace("127.0.0.1", "localhost"))}
        if env.get("HANGAR_DATABASE_URL"):
            self.env["HANGAR_DATABASE_URL"] = env["HANGAR_DATABASE_URL"]
        else:
            pg = infra.start_postgres(self.state, infra.free_port())
            self._record(pg)
            self.env["HANGAR_DATABASE_URL"] = f"postgresql://hangar@127.0.0.1:{pg['port']}/hangar"
        if env.get("HANGAR_REDIS_URL"):
            self.env["HANGAR_REDIS_URL"] = env["HANGAR_REDIS_URL"]
        else:
            redis = infra.start_redis(self.state, infra.free_port())
            self._record(redis)
            self.env["HANGAR_REDIS_URL"] = f"redis://127.0.0.1:{redis['port']}/0"
        if env.get("HANGAR_S3_ENDPOINT"):
            for key in ("HANGAR_S3_ENDPOINT", "HANGAR_S3_ACCESS_KEY", "HANGAR_S3_SECRET_KEY", "HANGAR_S3_BUCKET",
                        "HANGAR_S3_REGION", "HANGAR_S3_PUBLIC_URL"):
                if env.get(key):
                    self.env[key] = env[key]
        else:
            access, secret = "hangar", self._secret("s3_secret")
            s3 = infra.start_seaweedfs(self.state, infra.free_port(also_free_offset=10000), access, secret)
            self._record(s3)
            self.env.update({"HANGAR_S3_ENDPOINT": f"http://127.0.0.1:{s3['port']}",
                             "HANGAR_S3_ACCESS_KEY": access, "HANGAR_S3_SECRET_KEY": secret})
            # Clients reach S3 on its own origin; a different host name than the hub's keeps them from
            # carrying the hub's Authorization header over to S3 on redirects.
            self.env["HANGAR_S3_PUBLIC_URL"] = env.get("HANGAR_S3_PUBLIC_URL", f"http://localhost:{s3['port']}")
        if env.get("HANGAR_METADATA_ENGINE", "git") == "lakefs" and not env.get("HANGAR_LAKEFS_URL"):
            self._start_lakefs()
        for key, value in env.items():  # pass every other HANGAR_* setting through
            if key.startswith("HANGAR_") and key not in self.env and key not in ("HANGAR_STATE_DIR",):
                self.env[key] = value

    def _start_lakefs(self) -> None:
        """lakeFS for the lakeFS engine, on the stack's S3 (its keys are kept in the state dir only)."""
        s3 = {"endpoint": self.env["HANGAR_S3_ENDPOINT"], "access_key": self.env["HANGAR_S3_ACCESS_KEY"],
              "secret_key": self.env["HANGAR_S3_SECRET_KEY"],
              "region": os.environ.get("HANGAR_S3_REGION", "us-east-1")}
        cache = Path(os.environ.get("HANGAR_LAKEFS_CACHE", ROOT / ".hangar" / "cache"))
        record, settings = lakefs.start_lakefs(self.state, infra.free_port(), cache, s3)
        self.env.update(settings)
        self._record(record)

    def _start_services(self) -> None:
        self.replica_ports = {name: [{"http": infra.free_port(), "grpc": infra.free_port()}
                                     for _ in range(replicas(name))] for name in SERVICES}
        self.service_ports = {name: ports[0] for name, ports in self.replica_ports.items()}
        targets = {name: grpc_target(ports) for name, ports in self.replica_ports.items()}
        common = dict(self.env)
        common.update({
            "HANGAR_AUTH_TARGET": targets["auth"],
            "HANGAR_METADATA_TARGET": targets["metadata"],
            "HANGAR_LFS_TARGET": targets["lfs"],
            "HANGAR_COMMUNITY_TARGET": targets["community"],
            "HANGAR_MIRROR_TARGET": targets["mirror"],
            "HANGAR_GIT_HTTP_URL": f"http://127.0.0.1:{self.service_ports['git']['http']}",
            "HANGAR_LFS_HTTP_URL": f"http://127.0.0.1:{self.service_ports['lfs']['http']}",
            "HANGAR_WEB_HTTP_URL": f"http://127.0.0.1:{self.service_ports['web']['http']}",
        })
        self.env = common
        procs = []
        for name in SERVICES:
            for index, ports in enumerate(self.replica_ports[name]):
                record: dict = {"name": replica_name(name, index), "service": name, "pid": 0,
                          "port": ports["http"], "grpc_port": ports["grpc"]}
                proc = self._spawn_service(record)
                record["pid"] = proc.pid
                self._record(record)
                procs.append((record, proc))
        for record, proc in procs:
            try:
                infra.wait_for_port(record["port"], 60, proc, record["name"])
            except StartupError as exc:
                raise StartupError(f"{exc}\n{self.log_tail(record['name'])}") from None

    def _hold(self, name: str) -> dict:
        """Mark a process as stopped on purpose: the supervisor leaves it alone until it is started."""
        with self._locked():
            record = next(r for r in self.records if r["name"] == name)
            record["held"] = True
            self._record_all()
        return record

    def stop_service(self, name: str) -> None:
        """Stop one process of the stack, a service or PostgreSQL, Redis, S3 (tests use it to see
        /health turn 503 and the hub answer 503 while a dependency is down)."""
        infra.stop_pid(self._hold(name)["pid"])

    def kill(self, name: str, *, hold: bool = True) -> int:
        """SIGKILL one process (and its process group); with hold=False the supervisor heals it."""
        import signal
        with self._locked():
            record = next(r for r in self.records if r["name"] == name)
        if hold:
            self._hold(name)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(record["pid"], signal.SIGKILL)
        deadline = time.monotonic() + 10
        while infra.pid_alive(record["pid"]) and time.monotonic() < deadline:
            time.sleep(0.05)
        return record["pid"]

    def start_service(self, name: str) -> None:
        """(Re)start one process on the ports and environment it had."""
        self.restart(name)

    def pid_of(self, name: str) -> int:
        with self._locked():
            return next(r["pid"] for r in self.records if r["name"] == name)

    def restart(self, name: str, *, if_gone: bool = False) -> bool:
        """Start one process of the stack again where it was: same ports, same state, same settings.
        Leftovers of its process group (a killed PostgreSQL's backends) are killed first. With
        if_gone (the supervisor), only a process that is gone and not held; True if it started."""
        import signal
        with self._locked():
            record = next(r for r in self.records if r["name"] == name)
            if if_gone and (record.get("held") or infra.pid_alive(record["pid"])):
                return False
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(record["pid"], signal.SIGKILL)
            record["pid"] = self._start_again(record)
            record.pop("held", None)
            self._record_all()
        return True

    def _start_again(self, record: dict) -> int:
        name, port = record["name"], record["port"]
        if name == "postgres":
            return infra.start_postgres(self.state, port)["pid"]
        if name == "redis":
            return infra.start_redis(self.state, port)["pid"]
        if name == "s3":
            return infra.start_seaweedfs(self.state, port, self.env["HANGAR_S3_ACCESS_KEY"],
                                         self.env["HANGAR_S3_SECRET_KEY"])["pid"]
        if name == "lakefs":
            return lakefs.run(self.state, Path(record["binary"]), port)
        if name == "traefik":
            http = {service: [p["http"] for p in ports] for service, ports in self.replica_ports.items()}
            return infra.start_traefik(self.state, port, record["ping_port"], http["gateway"], http["lfs"],
                                       http["git"], http["web"])["pid"]
        proc = self._spawn_service(record)
        infra.wait_for_port(port, 60, proc, name)
        return proc.pid

    def _record_all(self) -> None:
        # The state file holds the stack's keys (S3, lakeFS): readable by its owner only. Written
        # whole and renamed into place: the supervisor reads it at any moment, without the lock.
        partial = self.state_file.with_name(f"{self.state_file.name}.{os.getpid()}.tmp")
        partial.touch(mode=0o600)
        partial.chmod(0o600)
        partial.write_text(json.dumps({"endpoint": self.endpoint, "processes": self.records,
                                       "env": self.env, "supervisor": self.supervisor_pid}, indent=2))
        partial.replace(self.state_file)

    def _spawn_service(self, record: dict):
        """Start one replica of a service on the ports of its record."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("HANGAR_")}
        env.update(self.env)
        env.update({"PYTHONPATH": os.pathsep.join([str(ROOT / "libs"), str(ROOT)]), "PYTHONUNBUFFERED": "1",
                    "HANGAR_HTTP_PORT": str(record["port"]), "HANGAR_GRPC_PORT": str(record["grpc_port"])})
        service = record.get("service", record["name"])
        return infra.spawn([sys.executable, "-m", f"services.{service}"],
                           self.state / "logs" / f"{record['name']}.log", env=env, cwd=ROOT)

    def _wait_healthy(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        last = ""
        while time.monotonic() < deadline:
            for record in self.records:
                if not infra.pid_alive(record["pid"]):
                    raise StartupError(f"{record['name']} exited during start\n{self.log_tail(record['name'])}")
            try:
                with urllib.request.urlopen(f"{self.endpoint}/health", timeout=5) as resp:
                    if resp.status == 200:
                        return
            except urllib.error.HTTPError as exc:
                last = exc.read().decode(errors="replace")
            except OSError as exc:
                last = str(exc)
            time.sleep(0.3)
        raise StartupError(f"hub not healthy within {timeout:.0f}s: {last}")

    def log_tail(self, name: str, lines: int = 30) -> str:
        path = self.state / "logs" / f"{name}.log"
        if not path.exists():
            return ""
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


def default_state() -> Path:
    return Path(os.environ.get("HANGAR_STATE_DIR", ROOT / ".hangar"))


def create_admin(stack: Stack, name: str, email: str) -> int:
    """Run auth's create-admin against the running stack with the settings `up` gave its services
    (database, secret key: kept in stack.json), so nothing needs exporting by hand. The token goes
    to stdout, the rest to stderr."""
    running = stack.running()
    if running is None:
        print(f"hangar: no running stack under {stack.state} (start it with `make up`)", file=sys.stderr)
        return 1
    env = {k: v for k, v in os.environ.items() if not k.startswith("HANGAR_")}
    env.update(running.get("env", {}))
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "libs"), str(ROOT)])
    argv = [sys.executable, "-m", "services.auth", "create-admin", name] + (["--email", email] if email else [])
    return subprocess.run(argv, env=env, cwd=ROOT, check=False).returncode


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="hangar_stack")
    parser.add_argument("command", choices=["up", "down", "status", "logs", "admin", "supervise"])
    parser.add_argument("name", nargs="?", help="admin: the account to create or promote")
    parser.add_argument("--email", default="", help="admin: its e-mail address")
    parser.add_argument("-f", "--follow", action="store_true")
    args = parser.parse_args(argv)
    if args.command == "supervise":
        return supervise.run(default_state())
    stack = Stack(state=default_state(), port=int(os.environ.get("HANGAR_PORT", "8080")))
    if args.command == "admin":
        if not args.name:
            parser.error("admin needs a NAME (make admin NAME=alice)")
        return create_admin(stack, args.name, args.email)
    if args.command == "up":
        running = stack.running()
        if running:
            loaded = Stack.load(stack.state)
            assert loaded is not None
            try:
                healed = loaded.heal()
            except StartupError as exc:
                print(f"hangar: the running hub is not healthy: {exc}", file=sys.stderr)
                return 1
            print(f"Hangar was running at {running['endpoint']} with processes missing; started again: "
                  f"{', '.join(healed)}" if healed else f"Hangar is already running at {running['endpoint']}")
            return 0
        try:
            stack.up()
        except StartupError as exc:
            print(f"hangar: startup failed: {exc}", file=sys.stderr)
            return 1
        print(f"Hangar is up at {stack.endpoint}  (HF_ENDPOINT={stack.endpoint}; `make down` to stop)")
        return 0
    if args.command == "down":
        was = stack.running()
        stack.down()
        print("Hangar stopped" if was else "Hangar was not running")
        return 0
    if args.command == "status":
        running = stack.running()
        print(f"running at {running['endpoint']}" if running else "not running")
        return 0 if running else 1
    logs = sorted((stack.state / "logs").glob("*.log"))
    if args.follow:
        os.execvp("tail", ["tail", "-n", "50", "-F", *map(str, logs)])
    for path in logs:
        print(f"==> {path.name} <==")
        print("\n".join(path.read_text(errors="replace").splitlines()[-50:]))
    return 0

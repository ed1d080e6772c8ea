"""An embedded lakeFS server for the lakeFS versioning engine (HANGAR_METADATA_ENGINE=lakefs).

lakeFS ships no binary in the registries this project installs from, and `go install` refuses its
module (its go.mod carries a `replace` directive). So the binary is built the ordinary way from the Go
module proxy: `go mod download` the module, copy it somewhere writable, `go build ./cmd/lakefs` there.
The result is cached (HANGAR_LAKEFS_CACHE, default `.hangar/cache/`) and reused by every later run;
HANGAR_LAKEFS_BIN names a prebuilt binary instead, and HANGAR_LAKEFS_URL an external server.

The server runs on loopback with its embedded KV store, an S3 blockstore on the stack's S3 and
admin credentials generated under the state directory (mode 600). It is an internal component:
Traefik never routes to it, since lakeFS's own authorization cannot express the Hub's privacy.
"""
from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

from .infra import StartupError, spawn, wait_for_port

LAKEFS_MODULE = "github.com/treeverse/lakefs"
LAKEFS_VERSION = "v1.84.0"
BUILD_TIMEOUT = 45 * 60  # a cold module cache downloads a few hundred MB on a 2-core machine


def binary(cache: Path) -> Path:
    """The lakeFS server binary: HANGAR_LAKEFS_BIN, the cached build, or a new build into the cache."""
    given = os.environ.get("HANGAR_LAKEFS_BIN")
    if given:
        path = Path(given)
        if not os.access(path, os.X_OK):
            raise StartupError(f"HANGAR_LAKEFS_BIN={given} is not an executable file")
        return path
    target = cache / f"lakefs-{LAKEFS_VERSION}"
    if os.access(target, os.X_OK):
        return target
    build(target)
    return target


def build(target: Path) -> None:
    """Build lakeFS from the Go module proxy into `target` (atomically: a half build is never used)."""
    go = shutil.which("go") or ("/usr/local/go/bin/go" if os.access("/usr/local/go/bin/go", os.X_OK) else None)
    if go is None:
        raise StartupError("the lakeFS engine needs Go (>= 1.26) to build lakeFS: install Go or set "
                           "HANGAR_LAKEFS_BIN / HANGAR_LAKEFS_URL")
    target.parent.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "CGO_ENABLED": "0", "GOFLAGS": "-mod=mod"}
    found = _run([go, "mod", "download", "-json", f"{LAKEFS_MODULE}@{LAKEFS_VERSION}"], env=env,
                 cwd=target.parent)
    module_dir = json.loads(found).get("Dir")
    if not module_dir:
        raise StartupError(f"go mod download gave no module folder for {LAKEFS_MODULE}@{LAKEFS_VERSION}")
    with tempfile.TemporaryDirectory(dir=target.parent, prefix="lakefs-build-") as work:
        src = Path(work) / "src"
        shutil.copytree(module_dir, src)  # the module cache is read-only
        for path in [src, *src.rglob("*")]:
            if not path.is_symlink():
                path.chmod(path.stat().st_mode | 0o200)
        partial = Path(work) / "lakefs"
        _run([go, "build", "-o", str(partial), "./cmd/lakefs"], env={**env, "GOFLAGS": ""}, cwd=src)
        partial.replace(target)


def _run(argv: list[str], *, env: dict[str, str], cwd: Path) -> str:
    try:
        done = subprocess.run(argv, env=env, cwd=cwd, capture_output=True, text=True, timeout=BUILD_TIMEOUT)
    except subprocess.TimeoutExpired:
        raise StartupError(f"building lakeFS timed out: {' '.join(argv)}") from None
    if done.returncode != 0:
        raise StartupError(f"building lakeFS failed ({' '.join(argv[:3])}):\n{done.stderr[-2000:]}")
    return done.stdout


def _secret(path: Path, nbytes: int) -> str:
    if not path.exists():
        path.write_text(secrets.token_hex(nbytes))
        path.chmod(0o600)
    return path.read_text().strip()


def config(state: Path, port: int, s3: dict[str, str]) -> tuple[Path, dict[str, str]]:
    """Write lakeFS's configuration (mode 600: it holds keys); return it and the engine's settings."""
    base = state / "lakefs"
    base.mkdir(parents=True, exist_ok=True)
    base.chmod(0o700)
    access_key = "AKIAHANGAR" + _secret(base / "access_key", 5).upper()
    secret_key = _secret(base / "secret_key", 20)
    settings = {
        "listen_address": f"127.0.0.1:{port}",
        "database": {"type": "local", "local": {"path": str(base / "kv")}},
        "auth": {"encrypt": {"secret_key": _secret(base / "encrypt_key", 32)}},
        "blockstore": {"type": "s3", "s3": {
            "endpoint": s3["endpoint"], "force_path_style": True, "discover_bucket_region": False,
            "region": s3["region"],
            "credentials": {"access_key_id": s3["access_key"], "secret_access_key": s3["secret_key"]}}},
        "installation": {"user_name": "hangar-admin", "access_key_id": access_key,
                         "secret_access_key": secret_key},
        "stats": {"enabled": False},
        "security": {"check_latest_version": False},
        "email_subscription": {"enabled": False},
        "logging": {"level": "WARN", "format": "json"},
    }
    path = base / "config.yaml"
    path.write_text(json.dumps(settings, indent=2))  # JSON is valid YAML
    path.chmod(0o600)
    engine = {"HANGAR_LAKEFS_URL": f"http://127.0.0.1:{port}", "HANGAR_LAKEFS_ACCESS_KEY": access_key,
              "HANGAR_LAKEFS_SECRET_KEY": secret_key}
    return path, engine


def start_lakefs(state: Path, port: int, cache: Path, s3: dict[str, str]) -> tuple[dict, dict[str, str]]:
    """Start lakeFS on loopback; return its process record and the HANGAR_LAKEFS_* settings."""
    exe = binary(cache)
    path, engine = config(state, port, s3)
    pid = run(state, exe, port)
    return {"name": "lakefs", "pid": pid, "port": port, "binary": str(exe)}, engine


def run(state: Path, exe: Path, port: int) -> int:
    """(Re)start lakeFS with the configuration written under `state`; return its pid once healthy."""
    path = state / "lakefs" / "config.yaml"
    proc = spawn([str(exe), "run", "--config", str(path)], state / "logs" / "lakefs.log", cwd=path.parent)
    wait_for_port(port, 60, proc, "lakefs")
    _wait_healthy(f"http://127.0.0.1:{port}", proc)
    return proc.pid


def _wait_healthy(url: str, proc: subprocess.Popen) -> None:
    deadline = time.monotonic() + 60
    last = ""
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise StartupError(f"lakefs exited with code {proc.returncode} during start")
        try:
            with urllib.request.urlopen(f"{url}/api/v1/healthcheck", timeout=3) as resp:
                if resp.status in (200, 204):
                    return
        except (urllib.error.URLError, OSError) as exc:
            last = str(exc)
        time.sleep(0.2)
    raise StartupError(f"lakefs not healthy within 60s: {last}")

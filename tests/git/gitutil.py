"""Helpers for driving the real git CLI in tests."""
from __future__ import annotations

import os
import subprocess
from pathlib import Path


def git(*args: str, cwd: Path | str | None = None, input: bytes | None = None, check: bool = True,
        env: dict | None = None) -> subprocess.CompletedProcess:
    full_env = {**os.environ, "GIT_TERMINAL_PROMPT": "0", **(env or {})}
    proc = subprocess.run(["git", *args], cwd=cwd, input=input, capture_output=True, env=full_env)
    if check and proc.returncode != 0:
        raise AssertionError(f"git {' '.join(args)} failed ({proc.returncode}):\n"
                             f"{proc.stdout.decode(errors='replace')}\n{proc.stderr.decode(errors='replace')}")
    return proc


def out(*args: str, cwd: Path | str | None = None, **kw) -> str:
    return git(*args, cwd=cwd, **kw).stdout.decode().strip()


def init_repo(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    git("init", "-q", "-b", "main", str(path))
    git("config", "user.email", "t@example.com", cwd=path)
    git("config", "user.name", "Tester", cwd=path)
    return path


def commit_files(repo: Path, files: dict[str, bytes], message: str) -> str:
    for name, data in files.items():
        target = repo / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    git("add", "-A", cwd=repo)
    git("commit", "-q", "-m", message, cwd=repo)
    return out("rev-parse", "HEAD", cwd=repo)


def all_objects(repo: Path) -> dict[str, tuple[str, bytes]]:
    """oid -> (type, raw data) for every object in the repository."""
    listing = out("cat-file", "--batch-all-objects", "--batch-check", cwd=repo).splitlines()
    oids = [line.split()[0] for line in listing]
    raw = git("cat-file", "--batch", cwd=repo, input="\n".join(oids).encode() + b"\n").stdout
    result, pos = {}, 0
    while pos < len(raw):
        header_end = raw.index(b"\n", pos)
        oid, kind, size = raw[pos:header_end].decode().split()
        start = header_end + 1
        result[oid] = (kind, raw[start:start + int(size)])
        pos = start + int(size) + 1
    return result

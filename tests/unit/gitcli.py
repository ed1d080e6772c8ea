"""Real git, run in a throwaway repository, as the reference the pure modules are checked against."""
from __future__ import annotations

import os
import subprocess
from pathlib import Path

# No user or system configuration reaches these runs (a global core.autocrlf, excludesFile or
# attributes file would change what git answers).
ENV = {**os.environ, "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1",
       "GIT_AUTHOR_NAME": "unit", "GIT_AUTHOR_EMAIL": "unit@example.com",
       "GIT_COMMITTER_NAME": "unit", "GIT_COMMITTER_EMAIL": "unit@example.com",
       "GIT_AUTHOR_DATE": "1700000000 +0000", "GIT_COMMITTER_DATE": "1700000000 +0000"}


class Git:
    def __init__(self, work: Path) -> None:
        self.work = work
        work.mkdir(parents=True, exist_ok=True)
        self("init", "-q", "-b", "main")

    def __call__(self, *args: str, input: bytes | None = None, check: bool = True) -> bytes:
        done = subprocess.run(["git", *args], cwd=self.work, env=ENV, input=input, capture_output=True)
        if check and done.returncode != 0:
            raise AssertionError(f"git {' '.join(args)}: {done.stderr.decode(errors='replace')}")
        return done.stdout

    def text(self, *args: str, input: bytes | None = None) -> str:
        return self(*args, input=input).decode().strip()

    def hash_object(self, kind: str, data: bytes, *, write: bool = True) -> str:
        return self.text("hash-object", "-t", kind, *(["-w"] if write else []), "--stdin",
                         "--literally" if kind != "blob" else "--no-filters", input=data)

    def cat(self, oid: str) -> bytes:
        kind = self.text("cat-file", "-t", oid)
        return self("cat-file", kind, oid)

    def write_files(self, files: dict[str, bytes]) -> None:
        for path, data in files.items():
            target = self.work / path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)

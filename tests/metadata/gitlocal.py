"""Helpers that move objects between the metadata git RPCs and a real local git repository."""
from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path

from hangar_protos import metadata_pb2 as pb

TYPES = {1: "commit", 2: "tree", 3: "blob", 4: "tag"}
ZERO = "0" * 40


def git(cwd: Path, *args: str, input: bytes | None = None) -> str:
    env = {"GIT_AUTHOR_NAME": "Bob", "GIT_AUTHOR_EMAIL": "bob@example.com", "GIT_COMMITTER_NAME": "Bob",
           "GIT_COMMITTER_EMAIL": "bob@example.com", "HOME": str(cwd), "PATH": "/usr/bin:/bin",
           "GIT_CONFIG_NOSYSTEM": "1"}   # no system-wide git-lfs filters: plain git semantics
    out = subprocess.run(["git", *args], cwd=cwd, input=input, capture_output=True, env=env, check=True)
    return out.stdout.decode().strip()


def init(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    git(path, "init", "-q", "-b", "main")
    return path


async def fetch(md, repo, wants, haves=(), depth=0, shallows=()):
    """(first batch, {oid: (type, data)}) of a GitFetchObjects answer, checking every id."""
    objects, first, partial, sizes = {}, None, {}, {}
    async for batch in md.GitFetchObjects(pb.GitFetchRequest(repo=repo, wants=wants, haves=list(haves),
                                                             depth=depth, client_shallows=list(shallows))):
        first = first or batch
        for obj in batch.objects:
            if obj.oid not in partial:
                sizes[obj.oid] = obj.size          # announced on the first piece of every object
            data = partial.pop(obj.oid, b"") + obj.data
            if obj.more:
                partial[obj.oid] = data
                continue
            header = f"{TYPES[obj.type]} {len(data)}\0".encode()
            assert hashlib.sha1(header + data).hexdigest() == obj.oid
            objects[obj.oid] = (obj.type, data)
            assert sizes[obj.oid] == len(data)
    assert not partial and first.object_count == len(objects)
    return first, objects


def store(path: Path, objects: dict) -> None:
    """Write raw objects into a local repository with git itself."""
    for oid, (kind, data) in objects.items():
        got = git(path, "hash-object", "-w", "--literally", "-t", TYPES[kind], "--stdin", input=data)
        assert got == oid


def local_objects(path: Path, oids) -> dict:
    out = {}
    for oid in oids:
        kind = git(path, "cat-file", "-t", oid)
        data = subprocess.run(["git", "cat-file", kind, oid], cwd=path, capture_output=True, check=True).stdout
        out[oid] = ({v: k for k, v in TYPES.items()}[kind], data)
    return out


def new_objects(path: Path, tip: str, exclude: list[str]) -> dict:
    """Objects reachable from `tip` and not from `exclude` (git rev-list --objects)."""
    args = ["rev-list", "--objects", tip, *[f"^{e}" for e in exclude]]
    oids = [line.split()[0] for line in git(path, *args).splitlines() if line]
    return local_objects(path, oids)


def receive_stream(repo, commands, objects: dict, principal, piece: int = 0):
    yield pb.GitReceiveChunk(header=pb.GitReceiveHeader(
        repo=repo, pusher=principal, commands=[pb.RefCommand(ref=r, old_oid=o, new_oid=n) for r, o, n in commands]))
    batch = pb.GitObjectBatch(object_count=len(objects))
    for oid, (kind, data) in objects.items():
        if piece and len(data) > piece:
            parts = [data[i:i + piece] for i in range(0, len(data), piece)]
            for i, part in enumerate(parts):
                batch.objects.append(pb.GitObject(oid=oid, type=kind, data=part, more=i < len(parts) - 1,
                                                  size=len(data) if i == 0 else 0))
        else:
            batch.objects.append(pb.GitObject(oid=oid, type=kind, data=data, size=len(data)))
    yield pb.GitReceiveChunk(objects=batch)

"""Reads of an upstream repository through the mirror with huggingface_hub's public API only, so the
same script runs under every client we support (test_client_versions.py runs it as a subprocess in
the older client venvs). `python client_reads.py MIRROR UPSTREAM REPO` compares each answer with the
upstream's own and prints one JSON line per read; exits non-zero if any differs or fails."""
from __future__ import annotations

import hashlib
import json
import sys
import tempfile
import traceback
from pathlib import Path

from huggingface_hub import HfApi, HfFileSystem, hf_hub_download, snapshot_download


def _digest(folder: str) -> dict:
    root = Path(folder)
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def main(mirror: str, upstream: str, repo: str) -> int:
    work = Path(tempfile.mkdtemp())
    ours, theirs = HfApi(endpoint=mirror), HfApi(endpoint=upstream)

    def info():
        return [(r, ours.repo_info(repo, revision=r).sha) for r in ("main", "dev", "v1")], \
            [(r, theirs.repo_info(repo, revision=r).sha) for r in ("main", "dev", "v1")]

    def commits():
        return [c.commit_id for c in ours.list_repo_commits(repo)], \
            [c.commit_id for c in theirs.list_repo_commits(repo)]

    def tree():
        def shape(api):
            return sorted((e.path, getattr(e, "blob_id", None) or getattr(e, "tree_id", None))
                          for e in api.list_repo_tree(repo, recursive=True))
        return shape(ours), shape(theirs)

    def snapshot():
        a = snapshot_download(repo, endpoint=mirror, cache_dir=str(work / "m"))
        b = snapshot_download(repo, endpoint=upstream, cache_dir=str(work / "u"))
        return (Path(a).name, _digest(a)), (Path(b).name, _digest(b))

    def file_at_tag():
        a = hf_hub_download(repo, "weights/model.bin", revision="v1", endpoint=mirror, cache_dir=str(work / "f"))
        b = hf_hub_download(repo, "weights/model.bin", revision="v1", endpoint=upstream, cache_dir=str(work / "g"))
        return hashlib.sha256(Path(a).read_bytes()).hexdigest(), hashlib.sha256(Path(b).read_bytes()).hexdigest()

    def filesystem():
        def read(endpoint):
            fs = HfFileSystem(endpoint=endpoint, skip_instance_cache=True)
            return sorted(fs.ls(repo, detail=False)), fs.cat(f"{repo}/config.json"), \
                hashlib.sha256(fs.cat(f"{repo}/big.safetensors")).hexdigest()
        return read(mirror), read(upstream)

    failed = 0
    for read in (info, commits, tree, snapshot, file_at_tag, filesystem):
        try:
            got, want = read()
            ok, error = got == want, "" if got == want else f"mirror {got!r}\nupstream {want!r}"
        except Exception:
            ok, error = False, traceback.format_exc()
        failed += not ok
        print(json.dumps({"read": read.__name__, "ok": ok, "error": error}), flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:4]))

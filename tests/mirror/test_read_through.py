"""Read-through of public upstream repos: every read a client makes, answered from the upstream with
the upstream's own commit ids and bytes (issue 18, priority 1)."""
from __future__ import annotations

import hashlib
import uuid
from pathlib import Path

import httpx
from huggingface_hub import hf_hub_download, snapshot_download


def test_repo_info_revision_and_refs_keep_upstream_ids(mirror_api, upstream):
    want = upstream.api.repo_info(upstream.public)
    got = mirror_api.repo_info(upstream.public)
    assert got.sha == want.sha and got.id == want.id
    assert sorted(s.rfilename for s in got.siblings) == sorted(s.rfilename for s in want.siblings)
    dev = upstream.api.repo_info(upstream.public, revision="dev").sha
    assert mirror_api.repo_info(upstream.public, revision="dev").sha == dev
    refs, up_refs = mirror_api.list_repo_refs(upstream.public), upstream.api.list_repo_refs(upstream.public)
    assert {(b.name, b.target_commit) for b in refs.branches} == {(b.name, b.target_commit) for b in up_refs.branches}
    assert {(t.name, t.target_commit) for t in refs.tags} == {(t.name, t.target_commit) for t in up_refs.tags}
    commits = [c.commit_id for c in mirror_api.list_repo_commits(upstream.public)]
    assert commits == [c.commit_id for c in upstream.api.list_repo_commits(upstream.public)]
    pinned = mirror_api.repo_info(upstream.public, revision=commits[-1])
    assert pinned.sha == commits[-1]


def test_tree_and_paths_info_match_upstream(mirror_api, upstream):
    def shape(entries):
        return sorted((e.path, getattr(e, "blob_id", None) or getattr(e, "tree_id", None),
                       getattr(e, "size", None), getattr(getattr(e, "lfs", None), "sha256", None)) for e in entries)
    assert shape(mirror_api.list_repo_tree(upstream.public, recursive=True)) == \
        shape(upstream.api.list_repo_tree(upstream.public, recursive=True))
    paths = ["config.json", "weights/model.bin", "weights"]
    want = shape(upstream.api.get_paths_info(upstream.public, paths))
    assert shape(mirror_api.get_paths_info(upstream.public, paths)) == want


def test_snapshot_and_file_downloads_are_byte_exact(endpoint, upstream, tmp_path):
    mirrored = snapshot_download(upstream.public, endpoint=endpoint, cache_dir=tmp_path / "m")
    direct = snapshot_download(upstream.public, endpoint=upstream.endpoint, cache_dir=tmp_path / "u")
    files = sorted(p.relative_to(direct).as_posix() for p in Path(direct).rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(mirrored).as_posix() for p in Path(mirrored).rglob("*") if p.is_file())
    for rel in files:
        assert (Path(mirrored) / rel).read_bytes() == (Path(direct) / rel).read_bytes(), rel
    assert Path(mirrored).name == Path(direct).name   # snapshot folder = the upstream commit id
    path = hf_hub_download(upstream.public, "weights/model.bin", revision="v1", endpoint=endpoint,
                           cache_dir=tmp_path / "m2")
    assert hashlib.sha256(Path(path).read_bytes()).hexdigest() == upstream.lfs_oids["weights/model.bin"]


def test_resolve_head_and_range(endpoint, upstream):
    oid = upstream.lfs_oids["big.safetensors"]
    with httpx.Client(base_url=endpoint, timeout=60) as http:
        head = http.head(f"/{upstream.public}/resolve/main/big.safetensors")
        assert head.headers["x-repo-commit"] == upstream.api.repo_info(upstream.public).sha
        assert head.headers["x-linked-etag"].strip('"') == oid
        assert head.headers["x-linked-size"] == str(2 * 1024 * 1024)
        part = http.get(f"/{upstream.public}/resolve/main/big.safetensors", headers={"Range": "bytes=10-29"},
                        follow_redirects=True)
        assert part.status_code == 206 and len(part.content) == 20
        whole = http.get(f"/{upstream.public}/resolve/main/big.safetensors", follow_redirects=True)
        assert hashlib.sha256(whole.content).hexdigest() == oid
        assert part.content == whole.content[10:30]
        regular = http.get(f"/{upstream.public}/resolve/main/config.json")
        assert regular.content == b'{"hidden": 8}\n'


def test_renamed_repo_redirects_like_the_hub(endpoint, mirror_api, upstream):
    with httpx.Client(base_url=endpoint, timeout=60) as http:
        resp = http.get(f"/api/models/{upstream.renamed_old}")
        assert resp.status_code == 307
        assert resp.headers["location"] == f"/api/models/{upstream.renamed_new}"
    info = mirror_api.repo_info(upstream.renamed_old)    # huggingface_hub follows the relative redirect
    assert info.id == upstream.renamed_new
    assert info.sha == upstream.api.repo_info(upstream.renamed_new).sha


def test_unknown_repo_is_repo_not_found(endpoint, upstream):
    with httpx.Client(base_url=endpoint, timeout=60) as http:
        resp = http.get("/api/models/nobody-here/nothing-here")
        assert resp.status_code == 401 and resp.headers["x-error-code"] == "RepoNotFound"


def test_an_id_without_namespace_redirects_as_the_hub_does(endpoint, mirror_api, upstream, tmp_path):
    """`gpt2`-style ids: the upstream redirects them to the namespaced repo; the mirror answers the
    same relative 307, which huggingface_hub follows (info, revision, file downloads)."""
    legacy = f"legacy{uuid.uuid4().hex[:6]}"
    upstream.proxy.legacy[legacy] = upstream.public
    with httpx.Client(base_url=endpoint, timeout=60) as http:
        resp = http.get(f"/api/models/{legacy}")
        assert resp.status_code == 307 and resp.headers["location"] == f"/api/models/{upstream.public}"
        rev = http.get(f"/api/models/{legacy}/revision/dev?expand=sha")
        assert rev.status_code == 307
        assert rev.headers["location"] == f"/api/models/{upstream.public}/revision/dev?expand=sha"
        head = http.head(f"/{legacy}/resolve/main/config.json")
        assert head.status_code == 307 and head.headers["location"] == f"/{upstream.public}/resolve/main/config.json"
        assert http.get("/api/models/nolegacyhere").status_code == 401    # unknown upstream too: RepoNotFound
    info = mirror_api.repo_info(legacy)
    assert info.id == upstream.public and info.sha == upstream.api.repo_info(upstream.public).sha
    path = hf_hub_download(legacy, "config.json", endpoint=endpoint, cache_dir=tmp_path / "c")
    assert Path(path).read_bytes() == b'{"hidden": 8}\n'

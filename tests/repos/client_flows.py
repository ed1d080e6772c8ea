"""Repository flows driven through huggingface_hub's PUBLIC API only, so the same module runs under
every client version we support (2.4 in-process; the newest 1.x and 0.36.x as a subprocess, see
test_client_versions.py).

Run standalone: `python client_flows.py ENDPOINT TOKEN [FLOW ...]` prints one JSON line per flow
and exits non-zero if any failed. Needs HF_HUB_DISABLE_XET=1 until Xet is served.
"""
from __future__ import annotations

import concurrent.futures
import json
import os
import re
import sys
import tempfile
import traceback
import uuid
from pathlib import Path

from huggingface_hub import (
    CommitOperationAdd,
    CommitOperationCopy,
    CommitOperationDelete,
    HfApi,
    HfFileSystem,
    get_hf_file_metadata,
    hf_hub_download,
    hf_hub_url,
    snapshot_download,
)
from huggingface_hub.utils import HfHubHTTPError, RepositoryNotFoundError

SHA = re.compile(r"^[0-9a-f]{40}$")
LFS_PAYLOAD = bytes(range(256)) * 16
README = "---\nlicense: mit\ntags:\n- test\n---\n# A test card\n"


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def status_of(exc: BaseException) -> int | None:
    response = getattr(exc, "response", None)
    return getattr(response, "status_code", None)


def expect_http_error(fn, status: int | None = None, cls=HfHubHTTPError):
    try:
        fn()
    except cls as exc:
        if status is not None:
            assert status_of(exc) == status, f"expected {status}, got {status_of(exc)}: {exc}"
        return exc
    raise AssertionError(f"expected {cls.__name__}")


class Flows:
    """Each `flow_*` method is one scenario; `api` is authenticated as the repos' owner."""

    def __init__(self, endpoint: str, token: str) -> None:
        self.endpoint = endpoint.rstrip("/")
        self.token = token
        self.api = HfApi(endpoint=self.endpoint, token=token)
        self.user = self.api.whoami()["name"]
        self.tmp = Path(tempfile.mkdtemp(prefix="hangar-flows-"))

    def new_repo(self, prefix: str, repo_type: str = "model") -> str:
        repo_id = f"{self.user}/{unique(prefix)}"
        kwargs = {"space_sdk": "static"} if repo_type == "space" else {}
        self.api.create_repo(repo_id, repo_type=repo_type, **kwargs)
        return repo_id

    def download(self, repo_id: str, filename: str, **kwargs) -> bytes:
        path = hf_hub_download(repo_id, filename, endpoint=self.endpoint, token=self.token,
                               cache_dir=self.tmp / "cache", **kwargs)
        return Path(path).read_bytes()

    # --- lifecycle ---------------------------------------------------------------------------------
    def flow_create_delete_each_type(self):
        for repo_type in ("model", "dataset", "space"):
            repo_id = self.new_repo(f"life-{repo_type}", repo_type)
            info = self.api.repo_info(repo_id, repo_type=repo_type)
            assert info.id == repo_id and SHA.match(info.sha), info
            assert [s.rfilename for s in info.siblings] == [".gitattributes"], info.siblings
            kwargs = {"space_sdk": "static"} if repo_type == "space" else {}
            url = self.api.create_repo(repo_id, repo_type=repo_type, exist_ok=True, **kwargs)
            assert url.repo_id == repo_id, url
            expect_http_error(lambda: self.api.create_repo(repo_id, repo_type=repo_type, **kwargs), 409)  # noqa: B023 (called at once)
            self.api.delete_repo(repo_id, repo_type=repo_type)
            expect_http_error(lambda: self.api.repo_info(repo_id, repo_type=repo_type),  # noqa: B023
                              cls=RepositoryNotFoundError)
            self.api.delete_repo(repo_id, repo_type=repo_type, missing_ok=True)

    def flow_private_repo_settings(self):
        repo_id = f"{self.user}/{unique('private')}"
        self.api.create_repo(repo_id, private=True)
        assert self.api.repo_info(repo_id).private is True
        anonymous = HfApi(endpoint=self.endpoint, token=False)
        expect_http_error(lambda: anonymous.repo_info(repo_id), cls=RepositoryNotFoundError)
        self.api.update_repo_settings(repo_id, private=False)
        assert anonymous.repo_info(repo_id).private is False

    def flow_move_keeps_history_and_old_name(self):
        for repo_type in ("model", "dataset"):
            old = self.new_repo(f"move-{repo_type}", repo_type)
            self.api.upload_file(path_or_fileobj=b"moved content", path_in_repo="data/a.txt", repo_id=old,
                                 repo_type=repo_type)
            self.api.create_branch(old, branch="dev", repo_type=repo_type)
            self.api.create_tag(old, tag="v1", repo_type=repo_type)
            before = self.api.repo_info(old, repo_type=repo_type).sha
            new = f"{self.user}/{unique('moved')}"
            self.api.move_repo(old, new, repo_type=repo_type)
            info = self.api.repo_info(new, repo_type=repo_type)
            assert info.sha == before, (info.sha, before)
            refs = self.api.list_repo_refs(new, repo_type=repo_type)
            assert {b.name for b in refs.branches} == {"main", "dev"} and [t.name for t in refs.tags] == ["v1"]
            assert self.api.repo_info(old, repo_type=repo_type).sha == before  # old name redirects
            assert self.download(old, "data/a.txt", repo_type=repo_type) == b"moved content"
            assert len(self.api.list_repo_commits(new, repo_type=repo_type)) == 2

    # --- uploads and reads -------------------------------------------------------------------------
    def flow_upload_and_list(self):
        repo_id = self.new_repo("upload", "dataset")
        self.api.upload_file(path_or_fileobj=README.encode(), path_in_repo="README.md", repo_id=repo_id,
                             repo_type="dataset")
        folder = self.tmp / "folder"
        for rel, text in {"a.txt": "alpha", "sub/b.txt": "beta", "sub/deeper/c.json": "{}",
                          "weird name é.txt": "unicode"}.items():
            (folder / rel).parent.mkdir(parents=True, exist_ok=True)
            (folder / rel).write_text(text)
        self.api.upload_folder(folder_path=str(folder), repo_id=repo_id, repo_type="dataset",
                               commit_message="folder")
        files = sorted(self.api.list_repo_files(repo_id, repo_type="dataset"))
        assert files == [".gitattributes", "README.md", "a.txt", "sub/b.txt", "sub/deeper/c.json",
                         "weird name é.txt"], files
        top = {e.path for e in self.api.list_repo_tree(repo_id, repo_type="dataset")}
        assert top == {".gitattributes", "README.md", "a.txt", "sub", "weird name é.txt"}, top
        sub = {e.path for e in self.api.list_repo_tree(repo_id, "sub", repo_type="dataset", recursive=True)}
        assert sub == {"sub/b.txt", "sub/deeper", "sub/deeper/c.json"}, sub
        expanded = list(self.api.list_repo_tree(repo_id, "sub", repo_type="dataset", expand=True))
        assert all(e.last_commit is not None for e in expanded), expanded
        infos = {e.path: e for e in self.api.get_paths_info(repo_id, ["a.txt", "sub", "missing.txt"],
                                                             repo_type="dataset")}
        assert set(infos) == {"a.txt", "sub"} and infos["a.txt"].size == 5, infos
        info = self.api.repo_info(repo_id, repo_type="dataset", files_metadata=True)
        sizes = {s.rfilename: s.size for s in info.siblings}
        assert sizes["sub/b.txt"] == 4 and SHA.match(next(s.blob_id for s in info.siblings)), sizes
        assert (info.card_data or {}).get("license") == "mit", info.card_data
        meta = get_hf_file_metadata(hf_hub_url(repo_id, "a.txt", repo_type="dataset", endpoint=self.endpoint),
                                    token=self.token)
        assert meta.commit_hash == info.sha and meta.size == 5, meta
        assert self.download(repo_id, "weird name é.txt", repo_type="dataset") == b"unicode"

    def flow_upload_folder_1000_files(self):
        repo_id = self.new_repo("thousand")
        folder = self.tmp / "thousand"
        for i in range(1000):
            path = folder / f"d{i % 10}" / f"f{i:04d}.txt"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(f"file {i}\n")
        before = len(self.api.list_repo_commits(repo_id))
        self.api.upload_folder(folder_path=str(folder), repo_id=repo_id, commit_message="1000 files")
        after = self.api.list_repo_commits(repo_id)
        if xet_enabled():   # with Xet, huggingface_hub itself may split a large folder into several commits
            assert len(after) >= before + 1, [(c.title, c.commit_id) for c in after]
        else:
            assert len(after) == before + 1, [(c.title, c.commit_id) for c in after]
        files = self.api.list_repo_files(repo_id)
        assert len(files) == 1001, len(files)
        assert self.download(repo_id, "d7/f0997.txt") == b"file 997\n"

    def flow_delete_and_copy(self):
        repo_id = self.new_repo("ops")
        self.api.create_commit(repo_id, commit_message="seed", operations=[
            CommitOperationAdd("keep.txt", b"keep"), CommitOperationAdd("dir/x.txt", b"x"),
            CommitOperationAdd("dir/y.txt", b"y"), CommitOperationAdd("gone.txt", b"gone"),
            CommitOperationAdd("weights.bin", LFS_PAYLOAD)])  # *.bin goes through LFS
        seeded = self.api.repo_info(repo_id).sha
        self.api.delete_file("gone.txt", repo_id)
        self.api.delete_folder("dir", repo_id)
        assert sorted(self.api.list_repo_files(repo_id)) == [".gitattributes", "keep.txt", "weights.bin"]
        self.api.create_commit(repo_id, commit_message="copy", operations=[
            CommitOperationCopy(src_path_in_repo="keep.txt", path_in_repo="copies/keep.txt"),
            CommitOperationCopy(src_path_in_repo="weights.bin", path_in_repo="copies/weights.bin"),
            CommitOperationCopy(src_path_in_repo="dir/x.txt", path_in_repo="restored/x.txt",
                                src_revision=seeded)])
        assert self.download(repo_id, "copies/keep.txt") == b"keep"
        assert self.download(repo_id, "restored/x.txt") == b"x"
        assert self.download(repo_id, "copies/weights.bin") == LFS_PAYLOAD
        lfs = {f.path: f.lfs for f in self.api.get_paths_info(repo_id, ["weights.bin", "copies/weights.bin"])}
        assert lfs["copies/weights.bin"] and lfs["copies/weights.bin"].size == len(LFS_PAYLOAD), lfs
        self.api.create_commit(repo_id, commit_message="mixed", operations=[
            CommitOperationDelete("keep.txt"), CommitOperationAdd("new.txt", b"new")])
        assert sorted(self.api.list_repo_files(repo_id)) == [".gitattributes", "copies/keep.txt",
                                                              "copies/weights.bin", "new.txt", "restored/x.txt",
                                                              "weights.bin"]

    # --- refs, history, downloads by revision -----------------------------------------------------
    def flow_branches_tags_and_downloads(self):
        repo_id = self.new_repo("refs")
        first = self.api.upload_file(path_or_fileobj=b"v1", path_in_repo="f.txt", repo_id=repo_id).oid
        self.api.create_tag(repo_id, tag="v1.0", tag_message="first release")
        self.api.create_branch(repo_id, branch="dev")
        self.api.create_branch(repo_id, branch="dev", exist_ok=True)
        expect_http_error(lambda: self.api.create_branch(repo_id, branch="dev"), 409)
        expect_http_error(lambda: self.api.create_tag(repo_id, tag="v1.0"), 409)
        self.api.create_tag(repo_id, tag="v1.0", exist_ok=True)
        self.api.create_branch(repo_id, branch="feature/x", revision=first)
        self.api.upload_file(path_or_fileobj=b"v2-dev", path_in_repo="f.txt", repo_id=repo_id, revision="dev")
        self.api.upload_file(path_or_fileobj=b"v2-main", path_in_repo="f.txt", repo_id=repo_id)
        refs = self.api.list_repo_refs(repo_id)
        branches = {b.name: b.target_commit for b in refs.branches}
        assert set(branches) == {"main", "dev", "feature/x"} and branches["feature/x"] == first, branches
        assert [(t.name, t.target_commit) for t in refs.tags] == [("v1.0", first)], refs.tags
        assert self.download(repo_id, "f.txt") == b"v2-main"
        assert self.download(repo_id, "f.txt", revision="dev") == b"v2-dev"
        assert self.download(repo_id, "f.txt", revision="v1.0") == b"v1"
        assert self.download(repo_id, "f.txt", revision=first) == b"v1"
        assert self.download(repo_id, "f.txt", revision="feature/x") == b"v1"
        assert self.api.repo_info(repo_id, revision="dev").sha == branches["dev"]
        for revision, expected in (("dev", b"v2-dev"), ("v1.0", b"v1"), (first, b"v1"), ("main", b"v2-main")):
            folder = snapshot_download(repo_id, revision=revision, endpoint=self.endpoint, token=self.token,
                                       cache_dir=self.tmp / "snapshots")
            assert (Path(folder) / "f.txt").read_bytes() == expected, revision
            assert sorted(p.name for p in Path(folder).iterdir()) == [".gitattributes", "f.txt"]
        self.api.delete_branch(repo_id, branch="dev")
        self.api.delete_branch(repo_id, branch="feature/x")
        self.api.delete_tag(repo_id, tag="v1.0")
        refs = self.api.list_repo_refs(repo_id)
        assert [b.name for b in refs.branches] == ["main"] and refs.tags == [], refs
        expect_http_error(lambda: self.api.delete_branch(repo_id, branch="main"))

    def flow_history_and_super_squash(self):
        repo_id = self.new_repo("history")
        oids = [self.api.upload_file(path_or_fileobj=f"n{i}".encode(), path_in_repo=f"n{i}.txt",
                                     repo_id=repo_id, commit_message=f"commit {i}").oid for i in range(5)]
        commits = self.api.list_repo_commits(repo_id)
        assert [c.commit_id for c in commits[:5]] == oids[::-1], commits
        assert [c.title for c in commits[:5]] == [f"commit {i}" for i in range(4, -1, -1)]
        assert len(commits) == 6 and all(c.authors for c in commits)
        self.api.super_squash_history(repo_id, commit_message="squashed")
        commits = self.api.list_repo_commits(repo_id)
        assert len(commits) == 1 and commits[0].title == "squashed", commits
        assert len(self.api.list_repo_files(repo_id)) == 6

    def flow_hf_file_system(self):
        repo_id = self.new_repo("hffs", "dataset")
        payload = bytes(range(256)) * 40
        self.api.create_commit(repo_id, repo_type="dataset", commit_message="fs", operations=[
            CommitOperationAdd("data/blob.bin", payload), CommitOperationAdd("data/a.csv", b"a,b\n1,2\n"),
            CommitOperationAdd("data/sub/c.csv", b"c\n")])
        fs = HfFileSystem(endpoint=self.endpoint, token=self.token, skip_instance_cache=True)
        root = f"datasets/{repo_id}"
        assert sorted(fs.ls(f"{root}/data", detail=False)) == [f"{root}/data/a.csv", f"{root}/data/blob.bin",
                                                               f"{root}/data/sub"]
        assert sorted(fs.glob(f"{root}/**/*.csv")) == [f"{root}/data/a.csv", f"{root}/data/sub/c.csv"]
        assert fs.info(f"{root}/data/blob.bin")["size"] == len(payload)
        with fs.open(f"{root}/data/blob.bin", "rb", block_size=1000) as f:
            f.seek(5000)
            assert f.read(300) == payload[5000:5300]
            f.seek(len(payload) - 10)
            assert f.read() == payload[-10:]
        assert fs.cat_file(f"{root}/data/a.csv", start=2, end=5) == b"b\n1"
        assert fs.read_text(f"{root}/data/sub/c.csv") == "c\n"

    # --- concurrency -------------------------------------------------------------------------------
    def flow_concurrent_commits(self):
        repo_id = self.new_repo("race")
        base = self.api.repo_info(repo_id).sha

        def upload(i: int, parent: str | None):
            api = HfApi(endpoint=self.endpoint, token=self.token)
            return api.upload_file(path_or_fileobj=f"c{i}".encode(), path_in_repo=f"race/{i}.txt",
                                   repo_id=repo_id, parent_commit=parent).oid

        with concurrent.futures.ThreadPoolExecutor(16) as pool:
            landed = list(pool.map(lambda i: upload(i, None), range(16)))
        history = {c.commit_id for c in self.api.list_repo_commits(repo_id)}
        assert set(landed) <= history and len(set(landed)) == 16, (landed, history)
        assert len([f for f in self.api.list_repo_files(repo_id) if f.startswith("race/")]) == 16

        parent = self.api.repo_info(repo_id).sha
        assert parent != base
        with concurrent.futures.ThreadPoolExecutor(16) as pool:
            futures = [pool.submit(upload, 100 + i, parent) for i in range(16)]
        outcomes = [f.exception() or f.result() for f in futures]
        oks = [o for o in outcomes if isinstance(o, str)]
        failures = [o for o in outcomes if not isinstance(o, str)]
        assert len(oks) == 1, outcomes
        assert all(isinstance(e, HfHubHTTPError) and status_of(e) == 412 for e in failures), failures
        history = [c.commit_id for c in self.api.list_repo_commits(repo_id)]
        assert history[0] == oks[0] and history[1] == parent

    # --- Hub parity (issue 15) -----------------------------------------------------------------------
    def flow_missing_repos_answer_false(self):
        """repo_exists / revision_exists / file_exists answer False for any missing repo, ids without
        a namespace included, signed in (404) and anonymous (401)."""
        anonymous = HfApi(endpoint=self.endpoint, token=False)
        for api in (self.api, anonymous):
            for repo_type in ("model", "dataset", "space"):
                for repo_id in (unique("no-namespace"), f"{self.user}/{unique('missing')}"):
                    assert api.repo_exists(repo_id, repo_type=repo_type) is False, (repo_id, repo_type)
                    assert api.revision_exists(repo_id, "main", repo_type=repo_type) is False, repo_id
                    assert api.file_exists(repo_id, "README.md", repo_type=repo_type) is False, repo_id
                    expect_http_error(lambda api=api, repo_id=repo_id, repo_type=repo_type: api.repo_info(
                                          repo_id, repo_type=repo_type),
                                      status=404 if api is self.api else 401, cls=RepositoryNotFoundError)
        repo_id = self.new_repo("exists")
        assert self.api.repo_exists(repo_id) and self.api.file_exists(repo_id, ".gitattributes")
        assert self.api.revision_exists(repo_id, "main") and not self.api.revision_exists(repo_id, "nope")

    def flow_abbreviated_commit_ids(self):
        """A commit id of at least 7 hex digits names the commit wherever a revision is taken."""
        repo_id = self.new_repo("short-ids")
        first = self.api.upload_file(path_or_fileobj=b"one", path_in_repo="f.txt", repo_id=repo_id).oid
        self.api.upload_file(path_or_fileobj=b"two", path_in_repo="f.txt", repo_id=repo_id)
        for short in (first[:7], first[:12], first[:39]):
            assert self.api.repo_info(repo_id, revision=short).sha == first, short
            assert self.api.revision_exists(repo_id, short)
            assert {f.path for f in self.api.list_repo_tree(repo_id, revision=short)} == {".gitattributes", "f.txt"}
            [info] = self.api.get_paths_info(repo_id, ["f.txt"], revision=short)
            assert info.path == "f.txt" and info.size == 3
            assert self.download(repo_id, "f.txt", revision=short) == b"one"
            assert [c.commit_id for c in self.api.list_repo_commits(repo_id, revision=short)][0] == first
        self.api.create_branch(repo_id, branch="from-short", revision=first[:7])
        self.api.create_tag(repo_id, tag="v-short", revision=first[:8])
        refs = self.api.list_repo_refs(repo_id)
        assert {b.name: b.target_commit for b in refs.branches}["from-short"] == first
        assert {t.name: t.target_commit for t in refs.tags}["v-short"] == first
        assert not self.api.revision_exists(repo_id, first[:6])   # too short to be an abbreviation
        unknown = next(p for p in ("0000000", "fffffff") if not first.startswith(p))
        assert not self.api.revision_exists(repo_id, unknown)

    def flow_refs_errors_as_the_hub(self):
        """Missing revisions before bad names, the Hub's messages, 412 on a stale parent."""
        from huggingface_hub.utils import RevisionNotFoundError
        repo_id = self.new_repo("ref-errors")
        for create in (lambda: self.api.create_branch(repo_id, branch="ok", revision="no-such-rev"),
                       lambda: self.api.create_branch(repo_id, branch="bad..name", revision="no-such-rev"),
                       lambda: self.api.create_tag(repo_id, tag="bad..name", revision="no-such-rev")):
            error = expect_http_error(create, 404, cls=RevisionNotFoundError)
            assert "Invalid rev id: no-such-rev" in str(error), error
        self.api.create_branch(repo_id, branch="dev")
        error = expect_http_error(lambda: self.api.create_branch(repo_id, branch="dev"), 409)
        assert "Reference refs/heads/dev already exists" in str(error), error
        self.api.create_tag(repo_id, tag="v1")
        error = expect_http_error(lambda: self.api.create_tag(repo_id, tag="v1"), 409)
        assert "Reference refs/tags/v1 already exists" in str(error), error
        error = expect_http_error(lambda: self.api.delete_branch(repo_id, branch="main"))
        assert "Cannot delete refs/heads/main" in str(error), error
        parent = self.api.repo_info(repo_id).sha
        self.api.upload_file(path_or_fileobj=b"x", path_in_repo="x.txt", repo_id=repo_id)
        error = expect_http_error(lambda: self.api.create_commit(
            repo_id, [CommitOperationAdd("y.txt", b"y")], commit_message="stale", parent_commit=parent), 412)
        assert "The branch was updated since you opened this page. Please refresh and try again." in str(error)
        other = f"{self.user}/{unique('taken')}"
        self.api.create_repo(other)
        error = expect_http_error(lambda: self.api.move_repo(repo_id, other), 409)
        assert f"A model repository called {other} already exists" in str(error), error

    def flow_formatted_commits_and_storage_listing(self):
        repo_id = self.new_repo("formatted")
        self.api.upload_file(path_or_fileobj=LFS_PAYLOAD, path_in_repo="w.bin", repo_id=repo_id,
                             commit_message="<i>tag</i> & more")
        latest = self.api.list_repo_commits(repo_id, formatted=True)[0]
        assert latest.formatted_title == "&lt;i&gt;tag&lt;/i&gt; &amp; more", latest
        if hasattr(self.api, "list_user_repos"):   # huggingface_hub >= 1.x
            mine = {r.id: r for r in self.api.list_user_repos()}
            assert mine[repo_id].storage == len(LFS_PAYLOAD) and mine[repo_id].visibility == "public"
    def flow_uploads_as_the_hub(self):
        """Two identical LFS files in one commit; a folder deleted by its name (no trailing slash)."""
        repo_id = self.new_repo("twins")
        payload = os.urandom(3000)
        twins = [CommitOperationAdd("w/a.bin", payload), CommitOperationAdd("w/b.bin", payload)]
        self.api.create_commit(repo_id, twins, commit_message="twins")
        assert self.download(repo_id, "w/b.bin") == payload
        self.api.create_commit(repo_id, [CommitOperationDelete("w")], commit_message="drop w")
        assert self.api.list_repo_files(repo_id) == [".gitattributes"]

def flow_names() -> list[str]:
    return [name for name in vars(Flows) if name.startswith("flow_")]


def xet_enabled() -> bool:
    from huggingface_hub import constants
    return not getattr(constants, "HF_HUB_DISABLE_XET", True)


def main(argv: list[str]) -> int:
    endpoint, token, *wanted = argv
    flows = Flows(endpoint, token)
    failed = 0
    for name in wanted or flow_names():
        try:
            getattr(flows, name)()
            print(json.dumps({"flow": name, "ok": True}), flush=True)
        except Exception:
            failed += 1
            print(json.dumps({"flow": name, "ok": False, "error": traceback.format_exc()}), flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    os.environ.setdefault("HF_HUB_DISABLE_XET", "1")
    sys.exit(main(sys.argv[1:]))

"""Hub parity (issue 15) where the real clients need more than client_flows.py's public-API flows:
the `hf` CLI, answers huggingface_hub parses field by field, and HTTP details (status, error code)."""
from __future__ import annotations

import hashlib
import json
import os
import subprocess
from pathlib import Path

import pytest
from huggingface_hub import CommitOperationAdd, CommitOperationDelete, HfApi
from huggingface_hub.errors import EntryNotFoundError

from .client_flows import LFS_PAYLOAD, unique

HF = str(Path(os.environ.get("VIRTUAL_ENV", Path(__file__).resolve().parents[2] / ".venv")) / "bin" / "hf")


def hf(*args: str, token: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "HF_TOKEN": token}
    return subprocess.run([HF, *args], capture_output=True, text=True, env=env, timeout=120)


def test_repositories_with_storage_for_user_and_org(endpoint, make_user, make_org):
    owner = make_user()
    api = HfApi(endpoint=endpoint, token=owner.token)
    heavy, light = f"{owner.name}/{unique('heavy')}", f"{owner.name}/{unique('light')}"
    api.create_repo(heavy, private=True)
    api.create_repo(light, repo_type="dataset")
    api.create_commit(heavy, [CommitOperationAdd("w.bin", LFS_PAYLOAD)], commit_message="weights")
    listed = {r.id: r for r in api.list_user_repos()}
    assert set(listed) == {heavy, light}, listed
    assert (listed[heavy].type, listed[heavy].visibility) == ("model", "private")
    assert listed[heavy].storage == len(LFS_PAYLOAD)
    assert listed[heavy].storage_percent == 100 and listed[light].storage == 0
    assert (listed[light].type, listed[light].visibility) == ("dataset", "public")
    # What `hf repos ls` prints, and `--namespace` for an organization the caller writes to.
    run = hf("repos", "ls", "--json", token=owner.token)
    assert run.returncode == 0, run.stderr
    assert {item["id"] for item in json.loads(run.stdout)} == {heavy, light}
    member, stranger = make_user(), make_user()
    org = make_org(owner, members={member: "member"})
    org_repo = f"{org}/{unique('org-repo')}"
    api.create_repo(org_repo, private=True)
    member_api = HfApi(endpoint=endpoint, token=member.token)
    assert [r.id for r in member_api.list_user_repos(namespace=org.name)] == [org_repo]
    run = hf("repos", "ls", "--namespace", org.name, "--json", token=member.token)
    assert run.returncode == 0 and [item["id"] for item in json.loads(run.stdout)] == [org_repo], run.stderr
    run = hf("repos", "ls", "--namespace", org.name, "--json", token=stranger.token)
    assert run.returncode != 0


def test_repositories_need_a_signed_in_caller(anon):
    resp = anon.get("/api/settings/repositories")
    assert resp.status_code == 401 and resp.headers["x-error-code"]


def test_formatted_commits_are_inert_html(api, repo):
    api.upload_file(path_or_fileobj=b"x", path_in_repo="x.txt", repo_id=repo,
                    commit_message="<script>alert(1)</script> & co", commit_description="a <b>bold</b> claim")
    [latest, *_] = api.list_repo_commits(repo, formatted=True)
    assert latest.title == "<script>alert(1)</script> & co"
    assert latest.formatted_title == "&lt;script&gt;alert(1)&lt;/script&gt; &amp; co"
    assert "&lt;b&gt;bold&lt;/b&gt;" in latest.formatted_message and "<b>" not in latest.formatted_message
    [plain, *_] = api.list_repo_commits(repo)
    assert plain.formatted_title is None


# --- uploads ---------------------------------------------------------------------------------------
def test_deleted_file_naming_a_folder_deletes_the_folder(api, repo):
    api.create_commit(repo, [CommitOperationAdd(f"data/{i}.txt", b"x") for i in range(3)]
                      + [CommitOperationAdd("data/sub/y.txt", b"y"), CommitOperationAdd("keep.txt", b"k")],
                      commit_message="files")
    # huggingface_hub sends a folder given without its trailing slash as `deletedFile`.
    api.create_commit(repo, [CommitOperationDelete("data")], commit_message="drop the folder")
    assert sorted(api.list_repo_files(repo)) == [".gitattributes", "keep.txt"]
    before = api.repo_info(repo).sha
    with pytest.raises(EntryNotFoundError):
        api.create_commit(repo, [CommitOperationDelete("data")], commit_message="gone already")
    assert api.repo_info(repo).sha == before


def test_preupload_honours_the_repos_gitignore_and_the_clients(api, repo, http):
    api.upload_file(path_or_fileobj=b"*.log\nbuild/\n!keep.log\n", path_in_repo=".gitignore", repo_id=repo)
    # upload_folder: files the repo's .gitignore excludes are not committed
    api.create_commit(repo, [CommitOperationAdd(p, b"x") for p in
                             ("run.log", "keep.log", "build/out.bin", "src/main.py")], commit_message="folder")
    assert sorted(api.list_repo_files(repo)) == [".gitattributes", ".gitignore", "keep.log", "src/main.py"]
    body = {"files": [{"path": p, "sample": "", "size": 1} for p in ("a.log", "keep.log", "b.tmp", "c.py")],
            "gitIgnore": "*.tmp\n"}
    answer = http.post(f"/api/models/{repo}/preupload/main", json=body).json()
    assert {f["path"]: f["shouldIgnore"] for f in answer["files"]} == {
        "a.log": True, "keep.log": False, "b.tmp": True, "c.py": False}
    # The .gitignore at an older revision knows nothing of these rules.
    first = api.list_repo_commits(repo)[-1].commit_id
    answer = http.post(f"/api/models/{repo}/preupload/{first}", json=body).json()
    assert {f["path"]: f["shouldIgnore"] for f in answer["files"]}["a.log"] is False


def test_two_identical_lfs_files_in_one_commit(api, repo, http):
    """The same oid twice in one LFS batch: uploaded once, both paths committed (HF_HUB_DISABLE_XET=1
    is the suite's default, so this goes through the LFS batch API)."""
    payload = os.urandom(4096)
    api.create_commit(repo, [CommitOperationAdd("a.bin", payload), CommitOperationAdd("b/a-copy.bin", payload)],
                      commit_message="twins")
    infos = {i.path: i for i in api.get_paths_info(repo, ["a.bin", "b/a-copy.bin"])}
    assert infos["a.bin"].lfs.sha256 == infos["b/a-copy.bin"].lfs.sha256 == hashlib.sha256(payload).hexdigest()
    oid = hashlib.sha256(payload + b"!").hexdigest()
    batch = http.post(f"/{repo}.git/info/lfs/objects/batch", headers={"Accept": "application/vnd.git-lfs+json"},
                      json={"operation": "upload", "transfers": ["basic"],
                            "objects": [{"oid": oid, "size": 4097}, {"oid": oid, "size": 4097}]}).json()
    first, second = batch["objects"]
    assert "upload" in first["actions"] and "actions" not in second, batch


@pytest.mark.parametrize("content,ok,warns", [
    ("\n\n---\nlicense: mit\n---\n# card\n", True, False),          # front matter after blank lines
    ("# no metadata at all\n", True, True),
    ("---\nlicense: other\nlicense_name: my-license\n---\n", True, False),
    ("---\nlicense: [apache-2.0, llama3.1]\n---\n", True, False),
    ("---\nlicense: not-a-license\n---\n", False, False),
    ("---\nlicense: other\n---\n", True, True),
    ("---\nmodel-index:\n  name: x\n---\n", False, False),
    ("---\nmodel-index:\n- name: x\n  results: []\n---\n", True, False),
])
def test_validate_yaml_as_the_hub(anon, content, ok, warns):
    resp = anon.post("/api/validate-yaml", json={"content": content, "repoType": "model"})
    body = resp.json()
    assert (resp.status_code == 200) == ok and bool(body["errors"]) != ok, body
    assert bool(body["warnings"]) == warns, body


def test_validate_yaml_answers_json_to_anything(anon):
    for raw in (b"", b"not json", b"[1, 2]", b'{"content": 5}'):
        resp = anon.post("/api/validate-yaml", content=raw, headers={"Content-Type": "application/json"})
        assert resp.status_code == 400 and resp.json()["errors"], raw


def test_card_checks_through_the_client(api, repo):
    with pytest.raises(ValueError, match="license"):
        api.upload_file(path_or_fileobj=b"---\nlicense: nope\n---\n", path_in_repo="README.md", repo_id=repo)
    with pytest.warns(UserWarning, match="Empty or missing yaml metadata"):
        api.upload_file(path_or_fileobj=b"# just text\n", path_in_repo="README.md", repo_id=repo)
    api.upload_file(path_or_fileobj=b"\n---\nlicense: mit\n---\n", path_in_repo="README.md", repo_id=repo)
    assert api.model_info(repo).card_data["license"] == "mit"

"""Hub parity (issue 15) where the real clients need more than client_flows.py's public-API flows:
the `hf` CLI, answers huggingface_hub parses field by field, and HTTP details (status, error code)."""
from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from huggingface_hub import CommitOperationAdd, HfApi

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

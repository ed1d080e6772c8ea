"""What the web UI's pull request pages read (the files a PR changes, with LFS facts and a unified
diff, under the repository's download rule), and the webhook events discussions and PRs emit."""
from __future__ import annotations

import uuid

from huggingface_hub import CommitOperationAdd, CommitOperationDelete

from .conftest import client

LFS = bytes(range(256)) * 8


def test_changed_files_and_diff(endpoint, owner, contributor, other_user, owner_api, contributor_api, pr_repo):
    owner_api.create_commit(pr_repo, commit_message="base", operations=[
        CommitOperationAdd("keep.txt", b"one\ntwo\nthree\n"), CommitOperationAdd("gone.txt", b"bye\n")])
    pr = contributor_api.create_commit(pr_repo, commit_message="Change things", create_pr=True, operations=[
        CommitOperationAdd("keep.txt", b"one\n2\nthree\n"), CommitOperationDelete("gone.txt"),
        CommitOperationAdd("model.bin", LFS)])
    with client(endpoint, other_user) as http:
        files = http.get(f"/api/models/{pr_repo}/discussions/{pr.pr_num}/files").json()
    assert files["base"] == "refs/heads/main" and files["head"] == pr.pr_revision and files["headCommit"] == pr.oid
    by_path = {f["path"]: f for f in files["files"]}
    assert {p: f["status"] for p, f in by_path.items()} == {"gone.txt": "deleted", "keep.txt": "modified",
                                                           "model.bin": "added"}
    assert by_path["model.bin"]["binary"] and by_path["model.bin"]["newLfs"]["size"] == len(LFS)
    assert "-two\n+2\n" in files["diff"] and "diff --git a/gone.txt b/gone.txt\ndeleted file" in files["diff"]
    assert "Binary files /dev/null and b/model.bin differ" in files["diff"]
    assert files["filesWithConflicts"] == [] and files["mergeCommitId"] is None
    details = owner_api.get_discussion_details(pr_repo, pr.pr_num)
    assert details.diff == files["diff"]

    talk = contributor_api.create_discussion(pr_repo, title="Not a PR")
    with client(endpoint, owner) as http:
        resp = http.get(f"/api/models/{pr_repo}/discussions/{talk.num}/files")
        assert resp.status_code == 400 and resp.headers["x-error-code"] == "NotAPullRequest"
        owner_api.update_repo_settings(pr_repo, gated="manual")
    with client(endpoint, other_user) as stranger:
        resp = stranger.get(f"/api/models/{pr_repo}/discussions/{pr.pr_num}/files")
        assert resp.status_code == 403 and resp.headers["x-error-code"] == "GatedRepo"
        # the thread stays visible, its diff does not
        shown = stranger.get(f"/api/models/{pr_repo}/discussions/{pr.pr_num}", params={"diff": 1}).json()
        assert shown["diff"] is None and shown["title"] == "Change things"


def test_discussion_and_pull_request_webhook_events(endpoint, owner, owner_api, contributor_api, pr_repo, receiver):
    path = f"/prs-{uuid.uuid4().hex[:8]}"
    owner_api.create_webhook(url=receiver.url(path), watched=[{"type": "model", "name": pr_repo}],
                             domains=["discussion"])
    talk = contributor_api.create_discussion(pr_repo, title="Hello hook", description="first words")
    contributor_api.comment_discussion(pr_repo, talk.num, "a comment")
    pr = contributor_api.create_commit(pr_repo, commit_message="Hooked PR", create_pr=True,
                                       operations=[CommitOperationAdd("h.txt", b"h\n")])
    owner_api.merge_pull_request(pr_repo, pr.pr_num)

    def seen(got):
        return {(r.body["event"]["scope"], r.body["event"]["action"], r.body["discussion"]["num"],
                 r.body["discussion"]["status"]) for r in got}

    got = receiver.wait(path, lambda g: ("discussion", "update", pr.pr_num, "merged") in seen(g))
    events = seen(got)
    assert {("discussion", "create", talk.num, "open"), ("discussion.comment", "create", talk.num, "open"),
            ("discussion", "create", pr.pr_num, "open")} <= events
    assert all(scope.startswith("discussion") for scope, *_ in events)       # the "repo" domain was not asked
    merged = next(r.body for r in got if r.body["discussion"]["status"] == "merged")
    assert merged["discussion"]["isPullRequest"] and merged["discussion"]["changes"]["base"] == "refs/heads/main"
    assert merged["discussion"]["changes"]["mergeCommitId"] == owner_api.repo_info(pr_repo).sha
    assert merged["discussion"]["url"]["web"].endswith(f"/{pr_repo}/discussions/{pr.pr_num}")
    comment = next(r.body for r in got if r.body["event"]["scope"] == "discussion.comment")
    assert comment["comment"]["content"] == "a comment"

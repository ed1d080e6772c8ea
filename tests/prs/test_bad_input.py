"""Discussions and pull requests refuse bad input and missing rights with a 4xx and X-Error-Code,
and change nothing: unknown numbers and comment ids, empty, huge or mistyped comments and titles,
merging a closed or draft PR or without rights, private and gated repositories, read tokens; a
create_pr commit that fails opens no PR; racing merges land once; listing pages."""
from __future__ import annotations

import concurrent.futures
import hashlib
import uuid

import pytest
from huggingface_hub import CommitOperationAdd

from .conftest import client


def assert_refused(resp, status: int, code: str):
    assert resp.status_code == status, (resp.status_code, resp.text)
    assert resp.headers.get("x-error-code") == code, (resp.headers.get("x-error-code"), resp.text)
    assert resp.headers.get("x-error-message") and "error" in resp.json()


def snapshot(http, repo_id: str, number: int) -> tuple:
    details = http.get(f"/api/models/{repo_id}/discussions/{number}").json()
    refs = http.get(f"/api/models/{repo_id}/refs", params={"include_prs": 1}).json()
    return details["status"], details["title"], [(e["type"], e.get("data")) for e in details["events"]], refs


@pytest.fixture()
def opened(owner_api, contributor_api, pr_repo):
    """A repo with a contributor's open PR (#1) and a discussion (#2)."""
    pr = contributor_api.create_commit(pr_repo, commit_message="A change", create_pr=True,
                                       operations=[CommitOperationAdd("c.txt", b"c\n")])
    talk = contributor_api.create_discussion(pr_repo, title="A question", description="Why?")
    return pr_repo, pr.pr_num, talk.num


def test_unknown_numbers_and_comment_ids(endpoint, owner, opened):
    repo_id, pr, talk = opened
    with client(endpoint, owner) as http:
        before = snapshot(http, repo_id, pr)
        assert_refused(http.get(f"/api/models/{repo_id}/discussions/999"), 404, "DiscussionNotFound")
        assert_refused(http.post(f"/api/models/{repo_id}/discussions/999/comment", json={"comment": "x"}),
                       404, "DiscussionNotFound")
        assert_refused(http.post(f"/api/models/{repo_id}/discussions/999/merge"), 404, "DiscussionNotFound")
        assert_refused(http.get(f"/api/models/{repo_id}/discussions/abc"), 400, "InvalidDiscussionNumber")
        assert_refused(http.get(f"/api/models/{repo_id}/discussions/0"), 400, "InvalidDiscussionNumber")
        assert_refused(http.post(f"/api/models/{repo_id}/discussions/{pr}/comment/{'0' * 24}/edit",
                                 json={"content": "x"}), 404, "CommentNotFound")
        assert_refused(http.post(f"/api/models/{repo_id}/discussions/{pr}/comment/not-an-id/hide"),
                       404, "CommentNotFound")
        assert_refused(http.post(f"/api/models/{repo_id}/discussions/{pr}/frobnicate", json={}), 404, "NotFound")
        assert_refused(http.get("/api/models/nobody-here/nothing/discussions"), 404, "RepoNotFound")
        assert snapshot(http, repo_id, pr) == before


def test_bad_comments_and_titles(endpoint, owner, contributor, opened):
    repo_id, pr, talk = opened
    base = f"/api/models/{repo_id}/discussions"
    with client(endpoint, contributor) as http:
        before = snapshot(http, repo_id, talk)
        assert_refused(http.post(f"{base}/{talk}/comment", json={"comment": ""}), 400, "EmptyComment")
        assert_refused(http.post(f"{base}/{talk}/comment", json={"comment": "   \n "}), 400, "EmptyComment")
        assert_refused(http.post(f"{base}/{talk}/comment", json={"comment": "x" * 70_000}), 413, "CommentTooLong")
        assert_refused(http.post(f"{base}/{talk}/comment", json={"comment": "x" * (2 * 1024 * 1024)}),
                       413, "PayloadTooLarge")
        assert_refused(http.post(f"{base}/{talk}/comment", json={"comment": 5}), 400, "InvalidField")
        assert_refused(http.post(f"{base}/{talk}/comment", json={}), 400, "MissingField")
        assert_refused(http.post(f"{base}/{talk}/comment", content=b"{nope"), 400, "InvalidJSON")
        assert_refused(http.post(f"{base}/{talk}/title", json={"title": "ab"}), 400, "InvalidTitle")
        assert_refused(http.post(f"{base}/{talk}/title", json={"title": "t" * 201}), 400, "InvalidTitle")
        assert_refused(http.post(f"{base}/{talk}/status", json={"status": "merged"}), 400, "InvalidDiscussionStatus")
        assert_refused(http.post(f"{base}/{talk}/status", json={"status": "open"}), 409, "StatusUnchanged")
        assert_refused(http.post(base, json={"title": "  x  ", "description": "d"}), 400, "InvalidTitle")
        assert_refused(http.get(base, params={"type": "nonsense"}), 400, "InvalidDiscussionType")
        assert_refused(http.get(base, params={"status": "nonsense"}), 400, "InvalidDiscussionStatus")
        assert_refused(http.get(base, params={"p": "-1"}), 400, "InvalidPage")
        assert snapshot(http, repo_id, talk) == before
        assert http.get(base).json()["count"] == 2


def test_merge_refusals_change_nothing(endpoint, owner, contributor, other_user, owner_api, opened):
    repo_id, pr, talk = opened
    base = f"/api/models/{repo_id}/discussions"
    with client(endpoint, owner) as http, client(endpoint, contributor) as theirs, \
            client(endpoint, other_user) as stranger, client(endpoint) as anonymous:
        before = snapshot(http, repo_id, pr)
        main = owner_api.repo_info(repo_id).sha
        assert_refused(theirs.post(f"{base}/{pr}/merge"), 403, "Forbidden")          # the author, no write
        assert_refused(stranger.post(f"{base}/{pr}/merge"), 403, "Forbidden")
        assert_refused(anonymous.post(f"{base}/{pr}/merge"), 401, "Unauthorized")
        assert_refused(http.post(f"{base}/{talk}/merge"), 400, "NotAPullRequest")
        assert_refused(stranger.post(f"{base}/{pr}/status", json={"status": "closed"}), 403, "Forbidden")
        assert_refused(stranger.post(f"{base}/{pr}/title", json={"title": "Mine now"}), 403, "Forbidden")
        assert_refused(anonymous.post(f"{base}/{pr}/comment", json={"comment": "hi"}), 401, "Unauthorized")
        assert snapshot(http, repo_id, pr) == before
        # closed: no merge until reopened
        assert theirs.post(f"{base}/{pr}/status", json={"status": "closed"}).status_code == 200
        assert_refused(http.post(f"{base}/{pr}/merge"), 409, "PullRequestClosed")
        assert http.post(f"{base}/{pr}/status", json={"status": "open"}).status_code == 200
        # a draft: no merge until opened
        draft = http.post(base, json={"title": "Draft PR", "pullRequest": True}).json()
        assert draft["status"] == "draft"
        assert_refused(http.post(f"{base}/{draft['num']}/merge"), 409, "PullRequestIsDraft")
        assert owner_api.repo_info(repo_id).sha == main
        # merged: its status stays
        assert http.post(f"{base}/{pr}/merge", json={"comment": "merging"}).status_code == 200
        assert_refused(http.post(f"{base}/{pr}/status", json={"status": "closed"}), 409, "PullRequestMerged")
        assert_refused(http.post(f"{base}/{pr}/merge"), 409, "PullRequestAlreadyMerged")


def test_comment_rights(endpoint, owner, contributor, other_user, opened):
    repo_id, pr, talk = opened
    base = f"/api/models/{repo_id}/discussions/{talk}"
    with client(endpoint, owner) as http, client(endpoint, contributor) as author, \
            client(endpoint, other_user) as stranger:
        mine = stranger.post(f"{base}/comment", json={"comment": "a stranger's comment"}).json()["newMessage"]
        assert_refused(author.post(f"{base}/comment/{mine['id']}/edit", json={"content": "edited"}), 403, "Forbidden")
        assert_refused(http.post(f"{base}/comment/{mine['id']}/edit", json={"content": "edited"}), 403, "Forbidden")
        assert_refused(stranger.post(f"{base}/comment/{mine['id']}/hide"), 403, "Forbidden")
        assert_refused(stranger.post(f"{base}/comment/{mine['id']}/edit", json={"content": ""}), 400, "EmptyComment")
        edited = stranger.post(f"{base}/comment/{mine['id']}/edit", json={"content": "fixed"}).json()["updatedComment"]
        assert edited["data"]["latest"]["raw"] == "fixed" and edited["data"]["edited"]
        hidden = http.post(f"{base}/comment/{mine['id']}/hide").json()["updatedComment"]
        assert hidden["data"]["hidden"] and hidden["data"]["latest"]["raw"] == ""
        assert_refused(stranger.post(f"{base}/comment/{mine['id']}/edit", json={"content": "again"}), 409,
                       "CommentHidden")
        # read tokens change nothing
        reader = client(endpoint)
        reader.headers["Authorization"] = f"Bearer {contributor.read_token}"
        with reader:
            assert_refused(reader.post(f"{base}/comment", json={"comment": "hi"}), 403, "Forbidden")
            assert reader.get(base).status_code == 200


def test_private_and_gated_repos(endpoint, owner, contributor, owner_api):
    private = f"{owner.name}/private-{uuid.uuid4().hex[:8]}"
    owner_api.create_repo(private, private=True)
    with client(endpoint, owner) as http, client(endpoint, contributor) as stranger, client(endpoint) as anonymous:
        number = http.post(f"/api/models/{private}/discussions",
                           json={"title": "Internal", "description": "x"}).json()["num"]
        for path in ("discussions", f"discussions/{number}"):
            assert_refused(stranger.get(f"/api/models/{private}/{path}"), 404, "RepoNotFound")
            assert_refused(anonymous.get(f"/api/models/{private}/{path}"), 401, "RepoNotFound")
        assert_refused(stranger.post(f"/api/models/{private}/discussions", json={"title": "Hello there"}),
                       404, "RepoNotFound")
        assert_refused(stranger.post(f"/api/models/{private}/discussions/{number}/comment", json={"comment": "hi"}),
                       404, "RepoNotFound")
        resp = stranger.post(f"/api/models/{private}/commit/main", params={"create_pr": "1"},
                             content=b'{"key": "header", "value": {"summary": "sneak"}}\n',
                             headers={"Content-Type": "application/x-ndjson"})
        assert_refused(resp, 404, "RepoNotFound")
        assert http.get(f"/api/models/{private}/discussions").json()["count"] == 1

        gated = f"{owner.name}/gated-{uuid.uuid4().hex[:8]}"
        owner_api.create_repo(gated)
        owner_api.update_repo_settings(gated, gated="manual")
        # anyone signed in may talk about a gated repo, but proposing changes needs access to it
        assert stranger.post(f"/api/models/{gated}/discussions", json={"title": "Access?"}).status_code == 200
        assert_refused(stranger.post(f"/api/models/{gated}/discussions", json={"title": "A PR", "pullRequest": True}),
                       403, "GatedRepo")
        assert stranger.get(f"/api/models/{gated}/discussions").json()["count"] == 1


def test_failed_create_pr_commit_opens_no_pr(endpoint, contributor, contributor_api, owner_api, pr_repo):
    with client(endpoint, contributor) as http:
        missing = hashlib.sha256(b"never uploaded").hexdigest()
        body = (b'{"key": "header", "value": {"summary": "Bad LFS"}}\n'
                + (f'{{"key": "lfsFile", "value": {{"path": "w.bin", "algo": "sha256", "oid": "{missing}", '
                   '"size": 5}}\n').encode())
        resp = http.post(f"/api/models/{pr_repo}/commit/main", params={"create_pr": "1"}, content=body,
                         headers={"Content-Type": "application/x-ndjson"})
        assert resp.status_code == 400 and resp.headers["x-error-code"] == "LfsObjectMissing", resp.text
        short = (b'{"key": "header", "value": {"summary": "ab"}}\n'
                 b'{"key": "file", "value": {"path": "a.txt", "content": "YQ==", "encoding": "base64"}}\n')
        resp = http.post(f"/api/models/{pr_repo}/commit/main", params={"create_pr": "1"}, content=short,
                         headers={"Content-Type": "application/x-ndjson"})
        assert_refused(resp, 400, "InvalidTitle")       # the commit landed first: its ref was taken back
        assert http.get(f"/api/models/{pr_repo}/discussions").json()["count"] == 0
        assert owner_api.list_repo_refs(pr_repo, include_pull_requests=True).pull_requests == []
        resp = http.post(f"/api/models/{pr_repo}/commit/refs%2Fpr%2F7", content=short,
                         headers={"Content-Type": "application/x-ndjson"})
        assert_refused(resp, 404, "RevisionNotFound")


def test_racing_merges_land_once(endpoint, owner, owner_api, contributor_api, pr_repo):
    pr = contributor_api.create_commit(pr_repo, commit_message="Race me", create_pr=True,
                                       operations=[CommitOperationAdd("race.txt", b"r\n")])
    owner_api.upload_file(path_or_fileobj=b"moved\n", path_in_repo="moved.txt", repo_id=pr_repo)  # merge commit

    def merge(_):
        with client(endpoint, owner) as http:
            return http.post(f"/api/models/{pr_repo}/discussions/{pr.pr_num}/merge")

    with concurrent.futures.ThreadPoolExecutor(6) as pool:
        answers = list(pool.map(merge, range(6)))
    assert sorted(a.status_code for a in answers) == [200] + [409] * 5, [a.text for a in answers]
    assert {a.headers.get("x-error-code") for a in answers if a.status_code == 409} == {"PullRequestAlreadyMerged"}
    history = owner_api.list_repo_commits(pr_repo)
    merges = [c for c in history if c.title.startswith("Race me (#")]
    assert len(merges) == 1
    details = owner_api.get_discussion_details(pr_repo, pr.pr_num)
    assert details.status == "merged" and details.merge_commit_oid == merges[0].commit_id
    assert [e.new_status for e in details.events if e.type == "status-change"] == ["merged"]


def test_listing_pages(endpoint, contributor, contributor_api, pr_repo):
    with client(endpoint, contributor) as http:
        for i in range(53):
            assert http.post(f"/api/models/{pr_repo}/discussions", json={"title": f"Topic {i:03d}"}).status_code == 200
        first = http.get(f"/api/models/{pr_repo}/discussions").json()
        second = http.get(f"/api/models/{pr_repo}/discussions", params={"p": 1}).json()
    assert (first["count"], first["start"], len(first["discussions"])) == (53, 0, 50)
    assert (second["start"], [d["num"] for d in second["discussions"]]) == (50, [3, 2, 1])
    assert [d.num for d in contributor_api.get_repo_discussions(pr_repo)] == list(range(53, 0, -1))

"""Pull request and discussion flows driven through huggingface_hub's PUBLIC API only, so the same
module runs under every client version we support (2.4 with Xet on and off; the newest 1.x and
0.36.x with Xet off), as a subprocess (see test_client_flows.py).

Run standalone: `python pr_flows.py ENDPOINT OWNER_TOKEN CONTRIBUTOR_TOKEN [FLOW ...]` prints one
JSON line per flow and exits non-zero if any failed. The owner owns the repos; the contributor is
signed in and is no member of anything the owner holds.
"""
from __future__ import annotations

import json
import os
import sys
import tempfile
import traceback
import uuid
from pathlib import Path

from huggingface_hub import CommitOperationAdd, HfApi, HfFileSystem, hf_hub_download
from huggingface_hub.utils import HfHubHTTPError

LFS_PAYLOAD = bytes(range(256)) * 64          # *.bin: an LFS file by the default .gitattributes


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def status_of(exc: BaseException) -> int | None:
    return getattr(getattr(exc, "response", None), "status_code", None)


def code_of(exc: BaseException) -> str:
    response = getattr(exc, "response", None)
    return response.headers.get("x-error-code", "") if response is not None else ""


def refused(fn, status: int, code: str | None = None):
    try:
        fn()
    except HfHubHTTPError as exc:
        assert status_of(exc) == status, f"expected {status}, got {status_of(exc)}: {exc}"
        if code is not None:
            assert code_of(exc) == code, f"expected {code}, got {code_of(exc)}: {exc}"
        return exc
    raise AssertionError(f"expected HTTP {status}")


class Flows:
    def __init__(self, endpoint: str, owner_token: str, contributor_token: str) -> None:
        self.endpoint = endpoint.rstrip("/")
        self.owner = HfApi(endpoint=self.endpoint, token=owner_token)
        self.contributor = HfApi(endpoint=self.endpoint, token=contributor_token)
        self.owner_token, self.contributor_token = owner_token, contributor_token
        self.owner_name = self.owner.whoami()["name"]
        self.contributor_name = self.contributor.whoami()["name"]
        self.tmp = Path(tempfile.mkdtemp(prefix="hangar-pr-flows-"))

    def new_repo(self, prefix: str, repo_type: str = "model") -> str:
        repo_id = f"{self.owner_name}/{unique(prefix)}"
        self.owner.create_repo(repo_id, repo_type=repo_type)
        self.owner.upload_file(path_or_fileobj=b"# card\n", path_in_repo="README.md", repo_id=repo_id,
                               repo_type=repo_type)
        return repo_id

    def read(self, repo_id: str, filename: str, revision: str, token: str | None = None, **kw) -> bytes:
        path = hf_hub_download(repo_id, filename, revision=revision, endpoint=self.endpoint,
                               token=token or self.owner_token, cache_dir=self.tmp / unique("c"), **kw)
        return Path(path).read_bytes()

    # --- a contributor's PR, merged by the owner -------------------------------------------------
    def flow_contributor_pr_merged_by_owner(self):
        repo_id = self.new_repo("contrib")
        main = self.owner.repo_info(repo_id).sha
        info = self.contributor.create_commit(repo_id, commit_message="Add weights", commit_description="Please merge",
                                              create_pr=True, operations=[
                                                  CommitOperationAdd("weights.bin", LFS_PAYLOAD),
                                                  CommitOperationAdd("notes.txt", b"hello\n")])
        assert info.pr_url and info.pr_url.endswith(f"/discussions/{info.pr_num}"), info.pr_url
        assert info.pr_revision == f"refs/pr/{info.pr_num}"
        assert self.owner.repo_info(repo_id).sha == main            # the branch did not move
        # read at the PR ref: info, tree, resolve, HfFileSystem
        assert self.owner.repo_info(repo_id, revision=info.pr_revision).sha == info.oid
        assert sorted(self.owner.list_repo_files(repo_id, revision=info.pr_revision)) == \
            [".gitattributes", "README.md", "notes.txt", "weights.bin"]
        assert self.read(repo_id, "weights.bin", info.pr_revision) == LFS_PAYLOAD
        fs = HfFileSystem(endpoint=self.endpoint, token=self.owner_token, skip_instance_cache=True)
        quoted = info.pr_revision.replace("/", "%2F")
        assert fs.read_text(f"{repo_id}@{quoted}/notes.txt") == "hello\n"
        refs = self.owner.list_repo_refs(repo_id, include_pull_requests=True)
        assert [(r.ref, r.target_commit) for r in refs.pull_requests] == [(info.pr_revision, info.oid)]
        # the thread
        details = self.owner.get_discussion_details(repo_id, info.pr_num)
        assert (details.is_pull_request, details.status, details.author, details.title) == \
            (True, "open", self.contributor_name, "Add weights")
        assert details.target_branch == "refs/heads/main" and details.merge_commit_oid is None
        assert [e.type for e in details.events] == ["comment", "commit"], details.events
        assert details.events[0].content == "Please merge" and details.events[1].oid == info.oid
        assert "notes.txt" in details.diff and "+hello" in details.diff
        listed = list(self.owner.get_repo_discussions(repo_id))
        assert [(d.num, d.is_pull_request, d.author) for d in listed] == [(info.pr_num, True, self.contributor_name)]
        # the contributor may not merge; the owner does
        refused(lambda: self.contributor.merge_pull_request(repo_id, info.pr_num), 403)
        self.owner.merge_pull_request(repo_id, info.pr_num, comment="Thanks!")
        details = self.owner.get_discussion_details(repo_id, info.pr_num)
        assert details.status == "merged" and details.merge_commit_oid
        assert self.owner.repo_info(repo_id).sha == details.merge_commit_oid
        assert self.read(repo_id, "weights.bin", "main") == LFS_PAYLOAD
        assert self.read(repo_id, "notes.txt", info.pr_revision) == b"hello\n"   # the ref stays readable
        assert details.events[-1].type == "status-change" and details.events[-1].new_status == "merged"
        refused(lambda: self.owner.merge_pull_request(repo_id, info.pr_num), 409, "PullRequestAlreadyMerged")

    def flow_contributor_cannot_move_branches(self):
        repo_id = self.new_repo("nobranch")
        main = self.owner.repo_info(repo_id).sha
        refused(lambda: self.contributor.upload_file(path_or_fileobj=b"x", path_in_repo="x.txt", repo_id=repo_id), 403)
        refused(lambda: self.contributor.upload_file(path_or_fileobj=LFS_PAYLOAD, path_in_repo="w.bin",
                                                     repo_id=repo_id), 403)
        refused(lambda: self.contributor.create_branch(repo_id, branch="mine"), 403)
        # someone else's PR ref is not theirs either
        other = self.owner.create_pull_request(repo_id, title="Owner's draft")
        refused(lambda: self.contributor.upload_file(path_or_fileobj=b"x", path_in_repo="x.txt", repo_id=repo_id,
                                                     revision=other.git_reference), 403)
        assert self.owner.repo_info(repo_id).sha == main
        assert self.owner.list_repo_refs(repo_id).branches[0].target_commit == main
        refused(lambda: self.owner.create_branch(repo_id, branch="refs/pr/1"), 400)

    def flow_draft_open_merge(self):
        repo_id = self.new_repo("draft")
        pr = self.contributor.create_pull_request(repo_id, title="Draft work", description="WIP")
        assert pr.status == "draft" and pr.git_reference == f"refs/pr/{pr.num}"
        self.contributor.upload_file(path_or_fileobj=b"draft\n", path_in_repo="draft.txt", repo_id=repo_id,
                                     revision=pr.git_reference, commit_message="Draft commit")
        self.contributor.upload_file(path_or_fileobj=LFS_PAYLOAD, path_in_repo="draft.bin", repo_id=repo_id,
                                     revision=pr.git_reference)
        refused(lambda: self.owner.merge_pull_request(repo_id, pr.num), 409, "PullRequestIsDraft")
        event = self.contributor.change_discussion_status(repo_id, pr.num, "open", comment="Ready")
        assert event.new_status == "open"
        self.owner.merge_pull_request(repo_id, pr.num)
        assert self.read(repo_id, "draft.txt", "main") == b"draft\n"
        assert self.read(repo_id, "draft.bin", "main") == LFS_PAYLOAD
        details = self.owner.get_discussion_details(repo_id, pr.num)
        assert details.status == "merged"
        kinds = [e.type for e in details.events]
        assert kinds.count("commit") == 2 and kinds[-1] == "status-change", kinds

    def flow_upload_folder_create_pr(self):
        repo_id = self.new_repo("folder")
        folder = self.tmp / unique("folder")
        (folder / "sub").mkdir(parents=True)
        (folder / "a.txt").write_text("a\n")
        (folder / "sub" / "model.bin").write_bytes(LFS_PAYLOAD)
        info = self.contributor.upload_folder(repo_id=repo_id, folder_path=folder, create_pr=True,
                                              commit_message="Upload a folder")
        assert info.pr_url and info.pr_num and info.pr_revision == f"refs/pr/{info.pr_num}"
        assert sorted(self.owner.list_repo_files(repo_id, revision=info.pr_revision)) == \
            [".gitattributes", "README.md", "a.txt", "sub/model.bin"]
        assert "a.txt" not in self.owner.list_repo_files(repo_id)
        details = self.owner.get_discussion_details(repo_id, info.pr_num)
        if details.status == "draft":             # Xet's pipeline opens a draft, then commits to it
            self.contributor.change_discussion_status(repo_id, info.pr_num, "open")
        self.owner.merge_pull_request(repo_id, info.pr_num)
        assert self.read(repo_id, "sub/model.bin", "main") == LFS_PAYLOAD

    # --- conflicts ---------------------------------------------------------------------------------
    def flow_conflicting_pull_requests(self):
        repo_id = self.new_repo("conflict")
        first = self.contributor.create_commit(repo_id, commit_message="Edit the card", create_pr=True,
                                               operations=[CommitOperationAdd("README.md", b"# first\n")])
        second = self.contributor.create_commit(repo_id, commit_message="Edit it too", create_pr=True,
                                                operations=[CommitOperationAdd("README.md", b"# second\n")])
        other = self.contributor.create_commit(repo_id, commit_message="Elsewhere", create_pr=True,
                                               operations=[CommitOperationAdd("other.txt", b"o\n")])
        self.owner.merge_pull_request(repo_id, first.pr_num)
        tip = self.owner.repo_info(repo_id).sha
        assert self.owner.get_discussion_details(repo_id, second.pr_num).conflicting_files == ["README.md"]
        refused(lambda: self.owner.merge_pull_request(repo_id, second.pr_num), 409, "MergeConflict")
        assert self.owner.repo_info(repo_id).sha == tip
        assert self.owner.get_discussion_details(repo_id, second.pr_num).status == "open"
        self.owner.merge_pull_request(repo_id, other.pr_num)       # no overlap: a merge commit
        assert self.read(repo_id, "README.md", "main") == b"# first\n"
        assert self.read(repo_id, "other.txt", "main") == b"o\n"
        merge = self.owner.list_repo_commits(repo_id)[0]
        assert merge.commit_id == self.owner.get_discussion_details(repo_id, other.pr_num).merge_commit_oid

    # --- discussions ---------------------------------------------------------------------------------
    def flow_discussion_lifecycle(self):
        repo_id = self.new_repo("talk")
        d = self.contributor.create_discussion(repo_id, title="A question", description="How do I use it?")
        assert (d.num, d.is_pull_request, d.status, d.git_reference) == (1, False, "open", None)
        comment = self.owner.comment_discussion(repo_id, d.num, "Like **this**.")
        assert comment.content == "Like **this**." and "<strong>this</strong>" in comment.rendered
        refused(lambda: self.contributor.edit_discussion_comment(repo_id, d.num, comment.id, "mine now"), 403)
        edited = self.owner.edit_discussion_comment(repo_id, d.num, comment.id, "Like *that*.")
        assert edited.edited and edited.content == "Like *that*." and edited.number_of_edits >= 1
        mine = self.contributor.comment_discussion(repo_id, d.num, "spam")
        refused(lambda: self.contributor.hide_discussion_comment(repo_id, d.num, mine.id), 403)
        hidden = self.owner.hide_discussion_comment(repo_id, d.num, mine.id)
        assert hidden.hidden and hidden.content == ""
        renamed = self.contributor.rename_discussion(repo_id, d.num, "A better question")
        assert (renamed.old_title, renamed.new_title) == ("A question", "A better question")
        closed = self.contributor.change_discussion_status(repo_id, d.num, "closed")
        assert closed.new_status == "closed"
        reopened = self.owner.change_discussion_status(repo_id, d.num, "open", comment="Still relevant")
        assert reopened.new_status == "open"
        details = self.owner.get_discussion_details(repo_id, d.num)
        assert [e.type for e in details.events] == ["comment", "comment", "comment", "title-change",
                                                    "status-change", "comment", "status-change"]
        assert details.title == "A better question" and details.status == "open"
        pr = self.contributor.create_pull_request(repo_id, title="A change")
        assert pr.num == 2                                         # one number sequence
        everything = list(self.owner.get_repo_discussions(repo_id))
        assert [x.num for x in everything] == [2, 1]
        assert [x.num for x in self.owner.get_repo_discussions(repo_id, discussion_type="pull_request")] == [2]
        assert [x.num for x in self.owner.get_repo_discussions(repo_id, discussion_type="discussion")] == [1]
        assert [x.num for x in self.owner.get_repo_discussions(repo_id, author=self.owner_name)] == []
        assert [x.num for x in self.owner.get_repo_discussions(repo_id, discussion_status="closed")] == []
        self.contributor.change_discussion_status(repo_id, 1, "closed")
        assert [x.num for x in self.owner.get_repo_discussions(repo_id, discussion_status="closed")] == [1]
        refused(lambda: self.owner.merge_pull_request(repo_id, 1), 400, "NotAPullRequest")


def flow_names() -> list[str]:
    return [name for name in vars(Flows) if name.startswith("flow_")]


def main(argv: list[str]) -> int:
    endpoint, owner, contributor, *wanted = argv
    flows = Flows(endpoint, owner, contributor)
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

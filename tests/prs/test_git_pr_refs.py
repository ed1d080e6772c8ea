"""refs/pr/N over git smart HTTP: fetched like any ref, pushed to by writers and by the PR's own
author (who may push nowhere else), never created, deleted or moved once merged by a push."""
from __future__ import annotations

from huggingface_hub import CommitOperationAdd

from tests.git.gitutil import git, out


def _open_pr(contributor_api, repo_id: str) -> tuple[int, str]:
    info = contributor_api.create_commit(repo_id, commit_message="PR by contributor", create_pr=True,
                                         operations=[CommitOperationAdd("pr.txt", b"from the PR\n")])
    return info.pr_num, info.oid


def _commit(work, name: str, data: bytes, message: str) -> str:
    (work / name).write_bytes(data)
    git("add", "-A", cwd=work)
    git("commit", "-q", "-m", message, cwd=work)
    return out("rev-parse", "HEAD", cwd=work)


def _push(work, refspec: str):
    return git("push", "--porcelain", "origin", refspec, cwd=work, check=False)


def test_fetch_and_push_pr_refs(hub, owner, contributor, owner_api, contributor_api, pr_repo, tmp_path):
    number, pr_tip = _open_pr(contributor_api, pr_repo)
    ref = f"refs/pr/{number}"
    advertised = out("ls-remote", hub.url(pr_repo, user=owner), cwd=tmp_path)
    assert f"{pr_tip}\t{ref}" in advertised.splitlines()

    # the PR's author fetches it, commits and pushes to it
    mine = tmp_path / "contributor"
    git("clone", "-q", hub.url(pr_repo, user=contributor), str(mine))
    git("fetch", "-q", "origin", f"{ref}:pr", cwd=mine)
    assert out("rev-parse", "pr", cwd=mine) == pr_tip
    git("checkout", "-q", "pr", cwd=mine)
    pushed = _commit(mine, "more.txt", b"more\n", "more from git")
    result = _push(mine, f"HEAD:{ref}")
    assert result.returncode == 0, result.stderr
    assert owner_api.repo_info(pr_repo, revision=ref).sha == pushed
    details = owner_api.get_discussion_details(pr_repo, number)
    assert [e.oid for e in details.events if e.type == "commit"] == [pr_tip, pushed]

    # ... but nowhere else: not a branch, not someone else's PR, not a new or deleted PR ref
    main = owner_api.repo_info(pr_repo).sha
    for refspec in ("HEAD:refs/heads/main", "HEAD:refs/heads/elsewhere", "HEAD:refs/tags/v1"):
        refused = _push(mine, refspec)
        assert refused.returncode != 0 and b"your own pull requests" in refused.stdout + refused.stderr, refused
    theirs = owner_api.create_pull_request(pr_repo, title="The owner's own")
    refused = _push(mine, f"HEAD:{theirs.git_reference}")
    assert refused.returncode != 0
    assert owner_api.repo_info(pr_repo, revision=theirs.git_reference).sha == main
    assert owner_api.repo_info(pr_repo).sha == main

    # a writer pushes to any PR ref; nobody creates or deletes one by pushing
    work = tmp_path / "owner"
    git("clone", "-q", hub.url(pr_repo, user=owner), str(work))
    git("fetch", "-q", "origin", f"{ref}:pr", cwd=work)
    git("checkout", "-q", "pr", cwd=work)
    by_owner = _commit(work, "owner.txt", b"o\n", "owner's fixup")
    assert _push(work, f"HEAD:{ref}").returncode == 0
    assert owner_api.repo_info(pr_repo, revision=ref).sha == by_owner
    assert _push(work, "HEAD:refs/pr/999").returncode != 0
    assert _push(work, f":{ref}").returncode != 0
    assert owner_api.repo_info(pr_repo, revision=ref).sha == by_owner

    # merged: the ref stays fetchable, and takes no more pushes
    owner_api.merge_pull_request(pr_repo, number)
    late = _commit(work, "late.txt", b"late\n", "too late")
    refused = _push(work, f"HEAD:{ref}")
    assert refused.returncode != 0 and b"merged" in refused.stdout + refused.stderr, refused
    fresh = tmp_path / "fresh"
    git("clone", "-q", hub.url(pr_repo, user=owner), str(fresh))
    git("fetch", "-q", "origin", f"{ref}:merged-pr", cwd=fresh)
    assert out("rev-parse", "merged-pr", cwd=fresh) == by_owner != late
    assert (fresh / "more.txt").read_bytes() == b"more\n"     # main has the PR now

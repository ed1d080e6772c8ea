"""Discussions and pull requests in the browser: a contributor finds a pull request opened with
huggingface_hub in the repo's Community tab, reads its changed files as a diff, starts a discussion,
comments and closes it (as its author); the owner sees the merge button the contributor does not,
merges, and the change is on main. Payloads in titles and comments stay text; a private repo's
discussions are the 404 page for others; writes need a session and its CSRF token."""
from __future__ import annotations

import uuid

import httpx
from huggingface_hub import CommitOperationAdd, HfApi

from .conftest import screenshot, sign_in

PAYLOAD = '<img src=x onerror="window.__xss=1"><script>window.__xss=2</script>'


def _inert(page) -> None:
    assert page.evaluate("window.__xss") is None
    assert page.locator("script:not([src])").count() == 0


def test_pull_request_and_discussion(new_page, endpoint, make_user):
    owner, contributor = make_user(), make_user()
    repo_id = f"{owner.name}/talk-{uuid.uuid4().hex[:6]}"
    HfApi(endpoint=endpoint, token=owner.token).create_repo(repo_id)
    HfApi(endpoint=endpoint, token=owner.token).upload_file(
        path_or_fileobj=b"# Card\n\nfirst line\n", path_in_repo="README.md", repo_id=repo_id)
    pr = HfApi(endpoint=endpoint, token=contributor.token).create_commit(
        repo_id, [CommitOperationAdd("README.md", b"# Card\n\nfirst line\nsecond line\n"),
                  CommitOperationAdd("notes.txt", b"new notes\n")],
        commit_message=f"Improve the card {PAYLOAD}", create_pr=True)
    number = int(pr.pr_num)

    page = new_page()
    sign_in(page, contributor.name, contributor.password)
    page.goto(f"/{repo_id}")
    page.click("nav.tabs a:has-text('Community')")
    page.wait_for_url(f"**/{repo_id}/discussions")
    item = page.locator(".discussion-list li", has_text="Improve the card")
    assert item.locator(".badge", has_text="Pull request").count() == 1
    assert item.locator(".discussion-title").inner_text() == f"Improve the card {PAYLOAD}"
    _inert(page)

    # The pull request: its commit as an event, its changed files as a diff; no merge button for a
    # contributor without write access.
    item.locator(".discussion-title").click()
    page.wait_for_url(f"**/{repo_id}/discussions/{number}")
    _inert(page)
    assert page.locator(".discussion-title-text").inner_text() == f"Improve the card {PAYLOAD}"
    assert page.locator(".status-pill").first.inner_text().lower() == "open"
    assert page.locator("button", has_text="Merge pull request").count() == 0
    page.click("nav.tabs.sub a:has-text('Files changed')")
    page.wait_for_url(f"**/discussions/{number}/files")
    readme = page.locator("section.diff", has_text="README.md")
    assert readme.locator("tr.add", has_text="second line").count() == 1
    assert readme.locator("tr.ctx", has_text="first line").count() == 1
    assert page.locator("section.diff", has_text="notes.txt").locator(".status-added").count() == 1
    screenshot(page, "pr-files")

    # A discussion of its own: started, rendered, commented, closed and reopened by its author.
    page.goto(f"/{repo_id}/discussions")
    page.click("text=New discussion")
    page.fill("#discussion-title", f"Question {PAYLOAD}")
    page.fill("#discussion-description", f"Does it **work**? {PAYLOAD}")
    page.click("main form button[type=submit]")
    page.wait_for_url(f"**/{repo_id}/discussions/*")
    talk = int(page.url.rsplit("/", 1)[-1])
    _inert(page)
    assert page.locator(".discussion-title-text").inner_text() == f"Question {PAYLOAD}"
    first = page.locator("article.comment").first
    assert first.locator(".comment-body strong").inner_text() == "work"
    assert PAYLOAD in first.locator(".comment-body").inner_text()
    page.fill("#comment-text", "A follow-up with `code`")
    page.click("form[action$='/comment'] button[type=submit]")
    page.wait_for_url(f"**/discussions/{talk}")
    assert page.locator("article.comment").nth(1).locator("code").inner_text() == "code"
    page.click("button:has-text('Close discussion')")
    page.wait_for_url(f"**/discussions/{talk}")
    assert page.locator(".discussion-head .status-pill").inner_text().lower() == "closed"
    assert page.locator(".event-status-change", has_text="closed").count() == 1
    screenshot(page, "discussion")
    page.goto(f"/{repo_id}/discussions?status=closed")
    assert page.locator(".discussion-list .discussion-title").all_inner_texts() == [f"Question {PAYLOAD}"]
    page.goto(f"/{repo_id}/discussions/{talk}")
    page.click("button:has-text('Reopen')")
    page.wait_for_url(f"**/discussions/{talk}")
    assert page.locator(".discussion-head .status-pill").inner_text().lower() == "open"
    # An empty comment is refused by community's rule and shown on the page; nothing is added.
    page.evaluate("document.getElementById('comment-text').removeAttribute('required')")
    page.click("form[action$='/comment'] button[type=submit]")
    assert page.locator(".error[role=alert]").is_visible()
    assert page.locator("article.comment").count() == 2

    # A session without the form's CSRF token changes nothing.
    cookies = {c["name"]: c["value"] for c in page.context.cookies()}
    forged = httpx.post(f"{endpoint}/{repo_id}/discussions/{talk}/comment", data={"comment": "forged"},
                        cookies={"hangar_session": cookies["hangar_session"]}, follow_redirects=False)
    assert forged.status_code == 403 or "/login" in forged.headers["location"]
    # Anonymous visitors read, and are sent to sign in to write.
    anonymous = new_page()
    anonymous.goto(f"/{repo_id}/discussions/{talk}")
    assert anonymous.locator("a", has_text="Sign in to comment").is_visible()
    assert anonymous.locator("#comment-text").count() == 0
    posted = httpx.post(f"{endpoint}/{repo_id}/discussions/{talk}/comment", data={"comment": "x"},
                        follow_redirects=False)
    assert posted.status_code == 303 and posted.headers["location"].startswith("/login")
    details = HfApi(endpoint=endpoint, token=owner.token).get_discussion_details(repo_id, talk)
    assert [e.content for e in details.events if e.type == "comment"][1:] == ["A follow-up with `code`"]

    # The owner merges the pull request from its page.
    owner_page = new_page()
    sign_in(owner_page, owner.name, owner.password)
    owner_page.goto(f"/{repo_id}/discussions/{number}")
    owner_page.on("dialog", lambda dialog: dialog.accept())
    owner_page.click("button:has-text('Merge pull request')")
    owner_page.wait_for_url(f"**/discussions/{number}")
    assert owner_page.locator(".discussion-head .status-pill").inner_text().lower() == "merged"
    merged = owner_page.locator(".notice a.sha").get_attribute("href").rsplit("/", 1)[-1]
    assert HfApi(endpoint=endpoint).repo_info(repo_id).sha == merged
    assert httpx.get(f"{endpoint}/{repo_id}/resolve/main/README.md", follow_redirects=True).text.endswith(
        "second line\n")
    assert not owner_page.console_errors  # the contributor's page saw the refused empty comment's 400


def test_private_repo_discussions_are_not_found(new_page, endpoint, make_user):
    owner, stranger = make_user(), make_user()
    repo_id = f"{owner.name}/secret-talk-{uuid.uuid4().hex[:6]}"
    hf = HfApi(endpoint=endpoint, token=owner.token)
    hf.create_repo(repo_id, private=True)
    number = hf.create_discussion(repo_id, title="Internal plan", description="not for others").num
    page = new_page()
    sign_in(page, stranger.name, stranger.password)
    for path in (f"/{repo_id}/discussions", f"/{repo_id}/discussions/{number}", f"/{repo_id}/discussions/new"):
        response = page.goto(path)
        assert response.status == 404 and "Internal plan" not in page.content()
    mine = new_page()
    sign_in(mine, owner.name, owner.password)
    mine.goto(f"/{repo_id}/discussions/{number}")
    assert mine.locator(".discussion-title-text").inner_text() == "Internal plan"
    for path in (f"/{repo_id}/discussions/99999", f"/{owner.name}/no-such/discussions", f"/{repo_id}/discussions/x",
                 f"/{repo_id}/discussions/0", f"/{repo_id}/discussions/{number}/files",  # not a pull request
                 f"/{repo_id}/discussions/{number}/nothing"):
        response = mine.goto(path)
        assert response.status == 404 and mine.locator("h1").inner_text() == "Page not found"

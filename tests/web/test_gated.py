"""A gated repo in the browser: a visitor sees the request form instead of its files, asks for access,
the owner reviews the request on the repo's page for it and accepts, and the files show."""
from __future__ import annotations

import uuid

from huggingface_hub import HfApi

from .conftest import screenshot, sign_in


def test_gated_request_and_grant(new_page, endpoint, make_user):
    owner, visitor = make_user(), make_user()
    hf = HfApi(endpoint=endpoint, token=owner.token)
    repo_id = f"{owner.name}/gated-{uuid.uuid4().hex[:6]}"
    hf.create_repo(repo_id)
    hf.upload_file(path_or_fileobj=b"secret weights notes\n", path_in_repo="notes.txt", repo_id=repo_id)

    # The owner turns manual gating on in the repo settings.
    owner_page = new_page()
    sign_in(owner_page, owner.name, owner.password)
    owner_page.goto(f"/{repo_id}/settings")
    owner_page.select_option("#gated", "manual")
    owner_page.click("form:has(#gated) button[type=submit]")
    owner_page.wait_for_url("**/settings?saved=gating")
    assert owner_page.locator(".badge-gated").is_visible()

    # The visitor sees the form, not the files.
    page = new_page()
    sign_in(page, visitor.name, visitor.password)
    page.goto(f"/{repo_id}")
    assert page.locator("#gate-title").is_visible()
    assert page.goto(f"/{repo_id}/blob/main/notes.txt").status == 403
    assert "secret weights notes" not in page.content()
    screenshot(page, "gated-form")
    page.fill("#gate-reason", "Research on <b>safety</b>")
    page.click("form[action$='/ask-access'] button[type=submit]")
    page.wait_for_url("**?requested=*")
    assert page.locator(".gate .notice", has_text="pending").is_visible()

    # The owner reviews and accepts.
    owner_page.goto(f"/{repo_id}/access-requests")
    row = owner_page.locator("#r-pending ~ .table-wrap tr", has_text=visitor.name)
    assert row.locator("td", has_text="Research on <b>safety</b>").count() == 1
    screenshot(owner_page, "gated-review")
    row.locator("button", has_text="Accept").click()
    owner_page.wait_for_url(f"**/{repo_id}/access-requests")
    assert owner_page.locator("#r-accepted ~ .table-wrap td a", has_text=visitor.name).count() == 1

    # Now the visitor reads the file.
    assert page.goto(f"/{repo_id}/blob/main/notes.txt").status == 200
    assert "secret weights notes" in page.locator(".code").inner_text()

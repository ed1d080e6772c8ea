"""Finding and paging: listings search, sort and paginate; a big folder pages through cursors; a
user's and an organization's pages list what the visitor may see; branch and tag switcher."""
from __future__ import annotations

import base64
import json
import uuid

import httpx
from huggingface_hub import HfApi

from .conftest import api, screenshot, sign_in


def test_listing_search_sort_and_pages(new_page, endpoint, make_user):
    owner = make_user()
    hf = HfApi(endpoint=endpoint, token=owner.token)
    tag = uuid.uuid4().hex[:6]
    names = [f"zoo-{tag}-{i:02d}" for i in range(32)]
    for name in names:
        hf.create_repo(f"{owner.name}/{name}")
    hf.create_repo(f"{owner.name}/zoo-{tag}-hidden", private=True)
    page = new_page()
    page.goto(f"/models?search=zoo-{tag}&sort=name")
    shown = page.locator(".repo-item strong").all_inner_texts()
    assert shown == names[:30]  # ascending by name, 30 a page, the private one not listed
    screenshot(page, "listing")
    page.click("a[rel=next]")
    assert page.locator(".repo-item strong").all_inner_texts() == names[30:]
    page.goto(f"/models?search=zoo-{tag}&sort=created")
    assert page.locator(".repo-item strong").first.inner_text() == names[-1]
    page.goto(f"/?q=zoo-{tag}")
    assert page.locator("#h-models ~ ul .repo-item").count() == 8
    # The owner sees the private one too.
    sign_in(page, owner.name, owner.password)
    page.goto(f"/models?search=zoo-{tag}-hidden")
    assert page.locator(".repo-item .badge-private").count() == 1


def test_big_folder_pages_and_refs(new_page, endpoint, make_user):
    owner = make_user()
    repo_id = f"{owner.name}/big-{uuid.uuid4().hex[:6]}"
    HfApi(endpoint=endpoint, token=owner.token).create_repo(repo_id)
    lines = [json.dumps({"key": "header", "value": {"summary": "Add 150 files"}})]
    lines += [json.dumps({"key": "file", "value": {"path": f"shards/part-{i:04d}.txt", "encoding": "base64",
                                                   "content": base64.b64encode(f"{i}\n".encode()).decode()}})
              for i in range(150)]
    with api(endpoint, owner.token) as client:
        answer = client.post(f"/api/models/{repo_id}/commit/main", content="\n".join(lines),
                             headers={"Content-Type": "application/x-ndjson"})
        assert answer.status_code == 200, answer.text
        assert client.post(f"/api/models/{repo_id}/branch/dev", json={}).status_code == 200
        assert client.post(f"/api/models/{repo_id}/tag/main", json={"tag": "v1.0"}).status_code == 200
    page = new_page()
    page.goto(f"/{repo_id}/tree/main/shards")
    names = page.locator("table.files td.name a span").all_inner_texts()
    assert names[0] == ".." or names[0] == "part-0000.txt"
    files = [n for n in names if n.startswith("part-")]
    assert files == [f"part-{i:04d}.txt" for i in range(50)]
    for start in (50, 100):  # 50 entries a page (with their last commit), cursor-paged
        page.click("a[rel=next]")
        files = [n for n in page.locator("table.files td.name a span").all_inner_texts() if n.startswith("part-")]
        assert files == [f"part-{i:04d}.txt" for i in range(start, start + 50)]
    assert page.locator("a[rel=next]").count() == 0
    # The switcher lists branches and tags; picking one shows that revision.
    page.goto(f"/{repo_id}/tree/main")
    page.click("details.switcher summary")
    assert page.locator(".switcher-items a", has_text="dev").is_visible()
    page.click(".switcher-items a:has-text('v1.0')")
    page.wait_for_url(f"**/{repo_id}/tree/v1.0")
    assert page.locator("table.files", has_text="shards").count() == 1
    assert httpx.get(f"{endpoint}/{repo_id}/tree/main/shards/part-0001.txt", follow_redirects=False).status_code == 303


def test_profiles_and_organizations(new_page, endpoint, make_user):
    founder, member, stranger = make_user(), make_user(), make_user()
    page = new_page()
    sign_in(page, founder.name, founder.password)
    org = f"org-{uuid.uuid4().hex[:8]}"
    page.goto("/organizations/new")
    page.fill("#org-name", org)
    page.fill("#org-fullname", "Research Lab")
    page.click("main form button[type=submit]")
    page.wait_for_url(f"**/{org}")
    assert page.locator(".profile-card h1").inner_text() == "Research Lab"
    page.click("text=Manage members")
    page.fill("#member-name", member.name)
    page.select_option("#member-role", "member")
    page.click("form:has(#member-name) button[type=submit]")
    assert page.locator("table.data td a", has_text=member.name).count() == 1
    # A private org repo: listed for members, absent for others.
    HfApi(endpoint=endpoint, token=founder.token).create_repo(f"{org}/internal", private=True)
    HfApi(endpoint=endpoint, token=founder.token).create_repo(f"{org}/public-model")
    member_page = new_page()
    sign_in(member_page, member.name, member.password)
    member_page.goto(f"/{org}")
    listed = member_page.locator("#p-models ~ ul .repo-item strong").all_inner_texts()
    assert set(listed) == {"internal", "public-model"}
    screenshot(member_page, "org")
    outsider = new_page()
    sign_in(outsider, stranger.name, stranger.password)
    outsider.goto(f"/{org}")
    assert outsider.locator("#p-models ~ ul .repo-item strong").all_inner_texts() == ["public-model"]
    assert outsider.goto(f"/{org}/internal").status == 404
    assert outsider.goto(f"/organizations/{org}/members").status == 404

    # The founder makes the member an admin (the select submits itself), then removes them: they
    # lose the private repo at once.
    page.goto(f"/organizations/{org}/members")
    row = page.locator("table.data tr", has_text=member.name)
    row.locator("select").select_option("admin")
    page.wait_for_load_state()
    row = page.locator("table.data tr", has_text=member.name)
    assert row.locator("select").input_value() == "admin"
    member_page.goto(f"/organizations/{org}/members")
    assert member_page.locator("#member-name").is_visible()  # an admin may add members
    page.on("dialog", lambda dialog: dialog.accept())
    row.locator("button", has_text="Remove").click()
    page.wait_for_url(f"**/organizations/{org}/members")
    assert page.locator("table.data td a", has_text=member.name).count() == 0
    assert member_page.goto(f"/{org}/internal").status == 404


def test_account_settings_token_revoke_and_logout(new_page, endpoint, make_user):
    user = make_user()
    page = new_page()
    sign_in(page, user.name, user.password)
    page.goto("/settings/tokens")
    page.fill("#token-name", "ci")
    page.click("form[action='/settings/tokens'] button[type=submit]")
    token = page.locator("#new-token").inner_text().strip()
    with api(endpoint, token) as client:
        assert client.get("/api/whoami-v2").status_code == 200
    page.on("dialog", lambda dialog: dialog.accept())
    page.click("button[aria-label='Revoke token ci']")
    page.wait_for_url("**/settings/tokens")
    with api(endpoint, token) as client:
        assert client.get("/api/whoami-v2").status_code == 401
    page.goto("/settings/account")
    page.fill("#current-password", user.password)
    page.fill("#new-password", "a brand new password")
    page.fill("#confirm-password", "a brand new password")
    page.click("form:has(#new-password) button[type=submit]")
    assert page.locator(".notice", has_text="Password changed").is_visible()
    page.click("details.menu summary")
    page.click("text=Sign out")
    page.wait_for_url(f"{endpoint}/")
    assert page.locator("a", has_text="Sign in").is_visible()
    sign_in(page, user.name, "a brand new password")


def test_like_button(new_page, endpoint, make_user):
    owner, fan = make_user(), make_user()
    repo_id = f"{owner.name}/liked-{uuid.uuid4().hex[:6]}"
    HfApi(endpoint=endpoint, token=owner.token).create_repo(repo_id)
    page = new_page(java_script_enabled=False)
    sign_in(page, fan.name, fan.password)
    page.goto(f"/{repo_id}")
    assert page.locator("button.like").inner_text().split() == ["Like", "0"]
    page.click("button.like")
    page.wait_for_url(f"**/{repo_id}")
    assert page.locator("button.like").inner_text().split() == ["Liked", "1"]
    assert page.locator("button.like").get_attribute("aria-pressed") == "true"
    likers = httpx.get(f"{endpoint}/api/models/{repo_id}/likers").json()
    assert [item["user"] for item in likers] == [fan.name]
    page.click("button.like")
    assert page.locator("button.like").inner_text().split() == ["Like", "0"]

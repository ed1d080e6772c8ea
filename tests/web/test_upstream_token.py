"""The tokens page links the user's upstream Hub token (docs/mirror.md "Access"): the same state the
API's /api/settings/upstream-token shows; the token itself never appears on the page again."""
from __future__ import annotations

import httpx

from .conftest import screenshot, sign_in

SECRET = "hf_pageLinkedUpstreamToken9876"


def _status(endpoint: str, user) -> dict:
    return httpx.get(f"{endpoint}/api/settings/upstream-token", headers={"Authorization": f"Bearer {user.token}"},
                     timeout=30).json()


def test_link_and_unlink_the_upstream_token_from_the_tokens_page(new_page, endpoint, make_user):
    user = make_user()
    page = new_page()
    sign_in(page, user.name, user.password)
    page.goto("/settings/tokens")
    assert "No upstream token linked" in page.locator("#upstream-token-status").inner_text()

    page.fill("#upstream-token-value", SECRET)
    page.click("form[action='/settings/tokens/upstream'] button[type=submit]")
    page.wait_for_url("**/settings/tokens")
    assert "9876" in page.locator("#upstream-token-status").inner_text()
    assert SECRET not in page.content()
    screenshot(page, "settings-tokens-upstream-linked")
    assert _status(endpoint, user)["linked"] is True and _status(endpoint, user)["hint"] == "9876"

    page.fill("#upstream-token-value", "has a space")
    page.click("form[action='/settings/tokens/upstream'] button[type=submit]")
    assert page.locator("p.error[role=alert]").is_visible()        # refused, still linked as before
    screenshot(page, "settings-tokens-upstream-refused")
    assert _status(endpoint, user)["hint"] == "9876"
    assert page.console_errors == ["Failed to load resource: the server responded with a status of 400 (Bad Request)"]
    page.console_errors.clear()     # the page answered that submission 400, as it should

    page.once("dialog", lambda dialog: dialog.accept())
    page.click("form[action='/settings/tokens/upstream/unlink'] button[type=submit]")
    page.wait_for_url("**/settings/tokens")
    assert "No upstream token linked" in page.locator("#upstream-token-status").inner_text()
    assert _status(endpoint, user) == {"linked": False}
    assert not page.console_errors

"""What keeps the pages safe: user content is inert (XSS payloads in a README, a file name, a commit
message and a description are shown as text and never run), security headers on every page, CSRF
tokens and same-origin checks on every state change, unknown paths as 404 pages (never a 500), and
the API, download, git and LFS routes unchanged by the pages."""
from __future__ import annotations

import uuid

import httpx
import pytest
from huggingface_hub import CommitOperationAdd, HfApi

from .conftest import screenshot, sign_in

PAYLOAD = '<img src=x onerror="window.__xss=1"><script>window.__xss=2</script>'


@pytest.fixture(scope="module")
def hostile_repo(endpoint, make_user):
    """A public repo whose README, file name, commit message and description carry payloads."""
    owner = make_user()
    hf = HfApi(endpoint=endpoint, token=owner.token)
    repo_id = f"{owner.name}/hostile-{uuid.uuid4().hex[:6]}"
    hf.create_repo(repo_id)
    readme = (f"# Card\n\n{PAYLOAD}\n\n<a href=\"javascript:window.__xss=3\">click</a> "
              f"<div style=\"position:fixed;inset:0\" onclick=\"window.__xss=4\">overlay</div>\n").encode()
    info = hf.create_commit(repo_id, [
        CommitOperationAdd("README.md", readme),
        CommitOperationAdd("<svg onload=window.__xss=5>.txt", b"hello\n")],
        commit_message=f"Title {PAYLOAD}", commit_description=f"Body {PAYLOAD}")
    return owner, repo_id, info.oid


def _inert(page) -> None:
    assert page.evaluate("window.__xss") is None
    assert page.locator("script:not([src])").count() == 0


def test_payloads_render_as_text(new_page, hostile_repo):
    owner, repo_id, commit = hostile_repo
    page = new_page()
    sign_in(page, owner.name, owner.password)
    page.goto(f"/{repo_id}")
    _inert(page)
    card = page.locator(".markdown")
    assert card.locator("img[onerror], [onclick], [style], a[href^='javascript']").count() == 0
    assert card.locator("a", has_text="click").get_attribute("href") is None
    page.goto(f"/{repo_id}/tree/main")
    _inert(page)
    assert page.locator("table.files", has_text="<svg onload=window.__xss=5>.txt").count() == 1
    page.goto(f"/{repo_id}/commit/{commit}")
    _inert(page)
    assert page.locator("h2.commit-title-big").inner_text() == f"Title {PAYLOAD}"
    assert f"Body {PAYLOAD}" in page.locator("pre.commit-body").inner_text()
    page.goto(f"/{repo_id}/commits/main")
    _inert(page)
    assert page.locator("a.commit-title", has_text=f"Title {PAYLOAD}").count() == 1
    screenshot(page, "xss-commits")


def test_inline_script_is_refused_by_the_policy(new_page, endpoint):
    """Even if markup slipped through, the CSP forbids inline script: Chromium reports the violation."""
    page = new_page()
    page.goto("/")
    violations = []
    page.on("console", lambda m: violations.append(m.text))
    page.evaluate("""() => { const s = document.createElement('script'); s.textContent = 'window.__ran = 1';
                           document.body.appendChild(s); }""")
    assert page.evaluate("window.__ran") is None


@pytest.mark.parametrize("path", ["/", "/models", "/login", "/does-not-exist/at-all"])
def test_security_headers(endpoint, path):
    response = httpx.get(f"{endpoint}{path}")
    csp = response.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp and "object-src 'none'" in csp
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"


def test_state_changes_need_the_session_csrf_token(endpoint, make_user):
    user = make_user()
    with httpx.Client(base_url=endpoint, timeout=30) as browser_like:
        login = browser_like.post("/api/auth/login", json={"username": user.name, "password": user.password})
        csrf = login.json()["csrfToken"]
        before = len(browser_like.get("/api/auth/tokens", headers={"X-CSRF-Token": csrf}).json())
        # No token, a wrong token, another site's Origin: all refused, nothing created.
        for data, headers in (({"name": "a", "role": "write"}, {}),
                              ({"name": "b", "role": "write", "csrf_token": "forged"}, {}),
                              ({"name": "c", "role": "write", "csrf_token": csrf}, {"Origin": "https://evil.example"})):
            answer = browser_like.post("/settings/tokens", data=data, headers=headers)
            assert answer.status_code in (303, 403)
            assert answer.status_code == 403 or "/login" in answer.headers["location"]
        assert len(browser_like.get("/api/auth/tokens").json()) == before
        ok = browser_like.post("/settings/tokens", data={"name": "d", "role": "read", "csrf_token": csrf})
        assert ok.status_code == 200 and "hf_" in ok.text
        assert len(browser_like.get("/api/auth/tokens").json()) == before + 1


def test_login_form_needs_its_pre_session_token(endpoint, make_user):
    user = make_user()
    with httpx.Client(base_url=endpoint, timeout=30) as client:
        forged = client.post("/login", data={"username": user.name, "password": user.password})
        assert forged.status_code == 403 and "hangar_session" not in client.cookies
        form = client.get("/login")
        token = form.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
        signed = client.post("/login", data={"username": user.name, "password": user.password, "csrf_token": token})
        assert signed.status_code == 303 and client.cookies.get("hangar_session")


@pytest.mark.parametrize("path", [
    "/nobody-here", "/nobody/nothing", "/nobody/nothing/tree/main/a/b", "/nobody/nothing/blob/main/x",
    "/nobody/nothing/commit/0000000000000000000000000000000000000000", "/datasets/nobody/nothing/commits/main",
    "/spaces/nobody/nothing/settings", "/a/b/c/d/e/f", "/x/y/blob/main/..%2F..%2Fetc", "/static/nope.css",
    "/settings/nothing", "/organizations/nobody/members",
])
def test_unknown_paths_are_404_pages(endpoint, path):
    response = httpx.get(f"{endpoint}{path}")
    assert response.status_code in (404, 303), response.text[:300]
    if response.status_code == 404:
        assert "Page not found" in response.text and response.headers["content-type"].startswith("text/html")


def test_unknown_paths_in_a_real_repo_are_404_pages(endpoint, hostile_repo):
    _, repo_id, _ = hostile_repo
    for path in ("/tree/nope", "/blob/main/missing.txt", "/commit/nope", "/commits/nope", "/blob/main/",
                 "/tree/main/README.md/deeper", "/whatever", "/blob/main/a%5Cb", "/tree/main/.git"):
        response = httpx.get(f"{endpoint}/{repo_id}{path}")
        assert response.status_code == 404, (path, response.status_code)
    # Encodings Traefik itself refuses (an encoded NUL, invalid UTF-8) are a 400 at the edge, not a 5xx.
    for path in ("/blob/main/%00", "/%ff%fe"):
        assert httpx.get(f"{endpoint}/{repo_id}{path}").status_code in (400, 404)


def test_api_download_and_git_routes_stay_with_their_services(endpoint, hostile_repo):
    _, repo_id, commit = hostile_repo
    listing = httpx.get(f"{endpoint}/api/models", params={"search": repo_id.split("/")[1]})
    assert listing.headers["content-type"].startswith("application/json") and listing.json()[0]["id"] == repo_id
    missing_api = httpx.get(f"{endpoint}/api/nothing-here")
    assert missing_api.headers["content-type"].startswith("application/json")
    download = httpx.get(f"{endpoint}/{repo_id}/resolve/main/README.md")
    assert download.status_code == 200 and download.headers["x-repo-commit"] == commit
    assert "attachment" in download.headers["content-disposition"]
    refs = httpx.get(f"{endpoint}/{repo_id}/info/refs", params={"service": "git-upload-pack"})
    assert refs.status_code == 200 and refs.headers["content-type"] == "application/x-git-upload-pack-advertisement"
    batch = httpx.post(f"{endpoint}/{repo_id}.git/info/lfs/objects/batch",
                       json={"operation": "download", "objects": []},
                       headers={"Accept": "application/vnd.git-lfs+json"})
    assert batch.headers["content-type"].startswith("application/vnd.git-lfs+json")
    # The URLs the API hands out open as pages.
    page = httpx.get(f"{endpoint}/{repo_id}/commit/{commit}")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")

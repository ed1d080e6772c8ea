"""A newcomer's path in a real browser: sign up, create a token, create a private repo, upload a
model card and a large safetensors file by the upload page (the large one through LFS straight to
S3), read the rendered card, browse the tree, open the safetensors summary, open the commit and its
diff, edit the README; another user and an anonymous visitor get the 404 page for the private repo.
Screenshots of each page are taken and checked for what must be visible on it."""
from __future__ import annotations

import uuid

import httpx

from .conftest import PASSWORD, api, safetensors_bytes, screenshot, sign_in

CARD = b"""---
license: apache-2.0
library_name: transformers
tags: [text-classification, demo]
---
# Tiny classifier

| split | accuracy |
|-------|----------|
| test  | 0.93     |

```python
from transformers import pipeline
classifier = pipeline("text-classification")
```
"""


def _join(page, name: str) -> None:
    page.goto("/join")
    page.fill("#join-username", name)
    page.fill("#join-email", f"{name}@example.test")
    page.fill("#join-password", PASSWORD)
    page.click("main form button[type=submit]")
    page.wait_for_url("**/settings/tokens?welcome=1")


def test_newcomer_path(new_page, endpoint, make_user):
    name = f"new-{uuid.uuid4().hex[:8]}"
    page = new_page()
    _join(page, name)
    assert page.locator(".menu-name").inner_text() == name

    # A write token, shown once, that the API accepts.
    page.fill("#token-name", "laptop")
    page.select_option("#token-role", "write")
    page.click("form[action='/settings/tokens'] button[type=submit]")
    token = page.locator("#new-token").inner_text().strip()
    assert token.startswith("hf_")
    screenshot(page, "tokens")
    with api(endpoint, token) as client:
        assert client.get("/api/whoami-v2").json()["name"] == name
    page.goto("/settings/tokens")
    assert token not in page.content() and page.locator("table.data td", has_text="laptop").count() == 1

    # A private model, created from /new.
    page.goto("/new")
    page.fill("#new-name", "tiny-classifier")
    page.check("input[name=visibility][value=private]")
    page.click("main form button[type=submit]")
    page.wait_for_url(f"**/{name}/tiny-classifier")
    assert page.locator(".badge-private").is_visible()
    assert page.get_by_text("No model card yet").is_visible()

    # Upload by the upload page: a README and a safetensors file above the LFS threshold (10 MB).
    weights = safetensors_bytes({"classifier.weight": ("F32", [2, 768]),
                                 "encoder.embeddings.weight": ("F32", [3600, 768])})
    assert len(weights) > 10_000_000
    page.goto(f"/{name}/tiny-classifier/tree/main")
    page.click("text=Upload files")
    page.set_input_files("#upload-files", timeout=60_000, files=[
        {"name": "README.md", "mimeType": "text/markdown", "buffer": CARD},
        {"name": "model.safetensors", "mimeType": "application/octet-stream", "buffer": weights}])
    assert page.locator("[data-upload-list] li").count() == 2
    page.fill("#upload-summary", "Add the model")
    screenshot(page, "upload")
    page.click("#upload-form button[type=submit]")
    page.wait_for_url("**/commit/*", timeout=60_000)
    commit_id = page.url.rsplit("/", 1)[-1]
    assert len(commit_id) == 40

    # The commit page: both files added; the text one as a diff, the LFS one as size/oid.
    assert page.locator("h2.commit-title-big").inner_text() == "Add the model"
    readme = page.locator("section.diff", has_text="README.md")
    assert readme.locator("tr.add", has_text="# Tiny classifier").count() == 1
    lfs = page.locator("section.diff", has_text="model.safetensors")
    assert lfs.locator("th", has_text="LFS oid").count() == 1
    screenshot(page, "commit")

    # The bytes went through LFS: the API lists the file as an LFS file of the right size.
    with api(endpoint, token) as client:
        entries = client.get(f"/api/models/{name}/tiny-classifier/tree/main").json()
        weights_entry = next(e for e in entries if e["path"] == "model.safetensors")
        assert weights_entry["lfs"]["size"] == len(weights)

    # The card: rendered Markdown (table, highlighted code), metadata from the front matter.
    page.goto(f"/{name}/tiny-classifier")
    card = page.locator(".markdown")
    assert card.locator("h1").inner_text() == "Tiny classifier"
    assert card.locator("table td", has_text="0.93").count() == 1
    assert card.locator("pre.highlight span.kn", has_text="from").count() == 1  # Pygments token classes
    assert page.locator(".meta dd .chip", has_text="apache-2.0").is_visible()
    assert page.locator(".meta dd .chip", has_text="transformers").is_visible()
    assert endpoint in page.locator(".snippet pre").first.inner_text()
    screenshot(page, "card")

    # The tree: sizes, LFS badge, last commit per entry.
    page.goto(f"/{name}/tiny-classifier/tree/main")
    row = page.locator("table.files tr", has_text="model.safetensors")
    assert row.locator(".badge-lfs").is_visible()
    assert row.locator("td.num").first.inner_text().endswith("MB")
    assert row.locator(".commit-cell").inner_text() == "Add the model"
    screenshot(page, "tree")

    # The safetensors summary, read from the header only.
    row.locator("a").first.click()
    page.wait_for_url("**/blob/main/model.safetensors")
    stats = page.locator("dl.stats")
    assert stats.locator("div", has_text="Parameters").locator("dd").inner_text() == f"{2 * 768 + 3600 * 768:,}"
    assert page.locator("table.data td", has_text="encoder.embeddings.weight").count() == 1
    assert page.locator("table.data td", has_text="[3600, 768]").count() == 1
    screenshot(page, "safetensors")

    # Edit the README in the browser.
    page.goto(f"/{name}/tiny-classifier/blob/main/README.md")
    page.click("a.btn:has-text('Edit')")
    content = page.input_value("#edit-content")
    page.fill("#edit-content", content.replace("# Tiny classifier", "# Tiny classifier v2"))
    page.fill("#edit-summary", "Rename the model in its card")
    screenshot(page, "edit")
    page.click("main form button[type=submit]")
    page.wait_for_url("**/blob/main/README.md")
    assert page.locator(".markdown h1").inner_text() == "Tiny classifier v2"
    page.goto(f"/{name}/tiny-classifier")  # the card seen before the edit is not served again
    assert page.locator(".markdown h1").inner_text() == "Tiny classifier v2"
    page.goto(f"/{name}/tiny-classifier/commits/main")
    titles = page.locator("ol.commit-list a.commit-title").all_inner_texts()
    assert titles[:2] == ["Rename the model in its card", "Add the model"]
    screenshot(page, "commits")
    assert not page.console_errors, page.console_errors

    # Someone else, signed in or not, gets the same 404 page as for a repo that does not exist.
    stranger = make_user()
    other = new_page()
    sign_in(other, stranger.name, stranger.password)
    for path in (f"/{name}/tiny-classifier", f"/{name}/tiny-classifier/tree/main",
                 f"/{name}/tiny-classifier/blob/main/README.md", f"/{name}/tiny-classifier/commit/{commit_id}"):
        missing = path.replace("tiny-classifier", "no-such-repo")
        for visitor in (other, new_page()):
            response = visitor.goto(path)
            assert response.status == 404
            assert visitor.locator("h1").inner_text() == "Page not found"
            assert "Tiny classifier" not in visitor.content()
            assert visitor.goto(missing).status == 404
    assert httpx.get(f"{endpoint}/{name}/tiny-classifier").text.replace(f"/{name}/tiny-classifier", "X") == \
        httpx.get(f"{endpoint}/{name}/no-such-repo").text.replace(f"/{name}/no-such-repo", "X")

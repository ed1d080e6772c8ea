"""Uploading by drag and drop: files dropped on the upload page's zone are committed; one above the
LFS multipart threshold (64 MiB) goes to object storage part by part through presigned URLs (the
Git LFS multipart transfer), never through a service. Then a tag is created from the settings page."""
from __future__ import annotations

import uuid

from huggingface_hub import HfApi

from .conftest import screenshot, sign_in

MiB = 1024 * 1024
ROWS = 16_896                      # of 1,024 F32: 66 MiB of tensor data
BIG = 1024 + ROWS * 4096           # with the 1 KiB header

# A valid safetensors file built in the page (8-byte header length, JSON header, zeroed data), so
# 66 MiB never crosses the test's wire to the browser.
DROP = """([rows]) => {
  const size = 1024 + rows * 4096;
  const header = JSON.stringify({"__metadata__": {"format": "pt"},
    "embed.weight": {"dtype": "F32", "shape": [rows, 1024], "data_offsets": [0, rows * 1024 * 4]}});
  const padded = header + " ".repeat(1024 - 8 - header.length);
  const bytes = new Uint8Array(size);
  new DataView(bytes.buffer).setBigUint64(0, BigInt(padded.length), true);
  bytes.set(new TextEncoder().encode(padded), 8);
  const dt = new DataTransfer();
  dt.items.add(new File([bytes], "model.safetensors", {type: "application/octet-stream"}));
  dt.items.add(new File(["hello from a drop\\n"], "notes.txt", {type: "text/plain"}));
  return dt;
}"""


def test_drag_and_drop_upload_goes_multipart_then_tag(new_page, endpoint, make_user):
    owner = make_user()
    repo_id = f"{owner.name}/dropped-{uuid.uuid4().hex[:6]}"
    hf = HfApi(endpoint=endpoint, token=owner.token)
    hf.create_repo(repo_id)
    page = new_page()
    sign_in(page, owner.name, owner.password)
    parts, through_hub = [], []

    def seen(request):
        if request.method == "PUT" and "partNumber=" in request.url:
            parts.append(request.url)
            if request.url.startswith(endpoint):
                through_hub.append(request.url)

    page.on("request", seen)
    page.goto(f"/{repo_id}/upload/main")
    transfer = page.evaluate_handle(DROP, [ROWS])
    page.dispatch_event("[data-dropzone]", "dragenter", {"dataTransfer": transfer})
    page.dispatch_event("[data-dropzone]", "drop", {"dataTransfer": transfer})
    items = page.locator("[data-upload-list] li")
    assert items.count() == 2
    assert "LFS" in items.filter(has_text="model.safetensors").inner_text()
    page.fill("#upload-summary", "Dropped weights")
    screenshot(page, "upload-dropped")
    page.click("#upload-form button[type=submit]")
    page.wait_for_url("**/commit/*", timeout=180_000)
    assert page.locator("h2.commit-title-big").inner_text() == "Dropped weights"
    notes = page.locator("section.diff", has_text="notes.txt")
    assert notes.locator("tr.add", has_text="hello from a drop").count() == 1
    assert page.locator("section.diff", has_text="model.safetensors").locator("th", has_text="LFS oid").count() == 1
    # Five 16 MiB parts (the lfs service's chunk size), each PUT straight to object storage.
    assert len(parts) == -(-BIG // (16 * MiB)) and not through_hub
    entry = next(e for e in hf.list_repo_tree(repo_id) if e.path == "model.safetensors")
    assert entry.lfs is not None and entry.size == BIG
    page.goto(f"/{repo_id}/blob/main/model.safetensors")
    assert page.locator("dl.stats div", has_text="Parameters").locator("dd").inner_text() == f"{ROWS * 1024:,}"
    assert not page.console_errors, page.console_errors

    # A tag from the settings page, at the commit just made.
    page.goto(f"/{repo_id}/settings")
    page.select_option("#ref-kind", "tag")
    page.fill("#ref-name", "v1.0")
    page.click("form[action$='/refs'] button[type=submit]")
    page.wait_for_url(f"**/{repo_id}/tree/v1.0")
    assert page.locator("table.files", has_text="model.safetensors").count() == 1
    refs = hf.list_repo_refs(repo_id)
    assert [(t.name, t.target_commit) for t in refs.tags] == [("v1.0", hf.repo_info(repo_id).sha)]

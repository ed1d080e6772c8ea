"""File pages and the writing pages without JavaScript: Parquet (footer and first row group read by
range), JSON Lines and CSV previews, an image, a large text file shown capped; and with scripts off
(plain HTML forms): upload, create a branch, delete a file, rename and delete the repository."""
from __future__ import annotations

import io
import uuid

import pyarrow as pa
import pyarrow.parquet as pq
from huggingface_hub import CommitOperationAdd, HfApi

from .conftest import screenshot, sign_in

PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000"
                    "1f15c4890000000d4944415478da63f8cfc0f01f0005000201a0e0d1c20000000049454e44ae426082")


def _parquet(rows: int) -> bytes:
    table = pa.table({"id": list(range(rows)), "text": [f"row {i}" for i in range(rows)]})
    out = io.BytesIO()
    pq.write_table(table, out, row_group_size=1000)
    return out.getvalue()


def test_previews(new_page, endpoint, make_user):
    owner = make_user()
    hf = HfApi(endpoint=endpoint, token=owner.token)
    repo_id = f"{owner.name}/data-{uuid.uuid4().hex[:6]}"
    hf.create_repo(repo_id, repo_type="dataset")
    hf.create_commit(repo_id, repo_type="dataset", commit_message="data", operations=[
        CommitOperationAdd("train.parquet", _parquet(5000)),
        CommitOperationAdd("eval.jsonl", b'{"q": "2+2", "a": 4}\n{"q": "<b>x</b>", "a": 5}\n'),
        CommitOperationAdd("logo.png", PNG),
        CommitOperationAdd("big.py", b"x = 1\n" * 200_000)])
    page = new_page()
    page.goto(f"/datasets/{repo_id}/blob/main/train.parquet")
    assert page.locator("table.data th", has_text="text").count() == 1
    assert page.locator("table.data td", has_text="row 19").count() == 1
    assert page.locator("table.data tbody tr").count() == 20
    assert "of 5,000 rows" in page.locator(".file-body").inner_text()
    screenshot(page, "parquet")
    page.goto(f"/datasets/{repo_id}/blob/main/eval.jsonl")
    assert page.locator("table.data td", has_text="<b>x</b>").count() == 1
    page.goto(f"/datasets/{repo_id}/blob/main/logo.png")
    image = page.locator(".image-view img")
    assert image.evaluate("img => img.complete && img.naturalWidth") == 1
    page.goto(f"/datasets/{repo_id}/blob/main/big.py", timeout=90_000)  # 128 kB highlighted: slow on a loaded machine
    assert page.locator(".notice", has_text="Only the first 128 kB").is_visible()
    assert page.locator(".code span.n", has_text="x").count() > 1000


def test_writing_without_javascript(new_page, endpoint, make_user):
    owner = make_user()
    repo_id = f"{owner.name}/plain-{uuid.uuid4().hex[:6]}"
    HfApi(endpoint=endpoint, token=owner.token).create_repo(repo_id)
    page = new_page(java_script_enabled=False)
    sign_in(page, owner.name, owner.password)

    page.goto(f"/{repo_id}/upload/main")
    page.set_input_files("#upload-files", files=[{"name": "notes.txt", "mimeType": "text/plain", "buffer": b"one\n"},
                                                 {"name": "todo.md", "mimeType": "text/markdown", "buffer": b"- a\n"}])
    page.fill("#upload-summary", "Plain upload")
    page.click("#upload-form button[type=submit]")
    page.wait_for_url("**/commit/*")
    assert page.locator("section.diff").count() == 2

    page.goto(f"/{repo_id}/settings")
    page.fill("#ref-name", "experiment")
    page.click("form[action$='/refs'] button[type=submit]")
    page.wait_for_url(f"**/{repo_id}/tree/experiment")
    assert page.locator("table.files", has_text="notes.txt").count() == 1

    page.goto(f"/{repo_id}/blob/experiment/notes.txt")
    page.click("form[action*='/delete/'] button[type=submit]")
    page.wait_for_url(f"**/{repo_id}/tree/experiment")
    assert page.locator("table.files", has_text="notes.txt").count() == 0
    page.goto(f"/{repo_id}/tree/main")
    assert page.locator("table.files", has_text="notes.txt").count() == 1

    page.goto(f"/{repo_id}/settings")
    page.check("input[name=visibility][value=private]")
    page.click("form:has(input[value=visibility]) button[type=submit]")
    page.wait_for_url("**/settings?saved=visibility")
    assert page.locator(".badge-private").is_visible()
    renamed = f"{repo_id}-renamed"
    page.fill("#new-id", renamed)
    page.click("form:has(#new-id) button[type=submit]")
    page.wait_for_url(f"**/{renamed}/settings?saved=move")
    screenshot(page, "settings")
    page.fill("#confirm-name", "wrong/name")
    page.click("form:has(#confirm-name) button[type=submit]")
    assert page.locator(".error", has_text="Type the repository").is_visible()
    page.goto(f"/{renamed}/settings")
    page.fill("#confirm-name", renamed)
    page.click("form:has(#confirm-name) button[type=submit]")
    page.wait_for_url(f"**/{owner.name}")
    assert page.goto(f"/{renamed}").status == 404

"""axe-core (npm, tests/web/package-lock.json) run inside Chromium on the main pages, signed in and
not, on a wide screen and a phone-sized one: no serious or critical violations. The context bypasses
the CSP only to inject axe itself; the pages' own policy is tested in test_security.py."""
from __future__ import annotations

import json
import uuid

import pytest
from huggingface_hub import HfApi

from .conftest import SHOTS, safetensors_bytes, screenshot, sign_in


@pytest.fixture(scope="module")
def sample_repo(endpoint, make_user):
    owner = make_user()
    hf = HfApi(endpoint=endpoint, token=owner.token)
    repo_id = f"{owner.name}/a11y-{uuid.uuid4().hex[:6]}"
    hf.create_repo(repo_id)
    hf.upload_file(path_or_fileobj=b"---\nlicense: mit\ntags: [demo]\n---\n# Demo\n\nText and `code`.\n\n"
                                   b"| a | b |\n|---|---|\n| 1 | 2 |\n", path_in_repo="README.md", repo_id=repo_id)
    hf.upload_file(path_or_fileobj=safetensors_bytes({"w": ("F16", [8, 8])}), path_in_repo="model.safetensors",
                   repo_id=repo_id)
    hf.upload_file(path_or_fileobj=b"id,text\n1,hello\n2,world\n", path_in_repo="data/train.csv", repo_id=repo_id)
    hf.create_discussion(repo_id, title="A question", description="Does it **work**?")
    hf.upload_file(path_or_fileobj=b"id,text\n1,hi\n", path_in_repo="data/train.csv", repo_id=repo_id,
                   create_pr=True, commit_message="Change the data")
    return owner, repo_id


def _violations(page, axe_source: str) -> list[str]:
    page.evaluate(axe_source)
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    return [f"{v['id']} ({v['impact']}): {v['help']} -> {[n['target'] for n in v['nodes']][:3]}"
            for v in result["violations"] if v["impact"] in ("serious", "critical")]


@pytest.mark.parametrize("viewport", [{"width": 1280, "height": 900}, {"width": 390, "height": 844}],
                         ids=["wide", "phone"])
def test_main_pages_have_no_serious_violations(new_page, axe_source, sample_repo, viewport):
    owner, repo_id = sample_repo
    page = new_page(bypass_csp=True, viewport=viewport)
    paths = ["/", "/models", "/login", "/join", "/no-such-page", f"/{repo_id}", f"/{repo_id}/tree/main",
             f"/{repo_id}/blob/main/model.safetensors", f"/{repo_id}/blob/main/data/train.csv",
             f"/{repo_id}/commits/main", f"/{owner.name}", f"/{repo_id}/discussions", f"/{repo_id}/discussions/1",
             f"/{repo_id}/discussions/2", f"/{repo_id}/discussions/2/files"]
    found = {}
    for path in paths:
        page.goto(path)
        found[path] = _violations(page, axe_source)
    page.goto(f"/{repo_id}/commits/main")
    page.click("ol.commit-list li:first-child a.commit-title")
    found["commit"] = _violations(page, axe_source)
    sign_in(page, owner.name, owner.password)
    for path in ("/settings/tokens", "/settings/account", "/new", f"/{repo_id}", f"/{repo_id}/settings",
                 f"/{repo_id}/upload/main", f"/{repo_id}/edit/main/README.md", "/organizations/new",
                 f"/{repo_id}/discussions/new", f"/{repo_id}/discussions/2"):
        page.goto(path)
        found[path] = _violations(page, axe_source)
    if viewport["width"] < 500:
        page.goto(f"/{repo_id}/tree/main")
        screenshot(page, "phone-tree")
    bad = {k: v for k, v in found.items() if v}
    SHOTS.mkdir(exist_ok=True)
    (SHOTS / f"axe-{viewport['width']}.json").write_text(json.dumps(bad, indent=2))
    assert not bad

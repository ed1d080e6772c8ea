"""The web pages of upstream repos: read through the same lookup the API uses (metadata, then the
mirror), so a public upstream repo's card, tree, file, history and commit pages render with the
upstream's content and ids; the old name of a renamed upstream repo answers with the new name's
page; a private upstream repo the visitor may not read is the 404 page; a mirror is read-only here (no write
links, write pages and forms refused). Pages are server-rendered HTML read without JavaScript."""
from __future__ import annotations

import html
import uuid

import httpx


def _text(answer: httpx.Response) -> str:
    return html.unescape(answer.text)


def test_upstream_repo_pages_render(endpoint, upstream, make_user):
    repo = upstream.public
    want = upstream.api.repo_info(repo)
    commits = [c.commit_id for c in upstream.api.list_repo_commits(repo)]
    with httpx.Client(base_url=endpoint, timeout=120) as http:
        card = http.get(f"/{repo}")
        assert card.status_code == 200, card.text[:500]
        assert ">upstream model</h1>" in card.text
        assert 'class="badge badge-mirror"' in card.text and ">mit<" in card.text
        assert f"{repo}/upload/" not in card.text and f"{repo}/settings" not in card.text

        tree = _text(http.get(f"/{repo}/tree/main"))
        assert "config.json" in tree and "weights" in tree and "big.safetensors" in tree
        assert "DEV.txt" not in tree
        assert "DEV.txt" in _text(http.get(f"/{repo}/tree/dev"))
        blob = http.get(f"/{repo}/blob/main/config.json")
        assert blob.status_code == 200 and '"hidden"' in _text(blob)
        lfs = http.get(f"/{repo}/blob/main/weights/model.bin")
        assert lfs.status_code == 200 and f"/{repo}/resolve/{want.sha}/weights/model.bin" in lfs.text
        # Not fetched yet (said so, nothing fetched for a page), or fetched by an earlier download.
        assert "does not hold yet" in lfs.text or "Binary file" in lfs.text
        history = _text(http.get(f"/{repo}/commits/main"))
        assert all(f"/{repo}/commit/{c}" in history for c in commits) and "add files" in history
        commit = http.get(f"/{repo}/commit/{want.sha}")
        assert commit.status_code == 200 and want.sha in commit.text

        # The old name of a renamed upstream repo: the new name's page, the rest of the URL kept.
        moved = http.get(f"/{upstream.renamed_old}/tree/main", follow_redirects=False)
        assert moved.status_code == 301 and moved.headers["location"] == f"/{upstream.renamed_new}/tree/main"
        assert "file.txt" in _text(http.get(moved.headers["location"]))

        # A private upstream repo the visitor has no upstream token for (and the admin token's
        # allowlist does not name): the same 404 page as a missing repo.
        missing = http.get(f"/{upstream.owner.name}/never-existed")
        hidden = f"{upstream.owner.name}/hidden-{uuid.uuid4().hex[:6]}"
        upstream.api.create_repo(hidden, private=True)
        answer = http.get(f"/{hidden}")
        assert answer.status_code == 404
        assert answer.text.replace(hidden, "X") == missing.text.replace(f"{upstream.owner.name}/never-existed", "X")
        # The allowlisted ones are the admin's decision that everyone may read them.
        for allowed in (upstream.private, upstream.gated):
            assert http.get(f"/{allowed}").status_code == 200

    # Read-only for everyone, even someone signed in.
    visitor = make_user()
    with httpx.Client(base_url=endpoint, timeout=60) as http:
        http.post("/api/auth/login", json={"username": visitor.name, "password": visitor.password}).raise_for_status()
        upload = http.get(f"/{repo}/upload/main")
        assert upload.status_code == 403 and "read-only mirror" in upload.text
        form = http.post(f"/{repo}/edit/main/config.json", data={
            "csrf_token": http.cookies["hangar_csrf"], "content": "{}\n", "summary": "overwrite"})
        assert form.status_code == 403
        assert upstream.api.repo_info(repo).sha == want.sha
        assert http.get(f"/api/models/{repo}").json()["sha"] == want.sha

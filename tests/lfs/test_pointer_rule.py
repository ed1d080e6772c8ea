"""A blob whose content is an LFS pointer IS an LFS reference (docs/data-safety.md), whatever route brings
it into a tree: a regular `file` line, `lfsFile`, `copyFile`, git push. An attacker who knows (or,
for a gated repo, reads from the tree listing) the oid and size of someone else's object cannot get
it into their own public repository, and so cannot download the bytes anonymously. The victim's
object is uploaded both through the LFS batch API and through Xet. Legitimate uses keep working."""
from __future__ import annotations

import asyncio
import base64
import json
import os
import uuid

import httpx
import pytest
from huggingface_hub import (
    CommitOperationAdd,
    CommitOperationCopy,
    HfApi,
    constants,
    hf_hub_download,
)

from hangar_common import lfs_pointer
from tests.git.gitutil import git, out

from .lfsutil import batch, create_repo, payload

# --- helpers ------------------------------------------------------------------------------------

def _commit(endpoint: str, token: str, repo_id: str, *ops: dict) -> httpx.Response:
    lines = [{"key": "header", "value": {"summary": "attempt", "description": ""}}, *ops]
    return httpx.post(f"{endpoint}/api/models/{repo_id}/commit/main",
                      content="\n".join(json.dumps(line) for line in lines),
                      headers={"Authorization": f"Bearer {token}", "Content-Type": "application/x-ndjson"},
                      timeout=60)


def _file(path: str, data: bytes) -> dict:
    return {"key": "file", "value": {"path": path, "content": base64.b64encode(data).decode(),
                                     "encoding": "base64"}}


def _variants(oid: str, size: int) -> dict[str, bytes]:
    """Pointer texts git-lfs follows: canonical, CRLF, padded with white space, upper-case oid."""
    canonical = lfs_pointer.encode(oid, size)
    return {"canonical": canonical, "crlf": canonical.replace(b"\n", b"\r\n"),
            "padded": b"\n  \t" + canonical + b"\n\n  ", "upper": canonical.replace(oid.encode(), oid.upper().encode())}


def _refused(resp: httpx.Response, code: str | None = None) -> None:
    assert 400 <= resp.status_code < 500, (resp.status_code, resp.text)
    assert resp.headers.get("X-Error-Code"), resp.headers
    if code:
        assert resp.headers["X-Error-Code"] == code, resp.text


def _git_url(endpoint: str, user, repo_id: str) -> str:
    host = endpoint.split("://", 1)[1]
    return f"http://{user.name}:{user.token}@{host}/{repo_id}.git"


def _push_pointer(endpoint: str, user, repo_id: str, files: dict[str, bytes], work) -> tuple[int, str]:
    """Clone, commit `files` byte-exact (no filters: a client without git-lfs), push without hooks."""
    git("clone", "-q", _git_url(endpoint, user, repo_id), str(work))
    for name, data in files.items():
        blob = out("hash-object", "-w", "--no-filters", "--stdin", cwd=work, input=data)
        git("update-index", "--add", "--cacheinfo", f"100644,{blob},{name}", cwd=work)
    git("-c", "user.name=A", "-c", "user.email=a@example.test", "commit", "-q", "-m", "pointer", cwd=work)
    pushed = git("push", "--no-verify", "origin", "main", cwd=work, check=False)
    return pushed.returncode, pushed.stderr.decode(errors="replace")


def _xet_files(stack, sha256: str) -> int:
    import asyncpg

    async def run():
        conn = await asyncpg.connect(stack.env["HANGAR_DATABASE_URL"], server_settings={"search_path": "lfs"})
        try:
            return await conn.fetchval("SELECT count(*) FROM xet_files WHERE sha256 = $1", sha256)
        finally:
            await conn.close()
    return asyncio.run(run())


@pytest.fixture
def victim_object(stack, endpoint, make_user, monkeypatch, tmp_path):
    """victim_object(visibility, upload) -> (victim, repo_id, commit, path, oid, size): an LFS file in a
    private repo, or in a public repo that is then gated, uploaded through LFS or through Xet."""
    def make(visibility: str, upload: str):
        victim = make_user()
        monkeypatch.setattr(constants, "HF_HUB_DISABLE_XET", upload != "xet")
        monkeypatch.setenv("HF_XET_CACHE", str(tmp_path / f"xet-{uuid.uuid4().hex[:6]}"))
        api = HfApi(endpoint=endpoint, token=victim.token)
        repo_id = create_repo(endpoint, victim.token, private=visibility == "private")
        data, oid = payload(6000)
        info = api.create_commit(repo_id, [CommitOperationAdd("weights.bin", data)], commit_message="weights")
        if visibility == "gated":
            api.update_repo_settings(repo_id, gated="manual")
        assert (_xet_files(stack, oid) > 0) == (upload == "xet")
        return victim, repo_id, info.oid, "weights.bin", oid, len(data)
    return make


def _assert_no_anonymous_download(endpoint: str, repo_id: str, oid: str, size: int) -> None:
    down = batch(endpoint, repo_id, "download", [(oid, size)]).json()
    assert down["objects"][0]["error"]["code"] == 404, down
    for path in ("weights.bin", "stolen-canonical.txt"):
        resolve = httpx.get(f"{endpoint}/{repo_id}/resolve/main/{path}", follow_redirects=False, timeout=30)
        assert resolve.status_code == 404, (path, resolve.status_code)


# --- the attack, on every route -----------------------------------------------------------------

@pytest.mark.parametrize("upload", ["lfs", "xet"])
@pytest.mark.parametrize("visibility", ["private", "gated"])
def test_nobody_can_reference_someone_elses_object_by_any_route(endpoint, make_user, victim_object, tmp_path,
                                                                 visibility, upload):
    victim, victims, victim_commit, path, oid, size = victim_object(visibility, upload)
    attacker = make_user()
    if visibility == "gated":   # no prior knowledge needed: the listing of a gated repo is public
        [entry] = [e for e in HfApi(endpoint=endpoint, token=attacker.token).list_repo_tree(victims) if e.path == path]
        assert (entry.lfs.sha256, entry.lfs.size) == (oid, size)
    theirs = create_repo(endpoint, attacker.token)
    api = HfApi(endpoint=endpoint, token=attacker.token)
    before = api.repo_info(theirs).sha

    for name, text in _variants(oid, size).items():     # a regular file whose content is a pointer
        _refused(_commit(endpoint, attacker.token, theirs, _file(f"stolen-{name}.txt", text)), "LfsObjectMissing")
    _refused(_commit(endpoint, attacker.token, theirs, {"key": "lfsFile", "value": {
        "path": "stolen.bin", "algo": "sha256", "oid": oid, "size": size}}), "LfsObjectMissing")
    _refused(_commit(endpoint, attacker.token, theirs, {"key": "copyFile", "value": {
        "path": path, "srcRevision": victim_commit, "destPath": "stolen-copy.bin"}}))
    for name in ("canonical", "crlf"):                  # git push of a pointer blob without an upload
        code, stderr = _push_pointer(endpoint, attacker, theirs, {f"stolen-{name}.txt": _variants(oid, size)[name]},
                                     tmp_path / f"push-{name}")
        assert code != 0 and "rejected" in stderr and oid in stderr, stderr

    assert api.repo_info(theirs).sha == before                     # nothing landed
    assert [c.commit_id for c in api.list_repo_commits(theirs)] == [before]
    _assert_no_anonymous_download(endpoint, theirs, oid, size)


def test_a_pointer_git_lfs_reads_only_as_smudge_input_stays_a_regular_file(endpoint, make_user, victim_object):
    """A pointer padded past 1024 bytes is no pointer blob for git-lfs's scanner nor for Hangar: it
    lands as a regular file, is served as its own bytes, and gives no access to the object."""
    _, _, _, _, oid, size = victim_object("private", "lfs")
    attacker = make_user()
    theirs = create_repo(endpoint, attacker.token)
    text = lfs_pointer.encode(oid, size) + b"\n" * 1100
    assert _commit(endpoint, attacker.token, theirs, _file("padded.txt", text)).status_code == 200
    [entry] = [e for e in HfApi(endpoint=endpoint).list_repo_tree(theirs) if e.path == "padded.txt"]
    assert entry.lfs is None
    served = httpx.get(f"{endpoint}/{theirs}/resolve/main/padded.txt", follow_redirects=False, timeout=30)
    assert served.status_code == 200 and served.content == text
    down = batch(endpoint, theirs, "download", [(oid, size)]).json()
    assert down["objects"][0]["error"]["code"] == 404


# --- what stays allowed ------------------------------------------------------------------------

def test_pointers_to_objects_you_may_read_land_by_every_route(endpoint, make_user, victim_object, tmp_path):
    owner, repo_id, _, path, oid, size = victim_object("private", "lfs")
    api = HfApi(endpoint=endpoint, token=owner.token)
    # The owner re-commits the pointer as a regular file, copies the LFS file, and squashes history.
    assert _commit(endpoint, owner.token, repo_id, _file("again.bin", _variants(oid, size)["crlf"])).status_code == 200
    api.create_commit(repo_id, [CommitOperationCopy(path, "copy/weights.bin")], commit_message="copy")
    api.super_squash_history(repo_id)
    lfs = {e.path: e.lfs.sha256 for e in api.list_repo_tree(repo_id, recursive=True) if getattr(e, "lfs", None)}
    assert lfs == {"weights.bin": oid, "again.bin": oid, "copy/weights.bin": oid}
    local = hf_hub_download(repo_id, "again.bin", token=owner.token, endpoint=endpoint, cache_dir=str(tmp_path / "c"))
    assert os.path.getsize(local) == size
    # Another user who can read a public repo holding the object may reference it, by REST and by push.
    public = create_repo(endpoint, owner.token)
    assert _commit(endpoint, owner.token, public, _file("w.bin", lfs_pointer.encode(oid, size))).status_code == 200
    reader = make_user()
    mine = create_repo(endpoint, reader.token)
    assert _commit(endpoint, reader.token, mine, _file("ref.bin", lfs_pointer.encode(oid, size))).status_code == 200
    code, stderr = _push_pointer(endpoint, reader, mine, {"pushed.bin": _variants(oid, size)["padded"]},
                                 tmp_path / "push")
    assert code == 0, stderr
    anonymous = hf_hub_download(mine, "pushed.bin", endpoint=endpoint, cache_dir=str(tmp_path / "anon"), token=False)
    assert os.path.getsize(anonymous) == size

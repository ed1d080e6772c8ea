"""A commit or a push that brings LFS pointers is checked once, and the service that owns a fact
sends it instead of being asked back (code health issue, item 3): metadata calls lfs CheckObjects
once, with who references each oid and the namespace's bytes, and lfs calls nothing of metadata
while metadata waits. Observed in the services' own logs (each RPC a service serves is logged with
the request id the caller's X-Request-Id started)."""
from __future__ import annotations

import json
import uuid
from pathlib import Path

import httpx

from hangar_common import lfs_pointer
from tests.git.gitutil import git, out

from .lfsutil import create_repo, payload, upload_basic
from .test_pointer_rule import _commit, _file, _git_url

ASKS_BACK = ("ReposReferencingOids", "NamespaceUsage", "UnreferencedOids")


def _rpcs(stack, service: str, rid: str) -> list[str]:
    """The RPC methods `service` served for request `rid`."""
    found = []
    for line in Path(stack.state, "logs", f"{service}.log").read_text(errors="replace").splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if entry.get("msg") == "rpc" and entry.get("request_id") == rid:
            found.append(entry["method"].rsplit("/", 1)[-1])
    return found


def _object_in_a_public_repo(endpoint, owner) -> tuple[str, int]:
    public = create_repo(endpoint, owner.token)
    data, oid = payload(3000)
    assert upload_basic(endpoint, public, data, oid, owner.token).status_code == 200
    assert _commit(endpoint, owner.token, public, _file("w.bin", lfs_pointer.encode(oid, len(data)))).status_code == 200
    return oid, len(data)


def test_a_commit_asks_lfs_once_and_lfs_asks_nothing_back(stack, endpoint, make_user):
    owner, reader = make_user(), make_user()
    oid, size = _object_in_a_public_repo(endpoint, owner)
    mine = create_repo(endpoint, reader.token)
    rid = f"one-check-{uuid.uuid4().hex}"
    lines = [{"key": "header", "value": {"summary": "ref", "description": ""}},
             {"key": "lfsFile", "value": {"path": "ref.bin", "algo": "sha256", "oid": oid, "size": size}},
             _file("also-ref.bin", lfs_pointer.encode(oid, size))]
    resp = httpx.post(f"{endpoint}/api/models/{mine}/commit/main", content="\n".join(json.dumps(x) for x in lines),
                      headers={"Authorization": f"Bearer {reader.token}", "Content-Type": "application/x-ndjson",
                               "X-Request-Id": rid}, timeout=60)
    # Usable because a public repository references it: lfs knew that from metadata's own message.
    assert resp.status_code == 200, resp.text
    assert _rpcs(stack, "metadata", rid).count("Commit") == 1
    assert _rpcs(stack, "lfs", rid) == ["CheckObjects"]
    assert not set(_rpcs(stack, "metadata", rid)) & set(ASKS_BACK)


def test_a_push_asks_lfs_once_and_lfs_asks_nothing_back(stack, endpoint, make_user, tmp_path):
    owner, reader = make_user(), make_user()
    oid, size = _object_in_a_public_repo(endpoint, owner)
    mine = create_repo(endpoint, reader.token)
    work = tmp_path / "clone"
    git("clone", "-q", _git_url(endpoint, reader, mine), str(work))
    blob = out("hash-object", "-w", "--no-filters", "--stdin", cwd=work, input=lfs_pointer.encode(oid, size))
    git("update-index", "--add", "--cacheinfo", f"100644,{blob},pushed.bin", cwd=work)
    git("-c", "user.name=A", "-c", "user.email=a@example.test", "commit", "-q", "-m", "pointer", cwd=work)
    rid = f"one-push-{uuid.uuid4().hex}"
    pushed = git("-c", f"http.extraHeader=X-Request-Id: {rid}", "push", "--no-verify", "origin", "main",
                 cwd=work, check=False)
    assert pushed.returncode == 0, pushed.stderr
    assert "GitReceive" in _rpcs(stack, "metadata", rid)
    # The git service checks nothing itself; metadata asks lfs once for the whole push.
    assert _rpcs(stack, "lfs", rid) == ["CheckObjects"]
    assert not set(_rpcs(stack, "metadata", rid)) & set(ASKS_BACK)

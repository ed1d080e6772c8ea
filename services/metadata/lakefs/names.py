"""Hub names as lakeFS ids. lakeFS accepts repository ids `^[a-z0-9][a-z0-9-]{2,62}$` and branch and
tag ids `^\\w[-\\w]*$` (no `/`, no `.`); Hub names are wider. A name that already fits is kept; any
other gets a readable slug plus a short hash of the Hub name, so two Hub names never share one id.
The engine stores the mapping (lakefs_repos, lakefs_refs) and never recomputes it for an existing
repository or ref, so a later change of these rules cannot orphan anything."""
from __future__ import annotations

import hashlib
import re

_REPO_OK = re.compile(r"^[a-z0-9][a-z0-9-]{2,62}$")
_REF_OK = re.compile(r"^[A-Za-z0-9_][-A-Za-z0-9_]*$")
_PREFIX = {"model": "m", "dataset": "d", "space": "s"}
MAX_REF = 200


def _digest(text: str, n: int = 8) -> str:
    return hashlib.sha1(text.encode()).hexdigest()[:n]


def repository_id(repo_type: str, namespace: str, name: str, repo_id: int) -> str:
    """`m-alice-my-model-12`: type, readable slug and the Hub's repository number (unique, stable)."""
    slug = re.sub(r"[^a-z0-9]+", "-", f"{namespace}-{name}".lower()).strip("-")
    tail = f"-{repo_id}"
    head = f"{_PREFIX.get(repo_type, 'r')}-"
    slug = slug[: 63 - len(head) - len(tail)].strip("-") or "repo"
    out = f"{head}{slug}{tail}"
    assert _REPO_OK.match(out), out
    return out


def ref_id(hub_ref: str) -> str:
    """lakeFS branch/tag id of a Hub ref: refs/heads/main -> main, refs/pr/3 -> pr-3, v1.0 -> v1-0-<hash>."""
    if hub_ref.startswith("refs/pr/"):
        return f"pr-{hub_ref.removeprefix('refs/pr/')}"
    short = hub_ref.removeprefix("refs/heads/").removeprefix("refs/tags/")
    if _REF_OK.match(short) and len(short) <= MAX_REF and not short.startswith("pr-"):
        return short
    slug = re.sub(r"[^-A-Za-z0-9_]+", "-", short).strip("-")[:MAX_REF - 10] or "ref"
    if not re.match(r"^[A-Za-z0-9_]", slug):
        slug = "r" + slug
    return f"{slug}-{_digest(hub_ref)}"


def storage_namespace(bucket: str, repository: str) -> str:
    return f"s3://{bucket}/lakefs/{repository}"


def blob_key(oid: str) -> str:
    """Where a regular (non-LFS) blob's bytes live for lakeFS to link: once per git blob id."""
    return f"lakefs-blobs/{oid[:2]}/{oid[2:4]}/{oid}"

"""The mirror's test bed: a SECOND Hangar stack plays huggingface.co (the upstream), seeded once per
session with public, private and gated repos, LFS files, branches, tags and a renamed repo; the
session's own stack is the mirror, its mirror service restarted with HANGAR_UPSTREAM_URL pointing at
the upstream through FaultProxy (a real HTTP hop that counts requests and can misbehave)."""
from __future__ import annotations

import hashlib
import os
import time
import uuid
from dataclasses import dataclass, field

import httpx
import pytest
from huggingface_hub import HfApi

from hangar_stack import infra
from hangar_stack.stack import Stack

from ..conftest import register_user
from .proxy import FaultProxy

MIRROR_SETTINGS = ("HANGAR_UPSTREAM_URL", "HANGAR_MIRROR_TTL", "HANGAR_MIRROR_TIMEOUT", "HANGAR_MIRROR_DOWN_FOR",
                   "HANGAR_UPSTREAM_TOKEN", "HANGAR_UPSTREAM_TOKEN_REPOS", "HANGAR_MIRROR_IMPORT_SYNC_EVERY")
# One fresh LFS file per test that needs an object no earlier test fetched.
FAULT_FILES = ("concurrent", "wrong", "short", "err", "slow")


@dataclass
class Upstream:
    stack: Stack
    proxy: FaultProxy
    owner: object
    api: HfApi
    public: str = ""                 # model repo: README, config.json, an LFS file, branch dev, tag v1
    lfs_oids: dict = field(default_factory=dict)
    renamed_old: str = ""
    renamed_new: str = ""
    private: str = ""
    gated: str = ""
    faults: str = ""                 # one fresh LFS file per fault test

    @property
    def endpoint(self) -> str:
        return self.stack.endpoint


def _seed(up: Upstream, tmp) -> None:
    api, ns = up.api, up.owner.name
    up.public = f"{ns}/public-{uuid.uuid4().hex[:6]}"
    api.create_repo(up.public)
    files = {"README.md": b"---\nlicense: mit\n---\n# upstream model\n", "config.json": b'{"hidden": 8}\n',
             "weights/model.bin": os.urandom(3 * 1024 * 1024 + 17), "big.safetensors": os.urandom(2 * 1024 * 1024)}
    folder = tmp / "public"
    for path, data in files.items():
        (folder / path).parent.mkdir(parents=True, exist_ok=True)
        (folder / path).write_bytes(data)
    api.upload_folder(folder_path=str(folder), repo_id=up.public, commit_message="add files")
    api.create_branch(up.public, branch="dev")
    api.upload_file(path_or_fileobj=b"dev only\n", path_in_repo="DEV.txt", repo_id=up.public, revision="dev",
                    commit_message="dev commit")
    api.create_tag(up.public, tag="v1", tag_message="release one")
    up.lfs_oids = {p: hashlib.sha256(d).hexdigest() for p, d in files.items() if p.endswith((".bin", ".safetensors"))}
    # Files no other test downloads (snapshot_download takes the whole public repo).
    up.faults = f"{ns}/faults-{uuid.uuid4().hex[:6]}"
    api.create_repo(up.faults)
    for name in FAULT_FILES:
        data = os.urandom(1024 * 1024 + 5)
        api.upload_file(path_or_fileobj=data, path_in_repo=f"faults/{name}.bin", repo_id=up.faults)
        up.lfs_oids[f"faults/{name}.bin"] = hashlib.sha256(data).hexdigest()
    up.renamed_old = f"{ns}/old-{uuid.uuid4().hex[:6]}"
    up.renamed_new = f"{ns}/new-{uuid.uuid4().hex[:6]}"
    api.create_repo(up.renamed_old)
    api.upload_file(path_or_fileobj=b"renamed\n", path_in_repo="file.txt", repo_id=up.renamed_old)
    api.move_repo(up.renamed_old, up.renamed_new)
    up.private = f"{ns}/private-{uuid.uuid4().hex[:6]}"
    api.create_repo(up.private, private=True)
    up.gated = f"{ns}/gated-{uuid.uuid4().hex[:6]}"
    api.create_repo(up.gated)
    api.update_repo_settings(up.gated, gated="auto")


def pytest_collection_modifyitems(config, items):
    """Tests that disturb the upstream (faults, marking it down: `disturbs_upstream`) run after the
    package's other tests, and those that stop it (`stops_upstream`) after all of them."""
    here = os.path.dirname(__file__) + os.sep

    def rank(item) -> int:
        return 2 if item.get_closest_marker("stops_upstream") else \
            1 if item.get_closest_marker("disturbs_upstream") else 0
    ours = [i for i, item in enumerate(items) if str(item.path).startswith(here)]
    if ours:
        first, last = ours[0], ours[-1] + 1
        items[first:last] = sorted(items[first:last], key=rank)   # stable: module order kept


@pytest.fixture(scope="package")
def upstream(stack, tmp_path_factory):
    """The upstream for tests/mirror only: the session stack's mirror is switched back off when
    this package ends, so later suites see a hub without an upstream (RepoNotFound, not 502)."""
    hub = Stack(state=stack.state / "upstream", port=infra.free_port())
    hub.up()
    proxy = FaultProxy(hub.endpoint)
    try:
        owner = register_user(hub.endpoint)
        up = Upstream(stack=hub, proxy=proxy, owner=owner, api=HfApi(endpoint=hub.endpoint, token=owner.token))
        _seed(up, tmp_path_factory.mktemp("upstream-seed"))
        proxy.git_root = str(tmp_path_factory.mktemp("foreign-git"))
        # The admin-configured upstream token, allowed for the private and gated repos only (imports).
        _restart_mirror(stack, {"HANGAR_UPSTREAM_URL": proxy.url, "HANGAR_MIRROR_TTL": "2",
                                "HANGAR_MIRROR_TIMEOUT": "10", "HANGAR_MIRROR_DOWN_FOR": "3",
                                "HANGAR_UPSTREAM_TOKEN": owner.token,
                                "HANGAR_UPSTREAM_TOKEN_REPOS": f"{up.private},{up.gated}"})
        yield up
    finally:
        _restart_mirror(stack, None)
        proxy.close()
        hub.down()


def _restart_mirror(stack: Stack, settings: dict | None) -> None:
    """The session stack's mirror service with the upstream configured (or off again)."""
    stack.stop_service("mirror")
    for key in MIRROR_SETTINGS:
        stack.env.pop(key, None)
    stack.env.update(settings or {})
    stack.start_service("mirror")


@pytest.fixture(scope="package")
def mirror_api(endpoint, upstream) -> HfApi:
    return HfApi(endpoint=endpoint)


def settled(stack) -> None:
    """Waits until the mirror has stored every object it fetched: a client gets its last byte once
    the hash checked, and the mirror then hands the bytes to lfs, records them (their LRU time) and
    applies the cache bound. A read or a metric looked at before that sees the cache as it was."""
    deadline = time.monotonic() + 120
    while mirror_metric(stack, "hangar_mirror_objects_in_flight") > 0:
        assert time.monotonic() < deadline, "the mirror never finished storing its downloads"
        time.sleep(0.1)


def mirror_metric(endpoint_stack, name: str) -> float:
    port = endpoint_stack.service_ports["mirror"]["http"]
    text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=30).text
    return sum(float(line.split()[-1]) for line in text.splitlines() if line.startswith(name + " ")
               or line.startswith(name + "{"))

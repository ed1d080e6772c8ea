"""Which repository and which smart-HTTP endpoint a request path names.

Models live at `/{ns}/{name}.git`, datasets and spaces at `/{datasets|spaces}/{ns}/{name}.git`; the
`.git` suffix is optional, as git itself allows (gitprotocol-http.txt, "URL Format").
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from hangar_common import edge, errors
from hangar_protos import common_pb2

_PATH = re.compile(
    r"^/(?:(?P<kind>datasets|spaces)/)?(?P<ns>[^/]+)/(?P<name>[^/]+?)(?:\.git)?"
    r"/(?P<endpoint>info/refs|git-upload-pack|git-receive-pack)$")
SERVICES = ("git-upload-pack", "git-receive-pack")


@dataclass(frozen=True)
class GitPath:
    repo: common_pb2.RepoRef
    endpoint: str                  # "info/refs" | "git-upload-pack" | "git-receive-pack"

    @property
    def label(self) -> str:
        return f"{edge.url_prefix(self.repo.type)}{self.repo.namespace}/{self.repo.name}"


def parse(raw_path: str) -> GitPath:
    match = _PATH.match(raw_path)
    if not match or not match["name"] or match["ns"] in (".", ".."):
        raise errors.NotFound("Not a git repository path")
    repo = common_pb2.RepoRef(type=edge.type_of_prefix(match["kind"]), namespace=match["ns"], name=match["name"])
    return GitPath(repo=repo, endpoint=match["endpoint"])

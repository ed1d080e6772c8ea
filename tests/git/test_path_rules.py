"""git's path rules on every route into a tree (services/metadata/pathrules.py): the commit API
(file paths and copy destinations) and git push (trees built byte by byte, as a hostile client
would). Each `.git` alias, `.gitmodules` abuse, escaping symbolic link, malformed object and
Unicode-normalization collision is refused with a 4xx / a rejected ref, and nothing lands;
what git accepts (links inside the tree, decomposed names alone, ordinary submodules) lands."""
from __future__ import annotations

import base64
import json
import unicodedata

import httpx
import pytest

from tests.git.gitutil import git, out

ALIASES = [".GIT/config", "git~1/x", "GIT~1/x", ".git./x", ".git /x", ".git. . /x", ".git::$INDEX_ALLOCATION/x",
           ".g\u200cit/x", ".gi\u200dt/x", "\ufeff.git/x", ".Git\u200e/x"]
BAD_GITMODULES = [
    b'[submodule "x"]\n\tpath = ../x\n\turl = https://example.com/x.git\n',
    b'[submodule "x"]\n\tpath = x\n\turl = ext::sh -c touch% /tmp/pwned\n',
    b'[submodule "x"]\n\tpath = -x\n\turl = https://example.com/x.git\n',
    b'[submodule "x"]\n\tpath = x\n\turl = -upload-pack=evil\n',
    b'[submodule "../../hooks"]\n\tpath = x\n\turl = https://example.com/x.git\n',
    b'[submodule "x"]\n\tpath = x\n\turl = https://example.com/x.git\n\tupdate = !rm -rf ~\n',
]
GOOD_GITMODULES = b'[submodule "lib"]\n\tpath = lib\n\turl = https://example.com/lib.git\n'


# --- helpers ------------------------------------------------------------------------------------

def _commit(hub, user, repo_id: str, *ops: dict) -> httpx.Response:
    lines = [{"key": "header", "value": {"summary": "attempt", "description": ""}}, *ops]
    return httpx.post(f"{hub.endpoint}/api/models/{repo_id}/commit/main",
                      content="\n".join(json.dumps(line) for line in lines),
                      headers={"Authorization": f"Bearer {user.token}", "Content-Type": "application/x-ndjson"},
                      timeout=60)


def _file(path: str, data: bytes = b"x") -> dict:
    return {"key": "file", "value": {"path": path, "content": base64.b64encode(data).decode(), "encoding": "base64"}}


def _refused(resp: httpx.Response) -> None:
    assert 400 <= resp.status_code < 500 and resp.headers.get("X-Error-Code"), (resp.status_code, resp.text)


class Local:
    """A clone whose objects are written byte by byte (no checks of the local git involved)."""

    def __init__(self, hub, user, repo_id: str, path) -> None:
        git("clone", "-q", hub.url(repo_id, user=user), str(path))
        self.path = path
        self.base = out("rev-parse", "HEAD", cwd=path)

    def blob(self, data: bytes) -> str:
        return out("hash-object", "-w", "--no-filters", "--stdin", cwd=self.path, input=data)

    def tree(self, entries: list[tuple[bytes, bytes, str]]) -> str:
        """A tree of (mode, name, oid) entries, in the order given."""
        raw = b"".join(mode + b" " + name + b"\0" + bytes.fromhex(oid) for mode, name, oid in entries)
        return out("hash-object", "-t", "tree", "--literally", "-w", "--stdin", cwd=self.path, input=raw)

    def nested(self, path: bytes, data: bytes = b"x", mode: bytes = b"100644") -> str:
        """A root tree holding `data` at `path` (components as raw bytes)."""
        *dirs, name = path.split(b"/")
        oid = self.tree([(mode, name, self.blob(data))])
        for d in reversed(dirs):
            oid = self.tree([(b"40000", d, oid)])
        return oid

    def push_tree(self, tree: str) -> tuple[int, str]:
        commit = out("-c", "user.name=T", "-c", "user.email=t@example.test", "commit-tree", tree,
                     "-p", self.base, "-m", "push", cwd=self.path)
        return self.push_commit(commit)

    def push_commit(self, commit: str) -> tuple[int, str]:
        done = git("push", "--no-verify", "origin", f"{commit}:refs/heads/main", cwd=self.path, check=False)
        return done.returncode, done.stderr.decode(errors="replace")


@pytest.fixture
def repo(hub, user):
    repo_id = hub.new_repo(user)
    return repo_id, hub.api(user).repo_info(repo_id).sha


def _unchanged(hub, user, repo_id: str, sha: str) -> None:
    assert hub.api(user).repo_info(repo_id).sha == sha


# --- the commit API -----------------------------------------------------------------------------

def test_git_aliases_are_refused_through_the_commit_api(hub, user, repo):
    repo_id, sha = repo
    for path in ALIASES:
        _refused(_commit(hub, user, repo_id, _file(path)))
        _refused(_commit(hub, user, repo_id, _file("ok.txt"), {"key": "copyFile", "value": {
            "path": ".gitattributes", "destPath": path}}))
    _unchanged(hub, user, repo_id, sha)


def test_gitmodules_rules_through_the_commit_api(hub, user, repo):
    repo_id, sha = repo
    for data in BAD_GITMODULES:
        _refused(_commit(hub, user, repo_id, _file(".gitmodules", data)))
        _refused(_commit(hub, user, repo_id, _file("sub/.GITMODULES", data)))    # fsck reads every alias
    _unchanged(hub, user, repo_id, sha)
    assert _commit(hub, user, repo_id, _file(".gitmodules", GOOD_GITMODULES)).status_code == 200


def test_names_differing_only_by_normalization_are_refused(hub, user, repo):
    repo_id, sha = repo
    nfc, nfd = "caf\u00e9.txt", unicodedata.normalize("NFD", "caf\u00e9.txt")
    _refused(_commit(hub, user, repo_id, _file(nfc), _file(nfd)))
    _unchanged(hub, user, repo_id, sha)
    assert _commit(hub, user, repo_id, _file(f"d/{nfd}")).status_code == 200     # alone: kept as given
    assert f"d/{nfd}" in hub.api(user).list_repo_files(repo_id)
    after = hub.api(user).repo_info(repo_id).sha
    _refused(_commit(hub, user, repo_id, _file(f"d/{nfc}")))                     # against the existing one
    _refused(_commit(hub, user, repo_id, _file(unicodedata.normalize("NFD", "\u00e9t\u00e9") + "/a"),
                     _file("\u00e9t\u00e9/b")))                                 # directories too
    _unchanged(hub, user, repo_id, after)


# --- git push -------------------------------------------------------------------------------------

def test_git_aliases_are_refused_through_push(hub, user, repo, tmp_path):
    repo_id, sha = repo
    local = Local(hub, user, repo_id, tmp_path / "w")
    for path in ALIASES:
        code, stderr = local.push_tree(local.nested(path.encode()))
        assert code != 0 and "rejected" in stderr, (path, stderr)
    _unchanged(hub, user, repo_id, sha)


def test_gitmodules_and_link_rules_through_push(hub, user, repo, tmp_path):
    repo_id, sha = repo
    local = Local(hub, user, repo_id, tmp_path / "w")
    bad = [local.nested(b".gitmodules", data) for data in BAD_GITMODULES]
    bad += [local.nested(name, b"README.md", b"120000") for name in (b".gitmodules", b".gitattributes", b".gitignore",
                                                                       b".mailmap", b"gi7eba~1", b".GITMODULES")]
    bad += [local.nested(path, target, b"120000") for path, target in (
        (b"link", b"../outside"), (b"a/link", b"../../outside"), (b"link", b"/etc/passwd"),
        (b"link", b"C:\\Windows"), (b"link", b"sub/.git/config"), (b"link", b"a/../.GIT/hooks"))]
    for tree in bad:
        code, stderr = local.push_tree(tree)
        assert code != 0 and "rejected" in stderr, stderr
    _unchanged(hub, user, repo_id, sha)
    # What git accepts lands: a link inside the tree, a submodule with its .gitmodules.
    inside = local.blob(b"../README.md")
    gitlink = "1" * 40
    docs = local.tree([(b"120000", b"link", inside)])
    root = local.tree([(b"100644", b".gitmodules", local.blob(GOOD_GITMODULES)), (b"40000", b"docs", docs),
                       (b"160000", b"lib", gitlink)])
    code, stderr = local.push_tree(root)
    assert code == 0, stderr
    # Copying that link to the root through the API would make it point outside: refused.
    after = hub.api(user).repo_info(repo_id).sha
    _refused(_commit(hub, user, repo_id, {"key": "copyFile", "value": {"path": "docs/link", "destPath": "link"}}))
    _unchanged(hub, user, repo_id, after)
    assert _commit(hub, user, repo_id, {"key": "copyFile", "value": {
        "path": "docs/link", "destPath": "docs/again"}}).status_code == 200


def test_malformed_and_colliding_trees_and_commits_are_refused(hub, user, repo, tmp_path):
    repo_id, sha = repo
    local = Local(hub, user, repo_id, tmp_path / "w")
    one, sub = local.blob(b"1"), local.tree([(b"100644", b"f", local.blob(b"2"))])
    nfc, nfd = "\u00e9".encode(), unicodedata.normalize("NFD", "\u00e9").encode()
    trees = [
        local.tree([(b"100644", b"a", one), (b"100644", b"a", one)]),                 # duplicate entry
        local.tree([(b"100644", b"a", one), (b"40000", b"a", sub)]),                  # file and dir of one name
        local.tree([(b"100644", b"b", one), (b"100644", b"a", one)]),                 # not sorted
        local.tree([(b"040000", b"d", sub)]),                                         # zero-padded mode
        local.tree([(b"100666", b"a", one)]),                                         # bad mode
        local.tree(sorted([(b"100644", nfc, one), (b"100644", nfd, one)], key=lambda e: e[1])),  # NFC vs NFD
        local.tree([(b"100644", b"a\\..\\b", one)]),                                  # a Windows separator
    ]
    for tree in trees:
        code, stderr = local.push_tree(tree)
        assert code != 0 and "rejected" in stderr, stderr
    no_author = f"tree {sub}\nparent {local.base}\ncommitter T <t@example.test> 1700000000 +0000\n\nx\n".encode()
    commit = out("hash-object", "-t", "commit", "--literally", "-w", "--stdin", cwd=local.path, input=no_author)
    code, stderr = local.push_commit(commit)
    assert code != 0 and "rejected" in stderr, stderr
    _unchanged(hub, user, repo_id, sha)

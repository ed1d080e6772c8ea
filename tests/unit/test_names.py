"""services/metadata/names.py (and the gateway's first check, services/gateway/paths.py) against the
references: repo names against huggingface_hub's `validate_repo_id` (the Hub's rule as the client
knows it), branch and tag names against `git check-ref-format`."""
from __future__ import annotations

import subprocess

import pytest
from huggingface_hub.errors import HFValidationError
from huggingface_hub.utils import validate_repo_id
from hypothesis import given, settings
from hypothesis import strategies as st

from hangar_common.errors import BadRequest, HangarError, InvalidPath
from services.gateway import paths
from services.metadata import names

from .gitcli import ENV


def _hub_accepts(name: str) -> bool:
    try:
        validate_repo_id(name)
    except HFValidationError:
        return False
    return True


def _accepts(check, *args) -> bool:
    try:
        check(*args)
    except HangarError:
        return False
    return True


NAME_CHARS = st.text(alphabet="ab9Z-_.", min_size=1, max_size=8) | st.sampled_from(
    ["a" * 96, "a" * 97, "x.git", "x.GIT", "gpt2", "Foo-BAR_foo.bar123", "a/b", "é", "a b", "-a", "a-", ".a", "a."])


@settings(max_examples=300, deadline=None)
@given(NAME_CHARS)
def test_repo_names_follow_the_hub(name):
    hub = _hub_accepts(name) and "/" not in name
    # The one deliberate difference: `.git` in any case is refused (a clone URL would be ambiguous).
    expected = hub and not name.lower().endswith(".git")
    assert _accepts(names.validate_name, name) == expected
    assert _accepts(paths.repo_name, name) == expected


def test_reserved_namespaces_and_types():
    with pytest.raises(BadRequest):
        names.validate_repo("model", "api", "x")
    with pytest.raises(BadRequest):
        names.validate_repo("notebook", "alice", "x")
    names.validate_repo("dataset", "alice", "x")
    assert paths.split_repo_id("alice/x") == ("alice", "x")
    for bad in ("alice", "a/b/c", "models/x", "alice/x--y"):
        with pytest.raises(BadRequest):
            paths.split_repo_id(bad)
    assert [paths.repo_type(v) for v in (None, "", "models", "Dataset", "space")] == [
        "model", "model", "model", "dataset", "space"]


def _git_ref_ok(full: str) -> bool:
    return subprocess.run(["git", "check-ref-format", full], env=ENV, capture_output=True).returncode == 0


REFS = ["main", "feature/x", "v1.0", "a..b", "x.lock", ".hidden", "a/.b", "sp ace", "a@{b", "@", "a//b", "/a",
        "a/", "a.", "t~1", "t^", "t:x", "q?", "s*", "[x]", "b\\s", "é-日本", "-dash", "with\ttab", "ok-1.2_3",
        "a" * 200, "refs/heads/x", "0" * 40, "0" * 39, "HEAD", "a@b", "{x}"]


@pytest.mark.parametrize("name", REFS)
def test_ref_names_follow_git_check_ref_format(name):
    # Beyond git's rules: a leading '-' (an option to git), `@` and `HEAD` (which would make the
    # revision HEAD ambiguous), a full ref and a commit id are refused.
    extra = name.startswith(("-", "refs/")) or name in ("@", "HEAD", "0" * 40)
    expected = _git_ref_ok(f"refs/heads/{name}") and not extra
    assert _accepts(names.validate_ref_name, name) == expected


@pytest.mark.parametrize("path,ok", [
    ("a.txt", True), ("dir/sub/file.bin", True), ("été/日本.txt", True), ("", False), ("/abs", False),
    ("a/../b", False), ("./a", False), ("a//b", False), ("a\\b", False), ("a\x00b", False), (".git/config", False),
    ("sub/.GIT/x", False), ("x" * 4097, False), ("a\x01b", False),
])
def test_file_paths(path, ok):
    assert _accepts(names.validate_path, path) == ok
    if ok:
        assert names.validate_path(path) == path.split("/")
    assert _accepts(paths.file_path, path) == ok or path in ("sub/.GIT/x",)   # the gateway's check is coarser


def test_existing_entries_may_be_named_by_old_paths():
    with pytest.raises(InvalidPath):
        names.validate_path("old/.GIT/x")
    assert names.validate_path("old/.GIT/x", existing=True) == ["old", ".GIT", "x"]
    with pytest.raises(InvalidPath):
        names.validate_path("a/../b", existing=True)


def test_folders():
    assert [names.normalize_folder(p) for p in ("", "/", ".", "a/", "a/b//")] == ["", "", "", "a", "a/b"]
    assert paths.file_path("a/b/", folder=True) == "a/b"

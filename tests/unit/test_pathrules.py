"""services/metadata/pathrules.py on its own: git's name rules (path.c is_ntfs_dotgit and
is_ntfs_dot_generic, utf8.c is_hfs_dotgit), link targets and .gitmodules values."""
from __future__ import annotations

import pytest

from services.metadata import pathrules

LINK = 0o120000


@pytest.mark.parametrize("name", [".git", ".GIT", ".Git", ".git.", ".git ", ".git. .", "git~1", "GIT~1",
                                  ".git::$INDEX_ALLOCATION", ".git:stream", ".g\u200cit", ".git\u200f", "\ufeff.git",
                                  ".gi\u206at"])
def test_every_spelling_of_dotgit_is_reserved(name):
    assert "reserved" in pathrules.name_problem(name.encode())


@pytest.mark.parametrize("name", [".gitx", "git~2", ".github", ".gitignore", "git", "x.git", ".g it", "g\u200cit"])
def test_names_that_only_look_alike_are_fine(name):
    assert pathrules.name_problem(name.encode()) is None


@pytest.mark.parametrize("name", [".gitmodules", ".GITMODULES", ".gitmodules .", "gitmod~1", "GITMOD~4", "gi7eba~1",
                                  "gi7eba~9", ".gitmodules:x", ".gitm\u200codules"])
def test_gitmodules_aliases(name):
    assert pathrules.is_dotfile(name.encode(), "gitmodules")
    assert "symbolic link" in pathrules.name_problem(name.encode(), LINK)


@pytest.mark.parametrize("name", [".gitmodulesx", "gitmod~5", "gi7eba~0", "gi7ebb~1", "gitmodules"])
def test_gitmodules_lookalikes(name):
    assert not pathrules.is_dotfile(name.encode(), "gitmodules")


def test_other_dotfiles_cannot_be_links_but_can_be_files():
    for name in (b".gitattributes", b"gi7d29~1", b".gitignore", b"gi250a~1", b".mailmap", b"maba30~1"):
        assert pathrules.name_problem(name) is None and pathrules.name_problem(name, LINK)


@pytest.mark.parametrize("path,target,ok", [
    ("link", b"README.md", True), ("a/b/link", b"../../README.md", True), ("a/link", b"./x/../y", True),
    ("link", b"../x", False), ("a/link", b"../../x", False), ("link", b"x/../../y", False),
    ("link", b"/etc/passwd", False), ("link", b"C:/x", False), ("link", b"..\\x", False),
    ("link", b"sub/.git/config", False), ("link", b"GIT~1/hooks", False), ("link", b"", False),
    ("link", b"a" * 5000, False),
])
def test_link_targets(path, target, ok):
    assert (pathrules.link_problem(path, target) is None) is ok


def test_gitmodules_values():
    good = b'[submodule "a"]\n\tpath = lib/a\n\turl = ../a.git\n[submodule "b"]\n\tpath = b\n\turl = git@host:b.git\n'
    assert pathrules.gitmodules_problem(good) is None
    for bad in (b'[submodule "a"]\n\turl = https://h/x%0aevil\n', b'[submodule "a"]\n\turl = ssh://-oProxy/x\n',
                b'[submodule "a"]\n\tpath = /abs\n', b'[submodule "a"]\n\tpath = x/.git/y\n',
                b'[submodule "a\\\\..\\\\b"]\n\tpath = x\n', b'[submodule "a"]\n\turl = FD::3\n',
                b'[submodule "a"\n', b"x" * (pathrules.MAX_GITMODULES + 1)):
        assert pathrules.gitmodules_problem(bad), bad


def test_normalization_key_joins_nfc_and_nfd_and_singletons():
    key = pathrules.normalization_key
    assert key("caf\u00e9".encode()) == key("cafe\u0301".encode())
    assert key("\u212a".encode()) == key(b"K")           # KELVIN SIGN is K once normalized
    assert key(b"readme") != key(b"README")

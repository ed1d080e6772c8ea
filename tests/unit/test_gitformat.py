"""services/metadata/gitformat.py against git itself: object ids equal `git hash-object`, trees equal
`git mktree` (git's ordering, where a directory compares as `name/`), and parsing what git wrote
gives back what git says (`git cat-file`, `git log`)."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest

from services.metadata import gitformat as gf

from .gitcli import Git


@pytest.fixture
def git(tmp_path) -> Git:
    return Git(tmp_path / "repo")


@pytest.mark.parametrize("data", [b"", b"hello\n", bytes(range(256)) * 40, b"no newline", "été 日本\n".encode()])
def test_blob_ids_are_gits(git, data):
    assert gf.blob(data).oid == git.hash_object("blob", data, write=False)
    assert gf.raw_object(gf.BLOB, data).oid == gf.blob(data).oid


def test_trees_are_byte_for_byte_what_git_mktree_writes(git):
    a, b = git.hash_object("blob", b"a\n"), git.hash_object("blob", b"b\n")
    sub = git.text("mktree", input=f"100644 blob {a}\tinner.txt\n".encode())
    link = git.hash_object("blob", b"target/path")
    # Names chosen where git's order differs from plain byte order: `foo` as a directory sorts
    # as `foo/`, after `foo.txt` and `foo-bar`, while a file `foo` would sort before them.
    entries = {b"foo": (gf.DIR_MODE, sub), b"foo.txt": (gf.FILE_MODE, a), b"foo-bar": (gf.EXEC_MODE, b),
               b"link": (gf.LINK_MODE, link), "été".encode(): (gf.FILE_MODE, b), b"Zed": (gf.FILE_MODE, a)}
    listing = "".join(f"{mode:06o} {'tree' if gf.is_dir(mode) else 'blob'} {oid}\t{name.decode()}\n"
                      for name, (mode, oid) in entries.items())
    expected = git.text("mktree", input=listing.encode())
    built = gf.tree(entries)
    assert built.oid == expected
    assert built.data == git("cat-file", "tree", expected)
    assert gf.tree({}).oid == gf.EMPTY_TREE == git.text("mktree", input=b"")
    parsed = gf.parse_tree(built.data)
    assert [i.name for i in parsed] == [b"Zed", b"foo-bar", b"foo.txt", b"foo", b"link", "été".encode()]
    assert {i.name: (i.mode, i.oid) for i in parsed} == entries
    ls = git.text("ls-tree", expected).splitlines()
    assert [line.split("\t", 1)[1] for line in ls][-1] == '"\\303\\251t\\303\\251"'   # git quotes non-ASCII


def test_commit_round_trip_with_git(git):
    tree = git.text("mktree", input=f"100644 blob {git.hash_object('blob', b'x')}\tx\n".encode())
    when = datetime(2024, 5, 6, 7, 8, 9, tzinfo=UTC)
    root = gf.commit(tree, [], author=gf.identity("alice"), message="First\n\nbody line\n", when=when)
    assert git.hash_object("commit", root.data) == root.oid
    child = gf.commit(tree, [root.oid], author=gf.identity(""), message="Second", when=when)
    assert git.hash_object("commit", child.data) == child.oid
    git("fsck", "--strict", "--no-dangling")
    assert git.text("log", "--format=%H %T %P|%an|%ae|%at|%s", child.oid).splitlines() == [
        f"{child.oid} {tree} {root.oid}|hangar|hangar@users.noreply.hangar|{int(when.timestamp())}|Second",
        f"{root.oid} {tree} |alice|alice@users.noreply.hangar|{int(when.timestamp())}|First"]
    facts = gf.parse_commit(root.oid, git.cat(root.oid))
    assert (facts.tree, facts.parents, facts.author_name, facts.author_email, facts.date, facts.title) == (
        tree, (), "alice", "alice@users.noreply.hangar", when, "First")
    assert facts.message == "First\n\nbody line\n"


def test_parse_commit_reads_commits_git_made(git):
    git.write_files({"a.txt": b"one\n"})
    git("add", "a.txt")
    git("commit", "-q", "-m", "subject line\n\nmore text")
    git.write_files({"a.txt": b"two\n"})
    git("commit", "-q", "-am", "second")
    head = git.text("rev-parse", "HEAD")
    facts = gf.parse_commit(head, git.cat(head))
    assert facts.tree == git.text("rev-parse", "HEAD^{tree}")
    assert facts.parents == (git.text("rev-parse", "HEAD~1"),)
    assert (facts.author_name, facts.author_email, facts.title) == ("unit", "unit@example.com", "second")
    assert facts.date == datetime.fromtimestamp(1700000000, UTC)
    first = gf.parse_commit(facts.parents[0], git.cat(facts.parents[0]))
    assert first.title == "subject line" and first.message.startswith("subject line\n\nmore text")


def test_annotated_tags_git_accepts_and_parses(git):
    tree = git.text("mktree", input=b"")
    c = gf.commit(tree, [], author=gf.identity("bob"), message="c\n")
    git.hash_object("commit", c.data)
    tag = gf.annotated_tag("v1.0", c.oid, gf.COMMIT, tagger=gf.identity("bob"), message="release")
    assert git.hash_object("tag", tag.data) == tag.oid
    git("fsck", "--strict", "--no-dangling")
    assert git.text("cat-file", "-p", tag.oid).splitlines()[:3] == [f"object {c.oid}", "type commit", "tag v1.0"]
    assert gf.parse_tag(tag.data) == (gf.COMMIT, c.oid)


def test_lfs_pointer_blobs_carry_their_facts():
    oid = "a" * 64
    pointer = gf.lfs_pointer(oid, 42)
    assert gf.blob(pointer).lfs_oid == oid and gf.blob(pointer).lfs_size == 42
    assert gf.parse_lfs_pointer(pointer) == (oid, 42)
    plain = gf.blob(b"version 1\n")
    assert plain.lfs_oid is None and plain.lfs_size is None


def test_modes_and_dates():
    assert gf.is_dir(gf.DIR_MODE) and not gf.is_dir(gf.FILE_MODE) and not gf.is_dir(gf.GITLINK_MODE)
    assert gf.is_gitlink(gf.GITLINK_MODE) and not gf.is_gitlink(gf.LINK_MODE)
    assert gf.rfc3339(datetime(2024, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)) == "2024-01-02T03:04:05.678Z"

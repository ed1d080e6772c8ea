"""services/metadata/treeops.py against git's index: the same edits applied by TreeEditor (reading
existing trees from a real git repository) and by `git update-index` + `git write-tree` give the
same root tree id, byte for byte."""
from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hangar_common.errors import BadRequest, EntryNotFound
from services.metadata import gitformat as gf
from services.metadata.treeops import TreeEditor

from .gitcli import Git


class GitTrees:
    """Trees read from (and new ones written to) a real git object database."""

    def __init__(self, git: Git) -> None:
        self.git = git
        self.read: dict[str, tuple[gf.TreeItem, ...]] = {}   # objects are immutable: read each once

    async def tree(self, oid: str) -> tuple[gf.TreeItem, ...]:
        if oid not in self.read:
            self.read[oid] = gf.parse_tree(self.git("cat-file", "tree", oid))
        return self.read[oid]

    def write(self, objects: list[gf.RawObject]) -> None:
        for obj in objects:
            assert self.git.hash_object("tree", obj.data) == obj.oid


def _index_tree(git: Git, files: dict[str, tuple[int, str]]) -> str:
    git("read-tree", "--empty")
    if files:
        listing = "".join(f"{mode:o} {oid}\t{path}\n" for path, (mode, oid) in files.items())
        git("update-index", "--add", "--index-info", input=listing.encode())
    return git.text("write-tree", "--missing-ok")   # blobs need not exist for their ids to be named


BASE = {"README.md": b"hi\n", "a/b/c.txt": b"c\n", "a/b/d.txt": b"d\n", "a/e.bin": b"e\n", "z.txt": b"z\n",
        "foo.txt": b"f\n", "foo-bar/x": b"x\n", "deep/1/2/3/4.txt": b"4\n"}


@pytest.fixture(scope="module")
def git(tmp_path_factory) -> Git:
    return Git(tmp_path_factory.mktemp("trees") / "repo")


@pytest.fixture(scope="module")
def base(git) -> tuple[dict[str, tuple[int, str]], str, GitTrees]:
    files = _files(git, BASE)
    return files, _index_tree(git, files), GitTrees(git)


def _files(git: Git, contents: dict[str, bytes]) -> dict[str, tuple[int, str]]:
    return {p: (gf.FILE_MODE, git.hash_object("blob", data, write=False)) for p, data in contents.items()}


PATHS = st.sampled_from(["README.md", "a/b/c.txt", "a/b/new.txt", "a/e.bin", "new/dir/file", "foo", "foo/x",
                         "foo-bar/x", "deep/1/2/3/4.txt", "deep/1/other", "z.txt", "a"])
FOLDERS = st.sampled_from(["a", "a/b", "deep", "deep/1/2", "foo-bar", "new", ""])
OPS = st.lists(st.one_of(st.tuples(st.just("put"), PATHS, st.binary(max_size=4)),
                         st.tuples(st.just("delete"), PATHS, st.just(b"")),
                         st.tuples(st.just("delete_folder"), FOLDERS, st.just(b""))), max_size=8)


def _parents(path: str) -> list[str]:
    parts = path.split("/")
    return ["/".join(parts[:i]) for i in range(1, len(parts))]


def _expected(files: dict, dirs: set, op: str, path: str, oid: str) -> tuple[dict, set] | None:
    """What the edit does to a flat {path: entry} map and to the folders the editor holds (a folder
    emptied in this commit is still there until the tree is built); None: it must be refused."""
    under = {p for p in files if p.startswith(path + "/")} if path else set(files)
    inner = {d for d in dirs if d.startswith(path + "/")} if path else set(dirs)
    if op == "put":
        if path in dirs or any(p in files for p in _parents(path)):
            return None
        return {**files, path: (gf.FILE_MODE, oid)}, dirs | set(_parents(path))
    if op == "delete" and path in files:
        return {p: e for p, e in files.items() if p != path}, dirs
    if path not in dirs and path:   # a folder named without its slash is deleted as a folder
        return None
    return {p: e for p, e in files.items() if p not in under}, dirs - inner - {path}


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=OPS)
async def test_edits_match_git_write_tree(git, base, ops):
    files, root, source = base
    dirs = {d for p in files for d in _parents(p)}
    editor = TreeEditor(source, root)
    for op, path, data in ops:
        oid = gf.blob(data).oid   # a blob id git need not hold: trees only name it
        expected = _expected(files, dirs, op, path, oid)
        try:
            if op == "put":
                await editor.put(path, gf.FILE_MODE, oid)
            elif op == "delete":
                await editor.delete_file(path)
            else:
                await editor.delete_folder(path)
        except (BadRequest, EntryNotFound):
            assert expected is None, (op, path)
            continue
        assert expected is not None, (op, path)
        files, dirs = expected
    new_root, new_trees = editor.build()
    source.write(new_trees)
    assert new_root == _index_tree(git, files)
    for path, (mode, oid) in files.items():
        assert await TreeEditor(source, new_root).get(path) == (mode, oid)


async def test_unchanged_subtrees_keep_their_ids_and_only_changed_trees_are_new(git):
    files = _files(git, BASE)
    root = _index_tree(git, files)
    source = GitTrees(git)
    editor = TreeEditor(source, root)
    await editor.put("a/b/c.txt", gf.EXEC_MODE, files["a/b/c.txt"][1])
    new_root, new_trees = editor.build()
    source.write(new_trees)
    # Root, a and a/b are rewritten; deep/..., foo-bar stay as they were.
    assert len(new_trees) == 3 and new_trees[-1].oid == new_root
    assert git.text("rev-parse", f"{new_root}:deep") == git.text("rev-parse", f"{root}:deep")


async def test_emptied_tree_is_gits_empty_tree(git):
    root = _index_tree(git, _files(git, {"only/file": b"x"}))
    editor = TreeEditor(GitTrees(git), root)
    await editor.delete_file("only/file")
    new_root, new_trees = editor.build()
    assert new_root == gf.EMPTY_TREE and [t.oid for t in new_trees] == [gf.EMPTY_TREE]


async def test_refusals_name_the_conflict(git):
    root = _index_tree(git, _files(git, BASE))
    editor = TreeEditor(GitTrees(git), root)
    with pytest.raises(BadRequest, match="'z.txt' is a file") as file_in_way:
        await editor.put("z.txt/inner", gf.FILE_MODE, gf.EMPTY_TREE)
    assert file_in_way.value.code == "PathConflict"
    with pytest.raises(BadRequest, match="a folder exists"):
        await editor.put("a/b", gf.FILE_MODE, gf.EMPTY_TREE)
    with pytest.raises(EntryNotFound):
        await editor.delete_folder("z.txt")
    assert await editor.get("a") is None and await editor.get("missing/x") is None

"""services/metadata/wildmatch.py against git's own answers: which files `git ls-files --ignored`
finds ignored for a set of rules (gitignore: last match wins, a file in an ignored directory stays
ignored, `!` re-includes), and what `git check-attr filter` says for .gitattributes lines."""
from __future__ import annotations

import pytest

from services.metadata import wildmatch

from .gitcli import Git

FILES = ["a.txt", "b.bin", "README.md", "docs/a.txt", "docs/deep/x.log", "docs/deep/keep.log", "logs/app.log",
         "src/logs/old.log", "src/main.py", "build/out/lib.so", "foo/bar/baz.txt", "foo/qux/baz.txt",
         "x/foo/baz.txt", "data/[x].csv", "data/sp ace.csv", "data/q1.csv", "data/qq.csv", ".hidden",
         "nested/.hidden", "a/b/c/d.txt", "abc", "bcd", "#notcomment", "trail.txt"]

# Each set of rules is what a .gitignore (or the client's ignore list) may say.
RULES = [
    ["*.txt"],
    ["/a.txt"],
    ["docs/"],
    ["docs/*"],
    ["docs/*.txt"],
    ["**/baz.txt"],
    ["foo/**/baz.txt"],
    ["foo/**"],
    ["**/logs"],
    ["logs/"],
    ["*.log", "!keep.log"],
    ["docs/", "!docs/a.txt"],           # a file inside an ignored directory cannot be re-included
    ["data/q?.csv"],
    ["data/[!q]*.csv"],
    ["data/\\[x\\].csv"],
    ["data/sp ace.csv"],
    ["trail.txt   "],                   # trailing spaces are dropped
    ["\\#notcomment"],
    ["# a comment", "", "abc"],
    ["[ab]*"],
    [".*"],
    ["a/**/d.txt"],
    ["/build"],
    ["*", "!*/", "!*.py"],
]


@pytest.fixture(scope="module")
def tree(tmp_path_factory) -> Git:
    git = Git(tmp_path_factory.mktemp("wild") / "repo")
    git.write_files({path: b"x\n" for path in FILES})
    return git


@pytest.mark.parametrize("rules", RULES, ids=[" | ".join(r) for r in RULES])
def test_ignore_rules_agree_with_git(tree, tmp_path, rules):
    rules_file = tmp_path / "rules"
    rules_file.write_text("\n".join(rules) + "\n")
    git_ignored = set(tree.text("ls-files", "--others", "--ignored", f"--exclude-from={rules_file}").splitlines())
    ours = wildmatch.IgnoreRules(rules)
    assert {p for p in FILES if ours.ignored(p)} == git_ignored


ATTRIBUTES = [
    "*.bin filter=lfs diff=lfs merge=lfs -text",
    "*.bin filter=lfs\nspecial.bin -filter",
    "*.bin filter=lfs\ndocs/** filter=lfs\ndocs/deep/* !filter",
    "/a.txt filter=lfs",
    "docs/*.txt filter=lfs",
    "*.log filter=lfs\nkeep.log filter=other",
    "data/q?.csv filter=lfs",
    "**/baz.txt filter=lfs",
    "foo/ filter=lfs",                  # directory-only lines never apply to files
    "# *.txt filter=lfs\nREADME.md filter=lfs",
]


@pytest.mark.parametrize("attributes", ATTRIBUTES)
def test_lfs_attributes_agree_with_git_check_attr(tree, attributes):
    (tree.work / ".gitattributes").write_text(attributes + "\n")
    paths = [*FILES, "special.bin", "sub/special.bin"]
    answer = tree.text("check-attr", "filter", "--", *paths)
    git_lfs = {line.split(": ")[0] for line in answer.splitlines() if line.endswith(": filter: lfs")}
    rules = wildmatch.lfs_patterns(attributes)
    assert {p for p in paths if wildmatch.is_lfs(rules, p)} == git_lfs


def test_compile_pattern_skips_blanks_and_comments():
    assert wildmatch.compile_pattern("") is None
    assert wildmatch.compile_pattern("   ") is None
    assert wildmatch.compile_pattern("# comment") is None
    assert wildmatch.compile_pattern("/") is None
    p = wildmatch.compile_pattern("!build/")
    assert p is not None and p.negated and p.dir_only

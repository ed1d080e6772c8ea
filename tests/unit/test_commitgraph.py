"""services/metadata/commitgraph.py against git's own graph walks on the same history: reachability
(`git rev-list`), exclusion (`A ^B`), ancestry (`merge-base --is-ancestor`), depth-limited walks (what
`git clone --depth` fetches and marks shallow)."""
from __future__ import annotations

import itertools
import subprocess

import pytest

from services.metadata import gitformat as gf
from services.metadata.commitgraph import CommitGraph

from .gitcli import ENV, Git


@pytest.fixture(scope="module")
def history(tmp_path_factory) -> tuple[Git, dict[str, str], CommitGraph]:
    """main: A - B - C - M - E, side: B - S1 - S2 merged at M, topic: C - T (not merged), tag on S1."""
    git = Git(tmp_path_factory.mktemp("graph") / "repo")
    names: dict[str, str] = {}

    def commit(name: str) -> None:
        git.write_files({f"{name}.txt": name.encode()})
        git("add", "-A")
        git("commit", "-q", "-m", name)
        names[name] = git.text("rev-parse", "HEAD")

    commit("A")
    commit("B")
    git("checkout", "-q", "-b", "side")
    commit("S1")
    commit("S2")
    git("checkout", "-q", "main")
    commit("C")
    git("checkout", "-q", "-b", "topic")
    commit("T")
    git("checkout", "-q", "main")
    git("merge", "-q", "--no-ff", "-m", "M", "side")
    names["M"] = git.text("rev-parse", "HEAD")
    commit("E")
    parents, trees = {}, {}
    for oid in git.text("rev-list", "--all").split():
        facts = gf.parse_commit(oid, git.cat(oid))
        parents[oid], trees[oid] = facts.parents, facts.tree
    return git, names, CommitGraph(parents, trees)


def _rev_list(git: Git, *args: str) -> set[str]:
    return set(git.text("rev-list", *args).split())


@pytest.mark.parametrize("tip", ["E", "M", "T", "S2", "A"])
def test_reachable_is_rev_list(history, tip):
    git, n, graph = history
    assert graph.reachable([n[tip]]) == _rev_list(git, n[tip])


@pytest.mark.parametrize("tip,stop", [("E", "T"), ("T", "E"), ("E", "S1"), ("M", "C"), ("S2", "S2")])
def test_reachable_with_stop_is_rev_list_exclusion(history, tip, stop):
    git, n, graph = history
    # rev-list A ^B leaves out everything B reaches; the graph walk stops at `stop` and at what it
    # reaches, which is what a fetch with `have` lines needs.
    have = graph.reachable([n[stop]])
    assert graph.reachable([n[tip]], stop=have) == _rev_list(git, n[tip], f"^{n[stop]}")


def test_is_ancestor_is_merge_base(history):
    git, n, graph = history
    for a, b in itertools.permutations(["A", "B", "C", "S1", "S2", "M", "T", "E"], 2):
        done = subprocess.run(["git", "merge-base", "--is-ancestor", n[a], n[b]], cwd=git.work, env=ENV)
        assert graph.is_ancestor(n[a], n[b]) == (done.returncode == 0), (a, b)


@pytest.mark.parametrize("depth", [1, 2, 3, 5])
def test_depth_walk_matches_a_shallow_clone(history, tmp_path, depth):
    git, n, graph = history
    clone = tmp_path / "shallow"
    done = subprocess.run(
        ["git", "clone", "-q", "--no-local", f"--depth={depth}", "--branch=main", str(git.work), str(clone)],
        env=ENV, capture_output=True)
    assert done.returncode == 0, done.stderr
    shallow = Git.__new__(Git)
    shallow.work = clone
    in_clone = set(shallow.text("rev-list", "HEAD").split())
    boundary = set((clone / ".git" / "shallow").read_text().split()) if (clone / ".git" / "shallow").exists() else set()
    included, ours = graph.within_depth([n["E"]], depth, stop=set())
    assert included == in_clone
    # git also lists a root commit that sits exactly at the depth; it has no parents to cut, so the
    # walk leaves it out of the boundary and the clone is the same.
    assert ours == {oid for oid in boundary if graph.parents[oid]}


def test_topological_puts_parents_first(history):
    git, n, graph = history
    every = graph.reachable([n["E"], n["T"]])
    order = graph.topological(every)
    assert set(order) == every and len(order) == len(every)
    position = {oid: i for i, oid in enumerate(order)}
    for oid in every:
        assert all(position[p] < position[oid] for p in graph.parents[oid])
    # git's own topological order is one valid answer: each commit after its parents as well.
    assert set(git.text("rev-list", "--topo-order", "--reverse", n["E"], n["T"]).split()) == every


def test_shallow_commits_do_not_lead_further(history):
    git, n, graph = history
    assert graph.reachable([n["E"]], no_parents={n["M"]}) == {n["E"], n["M"]}
    graph2 = CommitGraph(dict(graph.parents), dict(graph.trees))
    graph2.add("f" * 40, [n["E"]], gf.EMPTY_TREE)
    assert "f" * 40 in graph2 and graph2.is_ancestor(n["A"], "f" * 40)

"""A repository's commit graph (indexes.load_graph reads it from the commit index in one query), for
the graph walks of the git transport: reachability, shallow boundaries, fast-forward checks. Pure."""
from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Set


class CommitGraph:
    def __init__(self, parents: dict[str, tuple[str, ...]], trees: dict[str, str]) -> None:
        self.parents = parents
        self.trees = trees

    def __contains__(self, oid: str) -> bool:
        return oid in self.parents

    def add(self, oid: str, parents: Iterable[str], tree: str) -> None:
        self.parents[oid] = tuple(parents)
        self.trees[oid] = tree

    def reachable(self, starts: Iterable[str], *, stop: Set[str] = frozenset(),
                  no_parents: Set[str] = frozenset()) -> set[str]:
        """Commits reachable from `starts` (inclusive), not entering `stop`, not following the
        parents of `no_parents` (shallow commits)."""
        seen: set[str] = set()
        queue = deque(s for s in starts if s in self.parents and s not in stop)
        while queue:
            oid = queue.popleft()
            if oid in seen:
                continue
            seen.add(oid)
            if oid in no_parents:
                continue
            for p in self.parents.get(oid, ()):
                if p in self.parents and p not in seen and p not in stop:
                    queue.append(p)
        return seen

    def within_depth(self, starts: Iterable[str], depth: int, *, stop: set[str]) -> tuple[set[str], set[str]]:
        """Commits at most `depth` generations from `starts` (a start is at depth 1) and the shallow
        boundary: included commits whose parents are left out because of the depth."""
        dist: dict[str, int] = {}
        queue = deque((s, 1) for s in starts if s in self.parents)
        while queue:
            oid, d = queue.popleft()
            if oid in dist and dist[oid] <= d:
                continue
            dist[oid] = d
            if d < depth:
                queue.extend((p, d + 1) for p in self.parents.get(oid, ()) if p in self.parents)
        included = {o for o in dist if o not in stop}
        boundary = {o for o, d in dist.items() if d >= depth and self.parents.get(o)}
        return included, boundary

    def is_ancestor(self, ancestor: str, descendant: str) -> bool:
        return ancestor in self.reachable([descendant])

    def topological(self, commits: set[str]) -> list[str]:
        """`commits` ordered parents first."""
        order, done = [], set()
        for start in commits:
            stack = [(start, False)]
            while stack:
                oid, expanded = stack.pop()
                if oid in done:
                    continue
                if expanded:
                    done.add(oid)
                    order.append(oid)
                    continue
                stack.append((oid, True))
                stack.extend((p, False) for p in self.parents.get(oid, ()) if p in commits and p not in done)
        return order

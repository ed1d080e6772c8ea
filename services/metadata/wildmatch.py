"""gitignore / gitattributes pattern matching (git's wildmatch, Documentation/gitignore.txt):
`*` and `?` stop at `/`, `**` spans directories, a pattern without a slash matches the basename at
any depth, a leading slash (or any inner slash) anchors it at the root, a trailing slash matches
directories only, `!` re-includes (gitignore only)."""
from __future__ import annotations

import re
from dataclasses import dataclass


def _translate(pattern: str) -> str:
    out, i, n = [], 0, len(pattern)
    while i < n:
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("/**", i) and i + 3 == n:
            out.append("/.*")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif pattern[i] == "*":
            out.append("[^/]*")
            i += 1
        elif pattern[i] == "?":
            out.append("[^/]")
            i += 1
        elif pattern[i] == "[":
            end = pattern.find("]", i + 2)
            if end == -1:
                out.append(re.escape("["))
                i += 1
            else:
                body = pattern[i + 1:end]
                if body.startswith("!"):
                    body = "^" + body[1:]
                out.append("[" + body.replace("\\", "\\\\") + "]")
                i = end + 1
        elif pattern[i] == "\\" and i + 1 < n:
            out.append(re.escape(pattern[i + 1]))
            i += 2
        else:
            out.append(re.escape(pattern[i]))
            i += 1
    return "".join(out)


@dataclass(frozen=True)
class Pattern:
    regex: re.Pattern
    negated: bool
    dir_only: bool


def compile_pattern(line: str) -> Pattern | None:
    line = line.rstrip("\n\r")
    if not line.strip() or line.startswith("#"):
        return None
    if not line.endswith("\\ "):
        line = line.rstrip(" ")
    negated = line.startswith("!")
    if negated:
        line = line[1:]
    dir_only = line.endswith("/")
    line = line.rstrip("/")
    if not line:
        return None
    anchored = "/" in line
    body = _translate(line.lstrip("/"))
    regex = re.compile(("" if anchored else "(?:.*/)?") + body + r"\Z", re.DOTALL)
    return Pattern(regex, negated, dir_only)


class IgnoreRules:
    """gitignore semantics for file paths: the last matching rule wins, and a file inside an
    ignored directory stays ignored."""

    def __init__(self, lines: list[str]) -> None:
        self.patterns = [p for p in (compile_pattern(line) for line in lines) if p is not None]

    def _match(self, path: str, is_dir: bool) -> bool | None:
        result = None
        for p in self.patterns:
            if p.dir_only and not is_dir:
                continue
            if p.regex.match(path):
                result = not p.negated
        return result

    def ignored(self, path: str) -> bool:
        parts = path.split("/")
        for i in range(1, len(parts)):
            if self._match("/".join(parts[:i]), True):
                return True
        return bool(self._match(path, False))


def lfs_patterns(gitattributes: str) -> list[tuple[Pattern, bool]]:
    """(pattern, sets filter=lfs) for every line of a .gitattributes that mentions `filter`."""
    out = []
    for line in gitattributes.splitlines():
        parts = line.split()
        if not parts or parts[0].startswith("#"):
            continue
        state = None
        for attr in parts[1:]:
            if attr == "filter=lfs":
                state = True
            elif attr.startswith(("filter=", "-filter", "!filter")):
                state = False
        if state is not None:
            pattern = compile_pattern(parts[0])
            if pattern is not None and not pattern.negated:
                out.append((pattern, state))
    return out


def is_lfs(rules: list[tuple[Pattern, bool]], path: str) -> bool:
    """gitattributes: the last line matching the path decides (directory-only lines never match)."""
    result = False
    for pattern, state in rules:
        if not pattern.dir_only and pattern.regex.match(path):
            result = state
    return result

"""The error codes are a closed list (hangar_common.codes.Code, docs/errors.md): this reads the
source of the services and the shared library and finds every code they raise or answer with, the
way a reader would: `code=` and `error_code=` arguments, `code = ...` class attributes and
assignments (both branches of a conditional), defaults and positional arguments of helpers that take
a `code`, `X-Error-Code` header values and the `codes` table of unmatched routes."""
from __future__ import annotations

import ast
import re
from pathlib import Path

from hangar_common.codes import Code

ROOT = Path(__file__).resolve().parents[2]
SOURCES = [ROOT / "services", ROOT / "libs" / "hangar_common"]

CODE_NAMES = {"code", "error_code"}


def _strings(node) -> list[str]:
    """String constants a code expression may evaluate to (a literal, either branch of `a if c else b`)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "Code":
        return [node.attr]   # a member of hangar_common.codes.Code
    if isinstance(node, ast.IfExp):
        return _strings(node.body) + _strings(node.orelse)
    if isinstance(node, ast.BoolOp):
        return [s for v in node.values for s in _strings(v)]
    return []


def _callee(node: ast.Call) -> str:
    return getattr(node.func, "attr", getattr(node.func, "id", ""))


NOT_ERRORS = {"highlight_code", "_fence_highlight"}   # there `code` is source text to highlight


def _is_dataclass(node: ast.ClassDef) -> bool:
    names = (getattr(d, "id", getattr(getattr(d, "func", None), "id", "")) for d in node.decorator_list)
    return "dataclass" in names


def _code_params(tree) -> dict[str, int]:
    """Functions and dataclasses of a module with a `code`-named parameter: name -> its position
    in a call's arguments."""
    found = {}
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name not in NOT_ERRORS:
            names = [a.arg for a in node.args.args]
            if names[:1] in (["self"], ["cls"]):
                names = names[1:]
            for index, name in enumerate(names):
                if name in CODE_NAMES:
                    found[node.name] = index
        elif isinstance(node, ast.ClassDef) and _is_dataclass(node):   # Decision(allowed, error_code, ...)
            fields = [s.target.id for s in node.body if isinstance(s, ast.AnnAssign) and isinstance(s.target, ast.Name)]
            for index, name in enumerate(fields):
                if name in CODE_NAMES:
                    found[node.name] = index
    return found


def codes_in(source: str) -> list[tuple[str, int]]:
    """(code, line) for every error code `source` raises or answers with."""
    tree = ast.parse(source)
    params = _code_params(tree)
    found: list[tuple[str, int]] = []

    def add(node, line):
        found.extend((s, line) for s in _strings(node))

    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            for keyword in node.keywords:
                if keyword.arg in CODE_NAMES:
                    add(keyword.value, node.lineno)
            index = params.get(_callee(node))
            if index is not None:
                if index < len(node.args):
                    add(node.args[index], node.lineno)
            if _callee(node) == "get" and isinstance(node.func, ast.Attribute) and \
                    isinstance(node.func.value, ast.Name) and node.func.value.id == "codes" and len(node.args) > 1:
                add(node.args[1], node.lineno)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            args = node.args.args
            for arg, default in zip(args[len(args) - len(node.args.defaults):], node.args.defaults):
                if arg.arg in CODE_NAMES:
                    add(default, node.lineno)
            for arg, default in zip(node.args.kwonlyargs, node.args.kw_defaults):
                if arg.arg in CODE_NAMES and default is not None:
                    add(default, node.lineno)
        elif isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Name) and target.id in CODE_NAMES:
                    add(node.value, node.lineno)
                elif isinstance(target, ast.Name) and target.id == "codes" and isinstance(node.value, ast.Dict):
                    for value in node.value.values:
                        add(value, node.lineno)
                elif isinstance(target, ast.Tuple) and isinstance(node.value, ast.Tuple):
                    for t, v in zip(target.elts, node.value.elts):
                        if isinstance(t, ast.Name) and t.id in CODE_NAMES:
                            add(v, node.lineno)
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.target.id in CODE_NAMES \
                and node.value is not None:
            add(node.value, node.lineno)
        elif isinstance(node, ast.Dict):
            for key, value in zip(node.keys, node.values):
                if isinstance(key, ast.Constant) and isinstance(key.value, str) and key.value.lower() == "x-error-code":
                    add(value, node.lineno)
    return [(code, line) for code, line in found if code]   # "" is no error (an allowed decision)


def raised_codes() -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for folder in SOURCES:
        for path in sorted(folder.rglob("*.py")):
            for code, line in codes_in(path.read_text()):
                found.setdefault(code, []).append(f"{path.relative_to(ROOT)}:{line}")
    return found


def test_every_code_raised_is_on_the_list():
    unknown = {code: where for code, where in raised_codes().items() if code not in Code.__members__}
    assert not unknown, f"declare these in libs/hangar_common/codes.py and docs/errors.md: {unknown}"


def test_every_code_on_the_list_is_raised_somewhere():
    assert not set(Code.__members__) - set(raised_codes())


def test_members_are_their_wire_strings():
    assert all(member.value == name for name, member in Code.__members__.items())
    assert Code.RepoNotFound == "RepoNotFound" and f"{Code.GatedRepo}" == "GatedRepo"


def test_the_docs_table_lists_every_code_with_its_status():
    table = (ROOT / "docs" / "errors.md").read_text()
    rows = re.findall(r"^\| `(\w+)` \| ([^|]+) \| ([^|]+) \|$", table, re.M)
    assert sorted(code for code, _, _ in rows) == sorted(Code.__members__)
    assert all(re.search(r"\b[1-5](\d\d|xx)\b", status) and meaning.strip() for _, status, meaning in rows)


def test_the_scan_sees_each_way_a_code_is_written():
    source = """
class Refused(BadRequest):
    code = "ClassCode"
def _bad(message, code="DefaultCode"):
    return BadRequest(message, code=code)
def f(which):
    _bad("x", "PositionalCode")
    raise HangarError("x", code="KeywordCode" if which else "OtherBranchCode")
    code = "AssignedCode"
    return Response(headers={"X-Error-Code": "HeaderCode"})
"""
    assert {code for code, _ in codes_in(source)} == {
        "ClassCode", "DefaultCode", "PositionalCode", "KeywordCode", "OtherBranchCode", "AssignedCode", "HeaderCode"}

"""Input no route of the hub can accept, refused at the edge with a 400 before any handler runs.

- URLs: a path or query that does not decode to UTF-8, or that holds a control character (NUL, CR,
  LF, ...). No repo name, revision, file path or query value of the Hub protocol contains one, and
  PostgreSQL cannot even store a NUL in text.
- JSON: strings with a NUL character or a lone UTF-16 surrogate (`"\\ud800"`: valid JSON text, but
  not a Unicode string any encoder, gRPC or PostgreSQL accepts).
"""
from __future__ import annotations

import re
from urllib.parse import unquote_to_bytes

_CONTROL = re.compile(rb"[\x00-\x1f\x7f]")
_SURROGATE = re.compile("[\ud800-\udfff]")
MAX_JSON_DEPTH = 64


def _decoded_problem(raw: bytes, what: str) -> str:
    decoded = unquote_to_bytes(raw)
    try:
        decoded.decode("utf-8")
    except UnicodeDecodeError:
        return f"The request {what} is not valid UTF-8 once percent-decoded"
    if _CONTROL.search(decoded):
        return f"The request {what} holds a control character (such as NUL, CR or LF)"
    return ""


def url_problem(scope) -> str:
    """Why the URL of an ASGI request cannot name anything, or ""."""
    raw_path = scope.get("raw_path") or scope.get("path", "").encode("utf-8", "surrogateescape")
    problem = _decoded_problem(raw_path, "path")
    if not problem and scope.get("query_string"):
        problem = _decoded_problem(scope["query_string"].replace(b"+", b" "), "query")
    return problem


def text_problem(value: str) -> str:
    if "\x00" in value:
        return "text must not contain NUL characters"
    if _SURROGATE.search(value):
        return "text must be valid Unicode (it holds a lone surrogate)"
    return ""


def json_problem(value, depth: int = 0) -> str:
    """The first problem of any string (key or value) in a decoded JSON document, or ""."""
    if isinstance(value, str):
        return text_problem(value)
    if depth > MAX_JSON_DEPTH:
        return "JSON nested too deeply"
    if isinstance(value, dict):
        for key, item in value.items():
            problem = text_problem(key) or json_problem(item, depth + 1)
            if problem:
                return problem
    elif isinstance(value, list):
        for item in value:
            problem = json_problem(item, depth + 1)
            if problem:
                return problem
    return ""

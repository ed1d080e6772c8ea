"""Property fuzz of the gateway (issue 10): no input gives a server error.

- schemathesis over the gateway's OpenAPI schema (the app's own `openapi()`: the schema is not
  served publicly), every operation, schema-valid and schema-violating data, with a fuzz user's token;
- a hypothesis property test over the repo routes the schema leaves out (they route on the raw,
  %-encoded path): arbitrary namespaces, names, revisions, paths and bodies, against a real repo of
  the fuzz user and against repos that do not exist.

The budget is bounded (a few hundred requests each, well under two minutes on this machine). Every
answer must be below 500; a 503 would have to carry Retry-After (none is expected on a healthy hub)."""
from __future__ import annotations

import json
from urllib.parse import quote

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode

from hangar_common.config import Settings
from services.gateway.app import build

RAW_SCHEMA = build(Settings.from_env("gateway")).openapi()
schema = schemathesis.openapi.from_dict(RAW_SCHEMA)
schema.config.generation.update(modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE])

OPENAPI_EXAMPLES = 6          # per operation (x ~60 operations)
REPO_EXAMPLES = 300


def _no_server_error(status: int, headers, where: str, body: str) -> None:
    if status == 503:
        assert headers.get("retry-after"), where
    assert status < 500, f"{where} -> {status}: {body[:500]}"


@pytest.fixture(scope="module")
def fuzzer(make_user):
    """A user of its own: the fuzz may revoke its tokens, change its settings, delete its repos."""
    return make_user()


@pytest.fixture(scope="module")
def fuzz_repo(endpoint, fuzzer) -> str:
    with httpx.Client(base_url=endpoint, headers={"Authorization": f"Bearer {fuzzer.token}"}) as http:
        assert http.post("/api/repos/create", json={"name": "fuzzed", "type": "model"}).status_code == 200
    return f"{fuzzer.name}/fuzzed"


def test_the_schema_covers_the_gateway():
    assert len(RAW_SCHEMA["paths"]) >= 30


@schema.parametrize()
@settings(max_examples=OPENAPI_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck),
          derandomize=True)
def test_openapi_operations_never_answer_a_server_error(case, endpoint, fuzzer):
    # Its write token: revoking it (DELETE /api/auth/tokens/{id} with a fuzzed id) would only hit the
    # fuzzer's own tokens, and its read token keeps the fuzz authenticated if the write one goes.
    headers = {"Authorization": f"Bearer {fuzzer.read_token if case.method == 'DELETE' else fuzzer.token}"}
    response = case.call(base_url=endpoint, headers={**(case.headers or {}), **headers}, timeout=30)
    _no_server_error(response.status_code, response.headers, f"{case.method} {case.formatted_path}",
                     response.text)


# --- repo routes outside the schema ----------------------------------------------------------------

TEXT = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=24)
SEGMENT = st.one_of(TEXT, st.sampled_from(["main", "refs/pr/1", "refs%2Fpr%2F1", "..", ".", "%00", "%ff",
                                          "HEAD", "v1", "a" * 300, "%2e%2e", "~1", ".git", "README.md"]))
ROUTES = [
    ("GET", ""), ("HEAD", ""), ("GET", "/revision/{rev}"), ("GET", "/tree/{rev}/{path}"),
    ("GET", "/tree/{rev}"), ("POST", "/paths-info/{rev}"), ("GET", "/refs"), ("GET", "/commits/{rev}"),
    ("POST", "/preupload/{rev}"), ("POST", "/commit/{rev}"), ("POST", "/branch/{rev}"),
    ("DELETE", "/branch/{rev}"), ("POST", "/tag/{rev}"), ("DELETE", "/tag/{rev}"), ("PUT", "/settings"),
    ("GET", "/discussions"), ("POST", "/discussions"), ("GET", "/discussions/{rev}"),
    ("POST", "/discussions/{rev}"), ("GET", "/likers"), ("POST", "/like"), ("GET", "/auth-check"),
    ("POST", "/super-squash/{rev}"), ("POST", "/ask-access"), ("RESOLVE", "{rev}/{path}"),
]
JSON_VALUES = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | TEXT,
                           lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXT, inner, max_size=4),
                           max_leaves=12)
NDJSON_LINE = st.one_of(
    st.fixed_dictionaries({"key": st.sampled_from(["header", "file", "lfsFile", "deletedFile",
                                                   "deletedFolder", "copyFile", "nope"]),
                           "value": st.dictionaries(st.sampled_from(["path", "content", "encoding", "summary",
                                                                     "oid", "size", "algo", "srcPath",
                                                                     "srcRevision", "parentCommit"]),
                                                    JSON_VALUES, max_size=5)}),
    JSON_VALUES)
BODY = st.one_of(
    st.none(),
    st.binary(max_size=200),
    JSON_VALUES.map(lambda v: json.dumps(v).encode()),
    st.lists(NDJSON_LINE, max_size=5).map(lambda lines: b"".join(json.dumps(x).encode() + b"\n" for x in lines)),
)


def _quoted(segment: str) -> str:
    return segment if "%" in segment else quote(segment, safe="/")


@given(route=st.sampled_from(ROUTES), kind=st.sampled_from(["models", "datasets", "spaces"]),
       own=st.booleans(), namespace=SEGMENT, name=SEGMENT, rev=SEGMENT, path=SEGMENT, body=BODY,
       anonymous=st.booleans())
@settings(max_examples=REPO_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck),
          derandomize=True)
def test_repo_routes_never_answer_a_server_error(endpoint, fuzzer, fuzz_repo, route, kind, own, namespace,
                                                 name, rev, path, body, anonymous):
    method, template = route
    repo = fuzz_repo if own else f"{_quoted(namespace) or 'x'}/{_quoted(name) or 'y'}"
    suffix = template.format(rev=_quoted(rev) or "main", path=_quoted(path) or "f")
    if method == "RESOLVE":
        prefix = "" if kind == "models" else f"/{kind}"
        method, url = "GET", f"{prefix}/{repo}/resolve/{suffix}"
    else:
        url = f"/api/{kind if not own else 'models'}/{repo}{suffix}"
    headers = {} if anonymous else {"Authorization": f"Bearer {fuzzer.token}"}
    if body is not None and template.startswith("/commit"):
        headers["Content-Type"] = "application/x-ndjson"
    with httpx.Client(base_url=endpoint, timeout=30) as http:
        try:
            resp = http.request(method, url, content=body, headers=headers)
        except httpx.InvalidURL:
            return  # not a request a client can send
    _no_server_error(resp.status_code, resp.headers, f"{method} {url}", resp.text)


def test_fuzzed_repo_is_still_consistent(endpoint, fuzzer, fuzz_repo):
    """Whatever the fuzz committed or refused, the repo answers and its tip's files download."""
    with httpx.Client(base_url=endpoint, headers={"Authorization": f"Bearer {fuzzer.token}"}, timeout=30) as http:
        info = http.get(f"/api/models/{fuzz_repo}")
        if info.status_code == 404:  # the fuzz may have deleted or moved it: nothing to check
            return
        assert info.status_code == 200, info.text
        for sibling in info.json()["siblings"][:50]:
            got = http.get(f"/{fuzz_repo}/resolve/main/{quote(sibling['rfilename'])}")
            assert got.status_code in (200, 302), (sibling, got.status_code)

"""Error bodies disclose nothing internal (issue 10, item 5).

Bad input is a 4xx with X-Error-Code, on every route and through every service it crosses; a real
500 says "Internal error" and the request id, and its details go to the log only. Messages that
quote non-ASCII input cross gRPC intact (UTF-8 in `-bin` trailers).
"""
from __future__ import annotations

import base64
import json
import re
import uuid

import grpc
import httpx
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from hangar_common import errors, grpcio
from hangar_common.http import create_app

# What an error body must never hold: SQL, driver and exception class names, internal addresses.
LEAKS = re.compile(r"SELECT |INSERT |UPDATE |\[SQL|sqlalchemy|asyncpg|Traceback|<class |Error'>|"
                   r"127\.0\.0\.1:\d+|ipv4:|Invalid metadata|redis|grpc", re.I)


def assert_clean_4xx(resp: httpx.Response, *statuses: int):
    assert 400 <= resp.status_code < 500, (resp.request.url, resp.status_code, resp.text[:300])
    if statuses:
        assert resp.status_code in statuses, (resp.request.url, resp.status_code, resp.text[:300])
    assert resp.headers.get("x-error-code"), (resp.request.url, resp.headers)
    assert not LEAKS.search(resp.text), resp.text[:500]
    assert not LEAKS.search(resp.headers.get("x-error-message", "")), resp.headers


@pytest.fixture(scope="module")
def owner(make_user):
    return make_user()


@pytest.fixture(scope="module")
def http(endpoint, owner):
    with httpx.Client(base_url=endpoint, headers={"Authorization": f"Bearer {owner.token}"}, timeout=60) as client:
        yield client


@pytest.fixture(scope="module")
def repo(http, owner) -> str:
    name = f"err-{uuid.uuid4().hex[:8]}"
    assert http.post("/api/repos/create", json={"name": name}).status_code == 200
    return f"{owner.name}/{name}"


@pytest.mark.parametrize("url", [
    "/api/models/%00/x", "/api/models/{repo}/revision/main%00", "/api/models/{repo}/tree/%00",
    "/{repo}/resolve/%00/README.md", "/api/users/%00/overview", "/api/organizations/a%00b/members",
    "/{ns}%00/x/info/refs?service=git-upload-pack", "/{repo}.git/info/lfs/locks?path=%00",
    "/api/models/{repo}/tree/main?cursor=%00", "/api/models/{repo}/xet-read-token/main%00",
])
def test_nul_in_names_and_revisions_is_a_clean_400(http, repo, url):
    url = url.format(repo=repo, ns=repo.split("/")[0])
    for method in ("GET", "HEAD"):
        assert_clean_4xx(http.request(method, url), 400)


@pytest.mark.parametrize("url", ["/api/models/{repo}/tree/%FF", "/api/models/%C3%28/x",
                                 "/{repo}/resolve/main/%ED%A0%80"])
def test_invalid_utf8_in_the_url_is_a_clean_400(http, repo, url):
    assert_clean_4xx(http.get(url.format(repo=repo)), 400)


def test_non_ascii_names_cross_grpc_intact(http, endpoint):
    # auth answers "User ... not found" quoting the name: over gRPC that used to fail as "Invalid metadata".
    resp = http.get("/api/users/%C3%A9t%C3%A9-%E6%97%A5/overview")
    assert_clean_4xx(resp, 404)
    assert "été-日" in resp.json()["error"]
    assert resp.headers["x-error-message"].isascii()
    resp = httpx.get(f"{endpoint}/api/models/%C3%A9/%F0%9F%98%80")
    assert_clean_4xx(resp, 401, 404)


@pytest.mark.parametrize("body", [
    {"username": "a\x00b", "password": "pw-12345678"},
    {"username": "\ud800", "password": "pw-12345678"},
    {"username": "ok", "password": "\x00" * 10},
])
def test_nul_and_lone_surrogates_in_json_bodies(endpoint, body):
    raw = json.dumps(body).encode()  # json.dumps escapes both as \\u0000 / \\ud800: valid JSON text
    for url in ("/api/auth/login", "/api/auth/register"):
        resp = httpx.post(f"{endpoint}{url}", content=raw, headers={"Content-Type": "application/json"})
        assert_clean_4xx(resp, 400, 422)


def test_nul_in_other_json_bodies(http, repo):
    def post(url, body, method="POST"):
        return http.request(method, url, content=json.dumps(body).encode(),
                            headers={"Content-Type": "application/json"})
    assert_clean_4xx(post(f"/api/users/{repo.split('/')[0]}/settings", {"fullname": "a\x00"}, "PUT"), 400, 422)
    assert_clean_4xx(post(f"/api/models/{repo}/paths-info/main", {"paths": ["a\x00"]}), 400)
    assert_clean_4xx(post(f"/api/models/{repo}/branch/b1", {"startingPoint": "main\x00"}), 400)
    assert_clean_4xx(post(f"/{repo}.git/info/lfs/locks", {"path": "a\x00b"}), 400, 422)
    ndjson = (json.dumps({"key": "header", "value": {"summary": "s\x00"}}) + "\n").encode()
    assert_clean_4xx(http.post(f"/api/models/{repo}/commit/main", content=ndjson,
                               headers={"Content-Type": "application/x-ndjson"}), 400)


@pytest.mark.parametrize("header", [b"Basic \xff\xfe", b"Basic " + base64.b64encode("\u00e9:\u00e9".encode()),
                                    b"Bearer \xc3\xa9t\xc3\xa9", b"Basic w6k="])
def test_non_ascii_credentials_are_401(endpoint, repo, header):
    for method, url in (("GET", "/api/whoami-v2"), ("GET", f"/{repo}/info/refs?service=git-upload-pack"),
                        ("POST", f"/{repo}.git/info/lfs/objects/batch")):
        body = b'{"operation":"download","objects":[]}' if method == "POST" else None
        resp = httpx.request(method, f"{endpoint}{url}", headers=[(b"Authorization", header)], content=body)
        assert_clean_4xx(resp, 401)


@pytest.mark.parametrize("query", ["cursor=99999999999999999999999", "cursor=-1", "limit=99999999999999999999"])
def test_out_of_range_numbers_are_400(http, repo, owner, query):
    assert_clean_4xx(http.get(f"/api/models/{repo}/user-access-request/pending?{query}"), 400, 403, 422)
    assert_clean_4xx(http.get(f"/api/organizations/{owner.name}/members?{query}"), 400, 404, 422)


def test_validate_yaml_errors_with_non_latin1_text(endpoint):
    content = "---\nlicense: [\"\U0001f600\", {\"a\": 1}]\npipeline_tag: 日本\u0000\n---\n"
    resp = httpx.post(f"{endpoint}/api/validate-yaml", json={"content": content})
    assert resp.status_code in (200, 400), resp.text
    assert resp.json().keys() >= {"errors", "warnings"}


# --- a real 500, and the gRPC error path, without the session stack -----------------------------

async def test_an_unexpected_exception_is_internal_error_with_request_id():
    app = create_app("probe")

    @app.get("/boom")
    async def boom():
        raise RuntimeError("SELECT secret FROM t WHERE host='127.0.0.1:5432' (asyncpg)")

    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://probe") as client:
        resp = await client.get("/boom", headers={"X-Request-Id": "rid-123"})
    assert resp.status_code == 500
    assert resp.json() == {"error": "Internal error", "request_id": "rid-123"}
    assert resp.headers["x-error-code"] == "InternalError"
    assert resp.headers["x-request-id"] == "rid-123"
    assert "rid-123" in resp.headers["x-error-message"] and not LEAKS.search(resp.text)


async def _probe(request: bytes, context) -> bytes:
    """A real gRPC method that fails in the ways servicers do."""
    if request == b"bug":
        raise RuntimeError("SELECT * FROM accounts -- at ipv4:127.0.0.1:5432")
    if request == b"quote":
        raise errors.NotFound("User été-日本\x00 not found", code="UserNotFound")
    if request == b"down":
        raise ConnectionRefusedError(111, "Connect call failed ('127.0.0.1', 5432)")
    return b"ok"


async def _probe_stream(request: bytes, context):
    """A streaming method (an async generator, as ListTree is) failing after its first message."""
    yield b"first"
    if request == b"quote":
        raise errors.NotFound("Path été-日本 not found", code="EntryNotFound")
    raise RuntimeError("SELECT * FROM repo_commits -- at ipv4:127.0.0.1:5432")


async def _probe_write(request: bytes, context) -> None:
    """A streaming method written as a coroutine with context.write()."""
    await context.write(b"first")
    raise errors.Conflict("Branch moved", code="ParentMismatch")


def _add_probe(_servicer, server):
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler("probe.Probe", {
        "Call": grpc.unary_unary_rpc_method_handler(_probe),
        "Stream": grpc.unary_stream_rpc_method_handler(_probe_stream),
        "Write": grpc.unary_stream_rpc_method_handler(_probe_write),
    }),))


async def _drain(rpc_call) -> list:
    got = []
    async for message in grpcio.stream(rpc_call):
        got.append(message)
    return got


async def test_grpc_errors_cross_services_without_internals():
    server, _health = grpcio.create_server([(_add_probe, None)], [])
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    try:
        channel = grpcio.channel(f"127.0.0.1:{port}")
        probe = channel.unary_unary("/probe.Probe/Call")
        assert await grpcio.call(probe, b"fine") == b"ok"
        with pytest.raises(errors.HangarError) as bug:
            await grpcio.call(probe, b"bug")
        assert (bug.value.status, bug.value.code, bug.value.message) == (500, "InternalError", "Internal error")
        with pytest.raises(errors.HangarError) as quote:
            await grpcio.call(probe, b"quote")
        assert (quote.value.status, quote.value.code) == (404, "UserNotFound")
        assert quote.value.message == "User été-日本\x00 not found"
        with pytest.raises(errors.Unavailable) as down:
            await grpcio.call(probe, b"down")
        assert down.value.status == 503 and "5432" not in down.value.message
        assert down.value.headers["Retry-After"].isdigit()
        # Streaming handlers carry no decorator either: the server's interceptor maps their errors.
        stream = channel.unary_stream("/probe.Probe/Stream")
        with pytest.raises(errors.HangarError) as streamed:
            await _drain(stream(b"quote"))
        assert (streamed.value.status, streamed.value.code) == (404, "EntryNotFound")
        assert streamed.value.message == "Path été-日本 not found"
        with pytest.raises(errors.HangarError) as streamed_bug:
            await _drain(stream(b"bug"))
        assert (streamed_bug.value.status, streamed_bug.value.message) == (500, "Internal error")
        with pytest.raises(errors.HangarError) as written:
            await _drain(channel.unary_stream("/probe.Probe/Write")(b""))
        assert (written.value.status, written.value.code) == (409, "ParentMismatch")
        await channel.close()
    finally:
        await server.stop(None)
    # A peer that is not there at all: 503, and the message does not name its address.
    channel = grpcio.channel("127.0.0.1:1")
    with pytest.raises(errors.Unavailable) as gone:
        await grpcio.call(health_pb2_grpc.HealthStub(channel).Check, health_pb2.HealthCheckRequest(), timeout=2)
    assert "127.0.0.1" not in gone.value.message
    await channel.close()

"""Dependency outages under a light load of real requests (issue 10, item 3): Redis, PostgreSQL and
S3 stopped and started again, then each killed with SIGKILL and healed by the launcher's supervisor.

While a dependency is down nothing answers 500 or names an internal address; what cannot work
answers 503 with Retry-After and X-Error-Code; once it is back the hub recovers by itself (no
restart of any service) and no acknowledged commit is lost."""
from __future__ import annotations

import time

import httpx
import pytest
from huggingface_hub import HfApi, hf_hub_download

from tests.resilience.load import Load, assert_no_server_error


@pytest.fixture(scope="module")
def api(own_stack, hub_user) -> HfApi:
    return HfApi(endpoint=own_stack.endpoint, token=hub_user.token)


@pytest.fixture(scope="module")
def repo(api, hub_user) -> str:
    repo_id = f"{hub_user.name}/outages"
    api.create_repo(repo_id)
    api.upload_file(path_or_fileobj=b"# outages\n", path_in_repo="README.md", repo_id=repo_id)
    return repo_id


@pytest.fixture(scope="module")
def acknowledged() -> list[str]:
    """Every commit id the hub acknowledged over the whole module: none may ever go missing."""
    return []


@pytest.fixture()
def load(own_stack, hub_user, repo, acknowledged):
    running = Load(own_stack.endpoint, hub_user.token, repo)
    yield running
    running.stop()
    acknowledged.extend(running.acknowledged)


def _port(stack, name: str) -> int:
    return next(r["port"] for r in stack.records if r["name"] == name)


def _outage(stack, load: Load, name: str, seconds: float = 6.0):
    """Stop `name` with the load running, keep it down, start it again; the answers of the outage."""
    load.wait_recovered()
    load.start()
    time.sleep(1.0)
    stack.stop_service(name)
    during_from = len(load.answers)
    time.sleep(seconds)
    during = load.answers[during_from:]
    stack.start_service(name)
    load.stop()
    return during


def _history(api: HfApi, repo: str) -> set[str]:
    return {c.commit_id for c in api.list_repo_commits(repo)}


def test_redis_outage_authentication_keeps_working(own_stack, load, api, hub_user, repo):
    """Redis holds only caches and counters: with it down every request of the load still succeeds
    (tokens from the database), health says degraded, not down; a token revocation, which must
    reach the shared cache, is a clean 503 that changes nothing; after Redis returns the first
    revocation works (no stale pooled connection) and the revoked token is refused."""
    endpoint, port = own_stack.endpoint, _port(own_stack, "redis")
    with httpx.Client(base_url=endpoint, headers={"Authorization": f"Bearer {hub_user.token}"}) as http:
        spare = http.post("/api/auth/tokens/create", json={"name": "spare", "role": "read"}).json()
    load.wait_recovered()
    load.start()
    own_stack.stop_service("redis")
    during_from = len(load.answers)
    try:
        with httpx.Client(base_url=endpoint, timeout=30) as http:
            health = http.get("/health")
            assert health.status_code == 200 and health.json()["status"] == "degraded", health.text
            assert health.json()["down"] == ["redis"]
            bearer = {"Authorization": f"Bearer {hub_user.token}"}
            assert http.get("/api/whoami-v2", headers=bearer).json()["name"] == hub_user.name
            login = http.post("/api/auth/login", json={"username": hub_user.name, "password": hub_user.password})
            assert login.status_code == 200, login.text  # the throttle fails open by default
            refused = http.delete(f"/api/auth/tokens/{spare['id']}", headers=bearer)
            assert refused.status_code == 503, refused.text
            spare_auth = {"Authorization": f"Bearer {spare['token']}"}
            assert http.get("/api/whoami-v2", headers=spare_auth).status_code == 200  # not revoked
            time.sleep(3)
    finally:
        during = load.answers[during_from:]
        own_stack.start_service("redis")
        load.stop()
    assert_no_server_error(during, hidden=(f":{port}",))
    assert [a for a in during if a.status != 200] == [], "everything works without Redis"
    with httpx.Client(base_url=endpoint, timeout=30, headers={"Authorization": f"Bearer {hub_user.token}"}) as http:
        assert http.delete(f"/api/auth/tokens/{spare['id']}").status_code == 200
        assert http.get("/api/whoami-v2", headers={"Authorization": f"Bearer {spare['token']}"}).status_code == 401
    load.wait_recovered()
    assert set(load.acknowledged) <= _history(api, repo)


def test_postgres_outage_is_503_then_recovers(own_stack, load, api, repo):
    port = _port(own_stack, "postgres")
    during = _outage(own_stack, load, "postgres")
    unavailable = assert_no_server_error(during, hidden=(f":{port}", "asyncpg", "sqlalchemy"))
    assert any(a.kind == "commit" for a in unavailable), "commits cannot land without PostgreSQL"
    load.wait_recovered()
    after = len(load.answers)
    with load.client() as http:
        for _ in range(5):  # every pooled connection was broken by the restart: none is handed out
            load.round(http)
    assert all(a.status == 200 for a in load.answers[after:])
    assert set(load.acknowledged) <= _history(api, repo)


def test_s3_outage_is_503_and_nothing_half_written(own_stack, load, api, repo):
    """With S3 down, an LFS upload fails as a whole: the branch does not move to a commit whose
    objects are missing. After S3 returns, every LFS file at the tip downloads."""
    port = _port(own_stack, "s3")
    load.wait_recovered()
    api.upload_file(path_or_fileobj=b"before the outage" * 100, path_in_repo="weights/before.bin", repo_id=repo)
    load.start()
    own_stack.stop_service("s3")
    during_from = len(load.answers)
    try:
        tip = api.repo_info(repo).sha
        with pytest.raises(Exception):  # noqa: B017 (the client sees a 503, or S3 refusing the connection)
            api.upload_file(path_or_fileobj=b"during the outage" * 100, path_in_repo="weights/during.bin",
                            repo_id=repo)
        files = api.list_repo_files(repo)
        assert "weights/during.bin" not in files
        with httpx.Client(base_url=own_stack.endpoint, timeout=30) as http:
            lfs_read = http.get(f"/{repo}/resolve/main/weights/before.bin", follow_redirects=False,
                                headers={"Authorization": f"Bearer {load.token}"})
            assert lfs_read.status_code in (302, 503), lfs_read.text
            health = http.get("/health")
            assert health.status_code == 503 and "s3" in health.json()["down"]
        time.sleep(2)
    finally:
        during = load.answers[during_from:]
        own_stack.start_service("s3")
        load.stop()
    assert_no_server_error(during, hidden=(f":{port}", "urllib3", "MaxRetryError"))
    load.wait_recovered()
    info = api.repo_info(repo, files_metadata=True)
    assert info.sha != tip or "weights/during.bin" not in [s.rfilename for s in info.siblings]
    for sibling in info.siblings:
        if sibling.rfilename.endswith(".bin"):
            path = hf_hub_download(repo, sibling.rfilename, endpoint=own_stack.endpoint, token=load.token,
                                   force_download=True)
            assert open(path, "rb").read() == b"before the outage" * 100
    api.upload_file(path_or_fileobj=b"after the outage" * 100, path_in_repo="weights/after.bin", repo_id=repo)
    assert set(load.acknowledged) <= _history(api, repo)


@pytest.mark.parametrize("name", ["redis", "postgres", "s3", "auth", "metadata", "gateway", "traefik"])
def test_kill_9_is_healed_by_the_supervisor(own_stack, load, api, repo, name):
    """SIGKILL of one process under load: the supervisor starts it again on its ports, the hub
    answers 200 again by itself, and no acknowledged commit is lost."""
    load.wait_recovered()
    load.start()
    time.sleep(1.0)
    before = own_stack.kill(name, hold=False)
    deadline = time.monotonic() + 120
    while own_stack.pid_of(name) == before:
        assert time.monotonic() < deadline, f"{name} was not started again"
        time.sleep(0.2)
    time.sleep(1.0)
    answers = load.stop()
    # While the edge itself is gone (or starting, before its routes are loaded) its clients see
    # refused connections or its own plain 404, answers no service gave (no X-Request-Id); while the
    # gateway is gone the edge answers 502 for it, and an answer it was sending when it was killed
    # is cut. Everything else is a clean answer.
    if name == "traefik":
        answers = [a for a in answers if "x-request-id" in a.headers]
    elif name == "gateway":
        answers = [a for a in answers if a.status not in (0, 502)]
    assert_no_server_error(answers)
    load.wait_recovered()
    assert set(load.acknowledged) <= _history(api, repo)


def test_all_acknowledged_commits_survived(api, repo, acknowledged):
    assert acknowledged, "the load made commits"
    assert set(acknowledged) <= _history(api, repo)

"""Security behaviours of identity (issue 5): login throttling in Redis, the registration switch,
the first admin from the CLI, and secrets kept out of the logs."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
import redis

from tests.conftest import ROOT, unique_name

PASSWORD = "correct horse battery"


@pytest.fixture()
def http(endpoint):
    with httpx.Client(base_url=endpoint, timeout=60) as client:
        yield client


def register(http, name=None):
    name = name or unique_name()
    resp = http.post("/api/auth/register",
                     json={"username": name, "email": f"{name}@example.test", "password": PASSWORD})
    assert resp.status_code == 201, resp.text
    return name


def login(http, name, password=PASSWORD, **kwargs):
    return http.post("/api/auth/login", json={"username": name, "password": password}, **kwargs)


def test_failed_logins_are_throttled_per_account(http):
    victim, bystander = register(http), register(http)
    for _ in range(5):
        assert login(http, victim, "wrong password").status_code == 401
    # Now even the right password is refused for a while, named by username or email...
    for who in (victim, f"{victim}@example.test"):
        resp = login(http, who)
        assert resp.status_code == 429 and resp.headers["X-Error-Code"] == "LoginThrottled"
    # ...while other accounts are unaffected.
    assert login(http, bystander).status_code == 200


@pytest.fixture()
def address_counters(stack):
    """Counts start from zero (earlier tests failed logins too), and the block this test sets on
    127.0.0.1, where every later test logs in from, is lifted afterwards."""
    client = redis.Redis.from_url(stack.env["HANGAR_REDIS_URL"])

    def reset():
        for key in client.scan_iter("auth:login-fail:address:*"):
            client.delete(key)
    reset()
    yield client
    reset()
    client.close()


def test_failed_logins_are_throttled_per_client_address(http, address_counters):
    name = register(http)
    statuses = []
    for i in range(31):
        # A spoofed X-Forwarded-For must not give each attempt a fresh address (Traefik owns it).
        resp = login(http, unique_name("nobody"), "wrong password", headers={"X-Forwarded-For": f"10.9.8.{i}"})
        statuses.append(resp.status_code)
    assert statuses[:30] == [401] * 30 and statuses[30] == 429
    resp = login(http, name)
    assert resp.status_code == 429 and resp.headers["X-Error-Code"] == "LoginThrottled"
    assert list(address_counters.scan_iter("auth:login-fail:address:10.*")) == []


@pytest.fixture()
def auth_env(stack):
    """Restart the auth service with extra environment, and restore it afterwards."""
    saved = dict(stack.env)

    def restart(**env):
        stack.env.update(env)
        stack.stop_service("auth")
        stack.start_service("auth")
    yield restart
    stack.env.clear()
    stack.env.update(saved)
    stack.stop_service("auth")
    stack.start_service("auth")


def test_registration_can_be_turned_off(http, auth_env, user):
    auth_env(HANGAR_REGISTRATION_ENABLED="false")
    name = unique_name()
    resp = http.post("/api/auth/register", json={"username": name, "email": f"{name}@x.test", "password": PASSWORD})
    assert resp.status_code == 403 and resp.headers["X-Error-Code"] == "RegistrationDisabled"
    # Existing accounts keep working.
    assert http.get("/api/whoami-v2", headers={"Authorization": f"Bearer {user.token}"}).status_code == 200


def run_cli(stack, *args):
    env = {k: v for k, v in os.environ.items() if not k.startswith("HANGAR_")}
    env.update({k: v for k, v in stack.env.items() if k in ("HANGAR_DATABASE_URL", "HANGAR_SECRET_KEY", "HANGAR_ENV")})
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "libs"), str(ROOT)])
    return subprocess.run([sys.executable, "-m", "services.auth", *args], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=120)


def test_first_admin_comes_from_the_cli(stack, http, make_user):
    someone = make_user()
    private_id = f"{someone.name}/{unique_name('private')}"
    resp = http.post("/api/repos/create", json={"name": private_id.split("/")[1], "private": True},
                     headers={"Authorization": f"Bearer {someone.token}"})
    assert resp.status_code == 200, resp.text
    name = unique_name("admin")
    done = run_cli(stack, "create-admin", name)
    assert done.returncode == 0, done.stderr
    token = done.stdout.strip()
    assert token.startswith("hf_") and "\n" not in token
    me = http.get("/api/auth/me", headers={"Authorization": f"Bearer {token}"}).json()
    assert me["name"] == name and me["isSiteAdmin"] is True
    # A site admin sees every private repo.
    assert http.get(f"/api/models/{private_id}", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    as_someone = {"Authorization": f"Bearer {someone.token}"}
    assert http.get(f"/api/models/{private_id}", headers=as_someone).status_code == 200
    # The account has no password to guess, until its owner sets one with the token.
    assert login(http, name, "").status_code in (400, 401)
    resp = http.post("/api/auth/password", json={"newPassword": "admin's own pass"},
                     headers={"Authorization": f"Bearer {token}"})
    assert resp.status_code == 200
    assert login(http, name, "admin's own pass").status_code == 200


def test_cli_promotes_an_existing_user_and_refuses_without_the_secret(stack, http):
    name = register(http)
    done = run_cli(stack, "create-admin", name)
    assert done.returncode == 0, done.stderr
    me = http.get("/api/auth/me", headers={"Authorization": f"Bearer {done.stdout.strip()}"}).json()
    assert me["isSiteAdmin"] is True
    env_less = subprocess.run([sys.executable, "-m", "services.auth", "create-admin", "x"], cwd=ROOT,
                              env={"PATH": os.environ["PATH"], "PYTHONPATH": f"{ROOT / 'libs'}:{ROOT}"},
                              capture_output=True, text=True, timeout=120)
    assert env_less.returncode != 0 and "HANGAR_SECRET_KEY" in env_less.stderr


def test_passwords_tokens_and_sessions_stay_out_of_the_logs(stack, http, make_user):
    person = make_user()
    http.get("/api/whoami-v2", headers={"Authorization": f"Bearer {person.token}"})
    session = login(http, person.name, person.password).cookies["hangar_session"]
    logs = "".join(p.read_text(errors="replace") for p in Path(stack.state, "logs").glob("*.log"))
    for secret in (person.password, person.token, person.read_token, session):
        assert secret not in logs


def test_make_admin_works_on_the_running_stack_without_exports(stack, http, tmp_path):
    """The README's first-run command: `make admin NAME=...` finds the running stack's settings itself
    (stack.json); only the stack's folder is named here, because the session stack is not at .hangar/."""
    bare = {k: v for k, v in os.environ.items() if not k.startswith("HANGAR_") and k != "PYTHONPATH"}
    name = unique_name("first")
    done = subprocess.run(["make", "-s", "admin", f"NAME={name}"], cwd=ROOT, capture_output=True, text=True,
                          env={**bare, "HANGAR_STATE_DIR": str(stack.state)}, timeout=120)
    assert done.returncode == 0, done.stderr
    token = done.stdout.strip()
    assert token.startswith("hf_") and "\n" not in token, done.stdout
    me = http.get("/api/auth/me", headers={"Authorization": f"Bearer {token}"}).json()
    assert me["name"] == name and me["isSiteAdmin"] is True
    # The token works with the real client as the README shows.
    from huggingface_hub import HfApi
    assert HfApi(endpoint=stack.endpoint, token=token).whoami()["name"] == name
    # No stack running there: a clear message, no traceback; a missing NAME is a usage error.
    idle = subprocess.run(["make", "-s", "admin", "NAME=x"], cwd=ROOT, capture_output=True, text=True,
                          env={**bare, "HANGAR_STATE_DIR": str(tmp_path)}, timeout=120)
    assert idle.returncode != 0 and "make up" in idle.stderr and "Traceback" not in idle.stderr
    unnamed = subprocess.run(["make", "-s", "admin"], cwd=ROOT, capture_output=True, text=True, env=bare, timeout=60)
    assert unnamed.returncode != 0 and "NAME=" in unnamed.stderr and unnamed.stdout == ""


def test_a_script_gets_a_token_through_its_session_as_the_readme_says(http, make_user):
    """README: log in, then create a token with the session cookie and the X-CSRF-Token header it got;
    without that header the cookie session cannot write."""
    person = make_user()
    with httpx.Client(base_url=str(http.base_url)) as browser:
        csrf = browser.post("/api/auth/login", json={"username": person.name, "password": person.password}).json()
        refused = browser.post("/api/auth/tokens/create", json={"name": "script", "role": "write"})
        assert refused.status_code == 403, refused.text
        made = browser.post("/api/auth/tokens/create", json={"name": "script", "role": "write"},
                            headers={"X-CSRF-Token": csrf["csrfToken"]})
        assert made.status_code == 201, made.text
    me = http.get("/api/whoami-v2", headers={"Authorization": f"Bearer {made.json()['token']}"})
    assert me.status_code == 200 and me.json()["name"] == person.name

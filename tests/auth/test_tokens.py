"""Access tokens: creation (cookie or bearer), listing, revocation, and how they authenticate
(Bearer, HTTP Basic as git sends it) (issue 5)."""
from __future__ import annotations

import base64

import httpx
import pytest


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def basic(user: str, password: str) -> dict:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


@pytest.fixture()
def http(endpoint):
    with httpx.Client(base_url=endpoint, timeout=30) as client:
        yield client


def test_make_user_gives_write_and_read_tokens(user, other_user, http):
    assert user.name != other_user.name
    assert user.token.startswith("hf_") and user.read_token.startswith("hf_") and user.token != user.read_token
    roles = {t["name"]: t["role"] for t in http.get("/api/auth/tokens", headers=bearer(user.token)).json()}
    assert roles == {"test-write": "write", "test-read": "read"}


def test_make_user_with_read_role(make_user, http):
    reader = make_user(role="read")
    who = http.get("/api/whoami-v2", headers=bearer(reader.token)).json()
    assert who["auth"]["accessToken"]["role"] == "read"


def test_create_token_with_bearer_answers_it_once_and_lists_it_without_secret(user, http):
    resp = http.post("/api/auth/tokens/create", json={"name": "ci", "role": "write"}, headers=bearer(user.token))
    assert resp.status_code == 201
    created = resp.json()
    assert created["token"].startswith("hf_") and len(created["token"]) == 37 and created["id"]
    listing = http.get("/api/auth/tokens", headers=bearer(created["token"]))
    assert listing.status_code == 200
    assert {"id": created["id"], "name": "ci", "role": "write"}.items() <= \
        next(t for t in listing.json() if t["id"] == created["id"]).items()
    assert created["token"] not in listing.text


def test_read_token_cannot_create_tokens(user, http):
    resp = http.post("/api/auth/tokens/create", json={"name": "x", "role": "write"}, headers=bearer(user.read_token))
    assert resp.status_code == 403


def test_invalid_token_role_is_400(user, http):
    resp = http.post("/api/auth/tokens/create", json={"name": "x", "role": "admin"}, headers=bearer(user.token))
    assert resp.status_code == 400 and resp.headers["X-Error-Code"] == "InvalidRole"


def test_revoked_token_is_401_at_once(user, http):
    made = http.post("/api/auth/tokens/create", json={"name": "short-lived", "role": "read"},
                     headers=bearer(user.token)).json()
    # Used once, so its principal is cached: revocation must still win.
    assert http.get("/api/whoami-v2", headers=bearer(made["token"])).status_code == 200
    assert http.delete(f"/api/auth/tokens/{made['id']}", headers=bearer(user.token)).status_code == 200
    resp = http.get("/api/whoami-v2", headers=bearer(made["token"]))
    assert resp.status_code == 401
    assert resp.headers["X-Error-Message"] == "Invalid credentials in Authorization header"
    assert made["id"] not in [t["id"] for t in http.get("/api/auth/tokens", headers=bearer(user.token)).json()]


def test_cannot_revoke_someone_elses_token(user, other_user, http):
    theirs = http.post("/api/auth/tokens/create", json={"name": "mine", "role": "read"},
                       headers=bearer(other_user.token)).json()
    resp = http.delete(f"/api/auth/tokens/{theirs['id']}", headers=bearer(user.token))
    assert resp.status_code == 404
    assert http.get("/api/whoami-v2", headers=bearer(theirs["token"])).status_code == 200
    assert http.delete("/api/auth/tokens/not-a-number", headers=bearer(user.token)).status_code == 404


@pytest.mark.parametrize("header", [
    {"Authorization": "Bearer hf_thisIsNotARealTokenAtAll000000000000"},
    {"Authorization": "Bearer"},
    {"Authorization": "Token abc"},
    {"Authorization": "Basic !!!notbase64"},
])
def test_bad_credentials_are_401_never_anonymous(http, header):
    resp = http.get("/api/whoami-v2", headers=header)
    assert resp.status_code == 401
    assert resp.headers["X-Error-Message"] == "Invalid credentials in Authorization header"


def test_basic_auth_accepts_a_token_as_password_like_git(user, http):
    resp = http.get("/api/whoami-v2", headers=basic("anything", user.token))
    assert resp.status_code == 200 and resp.json()["name"] == user.name


def test_basic_auth_never_accepts_the_account_password(user, http):
    resp = http.get("/api/whoami-v2", headers=basic(user.name, user.password))
    assert resp.status_code == 401


def test_tokens_need_authentication(http):
    assert http.get("/api/auth/tokens").status_code == 401
    assert http.post("/api/auth/tokens/create", json={"name": "x", "role": "read"}).status_code == 401

"""Accounts and login sessions through the gateway's REST API (issue 5)."""
from __future__ import annotations

import httpx
import pytest

from tests.conftest import unique_name


@pytest.fixture()
def http(endpoint):
    with httpx.Client(base_url=endpoint, timeout=30) as client:
        yield client


def register(http, name=None, password="correct horse battery", email=None):
    name = name or unique_name()
    return http.post("/api/auth/register", json={"username": name, "email": email or f"{name}@example.test",
                                                 "password": password}), name


def test_register_then_login_sets_session_and_csrf_cookies(http):
    resp, name = register(http)
    assert resp.status_code == 201
    assert resp.json()["name"] == name and "password" not in resp.text
    resp = http.post("/api/auth/login", json={"username": name, "password": "correct horse battery"})
    assert resp.status_code == 200
    cookies = {c.split("=", 1)[0]: c for c in resp.headers.get_list("set-cookie")}
    assert "HttpOnly" in cookies["hangar_session"] and "SameSite=lax" in cookies["hangar_session"]
    assert "HttpOnly" not in cookies["hangar_csrf"]
    me = http.get("/api/auth/me")
    assert me.status_code == 200 and me.json()["name"] == name


def test_login_accepts_email(http):
    resp, name = register(http)
    resp = http.post("/api/auth/login", json={"username": f"{name}@example.test", "password": "correct horse battery"})
    assert resp.status_code == 200 and resp.json()["name"] == name


def test_wrong_password_is_401(http):
    _, name = register(http)
    resp = http.post("/api/auth/login", json={"username": name, "password": "wrong password!"})
    assert resp.status_code == 401 and resp.headers["X-Error-Code"] == "InvalidCredentials"
    assert "hangar_session" not in resp.cookies


def test_unknown_user_is_401(http):
    resp = http.post("/api/auth/login", json={"username": unique_name(), "password": "whatever123"})
    assert resp.status_code == 401 and resp.headers["X-Error-Code"] == "InvalidCredentials"


def test_duplicate_name_or_email_is_409_case_insensitively(http):
    resp, name = register(http)
    again, _ = register(http, name=name.upper(), email=f"other-{name}@example.test")
    assert again.status_code == 409 and again.headers["X-Error-Code"] == "AccountExists"
    same_email, _ = register(http, email=f"{name}@EXAMPLE.test")
    assert same_email.status_code == 409


@pytest.mark.parametrize("body, code", [
    ({"username": "bad--name", "email": "a@b.co", "password": "long enough"}, "InvalidName"),
    ({"username": "api", "email": "a@b.co", "password": "long enough"}, "InvalidName"),
    ({"username": "x" * 60, "email": "a@b.co", "password": "long enough"}, "InvalidName"),
    ({"username": "okname", "email": "not-an-email", "password": "long enough"}, "InvalidEmail"),
    ({"username": "okname", "email": "a@b.co", "password": "short"}, "InvalidPassword"),
    ({"username": "okname"}, "BadRequest"),
])
def test_invalid_registration_is_400(http, body, code):
    resp = http.post("/api/auth/register", json=body)
    assert resp.status_code == 400 and resp.headers["X-Error-Code"] == code


def test_me_needs_authentication(http):
    resp = http.get("/api/auth/me")
    assert resp.status_code == 401 and resp.headers["X-Error-Code"]


def test_logout_ends_the_session_everywhere(http, endpoint):
    _, name = register(http)
    login = http.post("/api/auth/login", json={"username": name, "password": "correct horse battery"})
    session = login.cookies["hangar_session"]
    resp = http.post("/api/auth/logout", headers={"X-CSRF-Token": login.json()["csrfToken"]})
    assert resp.status_code == 200
    # The old cookie, replayed by anyone, no longer authenticates.
    with httpx.Client(base_url=endpoint, cookies={"hangar_session": session}) as replay:
        assert replay.get("/api/auth/me").status_code == 401


def test_cookie_authenticated_writes_need_the_csrf_token(http):
    _, name = register(http)
    login = http.post("/api/auth/login", json={"username": name, "password": "correct horse battery"})
    body = {"name": "from-browser", "role": "read"}
    missing = http.post("/api/auth/tokens/create", json=body)
    assert missing.status_code == 403 and missing.headers["X-Error-Code"] == "CSRFTokenInvalid"
    forged = http.post("/api/auth/tokens/create", json=body, headers={"X-CSRF-Token": "0" * 64})
    assert forged.status_code == 403 and forged.headers["X-Error-Code"] == "CSRFTokenInvalid"
    # The double-submitted value is the hangar_csrf cookie the login set.
    ok = http.post("/api/auth/tokens/create", json=body, headers={"X-CSRF-Token": http.cookies["hangar_csrf"]})
    assert ok.status_code == 201 and http.cookies["hangar_csrf"] == login.json()["csrfToken"]
    # Reads with the cookie need no CSRF token.
    assert http.get("/api/auth/tokens").status_code == 200


def test_csrf_token_of_one_session_does_not_fit_another(http, endpoint):
    _, name = register(http)
    first = http.post("/api/auth/login", json={"username": name, "password": "correct horse battery"}).json()
    with httpx.Client(base_url=endpoint) as second:
        second.post("/api/auth/login", json={"username": name, "password": "correct horse battery"})
        resp = second.post("/api/auth/tokens/create", json={"name": "x", "role": "read"},
                           headers={"X-CSRF-Token": first["csrfToken"]})
        assert resp.status_code == 403


def test_change_password_ends_other_sessions(http, endpoint):
    _, name = register(http)
    login = http.post("/api/auth/login", json={"username": name, "password": "correct horse battery"})
    with httpx.Client(base_url=endpoint) as elsewhere:
        elsewhere.post("/api/auth/login", json={"username": name, "password": "correct horse battery"})
        assert elsewhere.get("/api/auth/me").status_code == 200
        csrf = {"X-CSRF-Token": login.json()["csrfToken"]}
        wrong = http.post("/api/auth/password", json={"currentPassword": "not it!!", "newPassword": "brand new pass"},
                          headers=csrf)
        assert wrong.status_code == 403 and wrong.headers["X-Error-Code"] == "InvalidCredentials"
        short = http.post("/api/auth/password", json={"currentPassword": "correct horse battery", "newPassword": "x"},
                          headers=csrf)
        assert short.status_code == 400
        resp = http.post("/api/auth/password", json={"currentPassword": "correct horse battery",
                                                     "newPassword": "brand new pass"}, headers=csrf)
        assert resp.status_code == 200
        assert elsewhere.get("/api/auth/me").status_code == 401   # the other session ended
    assert http.get("/api/auth/me").status_code == 200            # this one goes on
    assert http.post("/api/auth/login", json={"username": name, "password": "correct horse battery"}).status_code == 401
    assert http.post("/api/auth/login", json={"username": name, "password": "brand new pass"}).status_code == 200


def test_read_token_cannot_change_the_password(make_user, http):
    person = make_user()
    resp = http.post("/api/auth/password", json={"currentPassword": person.password, "newPassword": "another pass"},
                     headers={"Authorization": f"Bearer {person.read_token}"})
    assert resp.status_code == 403

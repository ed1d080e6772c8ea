"""Organizations, roles and settings through REST and huggingface_hub (issue 5)."""
from __future__ import annotations

import httpx
import pytest
from huggingface_hub import HfApi

from tests.conftest import unique_name


def as_(user):
    return {"Authorization": f"Bearer {user.token}"}


@pytest.fixture()
def http(endpoint):
    with httpx.Client(base_url=endpoint, timeout=30) as client:
        yield client


def test_create_org_makes_creator_super_admin(make_org, user, http):
    org = make_org(user)
    info = http.get(f"/api/org/{org}").json()
    assert info["name"] == org.name and info["numUsers"] == 1
    members = http.get(f"/api/org/{org}/members").json()
    assert [(m["user"], m["role"]) for m in members] == [(user.name, "super-admin")]
    assert http.get(f"/org/{org}").status_code == 200  # the path without /api


def test_org_name_is_unique_across_users_and_orgs(make_org, user, other_user, http):
    org = make_org(user)
    for taken in (org.name.upper(), other_user.name):
        resp = http.post("/api/org/create", json={"name": taken}, headers=as_(user))
        assert resp.status_code == 409 and resp.headers["X-Error-Code"] == "AccountExists"
    resp = http.post("/api/auth/register", json={"username": org.name, "email": f"{unique_name()}@x.test",
                                                 "password": "long enough"})
    assert resp.status_code == 409


def test_create_org_needs_a_write_identity(user, http):
    assert http.post("/api/org/create", json={"name": unique_name("org")}).status_code == 401
    resp = http.post("/api/org/create", json={"name": unique_name("org")},
                     headers={"Authorization": f"Bearer {user.read_token}"})
    assert resp.status_code == 403
    resp = http.post("/api/org/create", json={"name": "bad--name"}, headers=as_(user))
    assert resp.status_code == 400 and resp.headers["X-Error-Code"] == "InvalidName"


def test_members_roles_and_whoami(make_user, make_org, http, endpoint):
    owner, reader, writer, admin = make_user(), make_user(), make_user(), make_user()
    org = make_org(owner, members={reader: "read", writer: "contributor", admin: "admin"})
    roles = {m["user"]: m["role"] for m in http.get(f"/api/org/{org}/members").json()}
    assert roles == {owner.name: "super-admin", reader.name: "read", writer.name: "member", admin.name: "admin"}
    who = HfApi(endpoint=endpoint, token=writer.token).whoami()
    assert [(o["name"], o["roleInOrg"]) for o in who["orgs"]] == [(org.name, "member")]
    orgs = http.get(f"/api/org/users/{admin.name}/orgs").json()
    assert [(o["name"], o["roleInOrg"]) for o in orgs] == [(org.name, "admin")]


def test_only_admins_manage_members(make_user, make_org, http):
    owner, member, admin, newcomer = make_user(), make_user(), make_user(), make_user()
    org = make_org(owner, members={member: "member", admin: "admin"})
    resp = http.post(f"/api/org/{org}/members", json={"username": newcomer.name, "role": "read"}, headers=as_(member))
    assert resp.status_code == 403
    resp = http.post(f"/api/org/{org}/members", json={"username": newcomer.name, "role": "read"}, headers=as_(admin))
    assert resp.status_code == 201
    resp = http.post(f"/api/org/{org}/members", json={"username": newcomer.name, "role": "read"}, headers=as_(admin))
    assert resp.status_code == 409 and resp.headers["X-Error-Code"] == "AlreadyMember"
    resp = http.put(f"/api/org/{org}/members/{newcomer.name}", json={"role": "member"}, headers=as_(admin))
    assert resp.status_code == 200 and resp.json()["role"] == "member"
    # An admin cannot hand out or take away super-admin; a super-admin can.
    resp = http.put(f"/api/org/{org}/members/{newcomer.name}", json={"role": "super-admin"}, headers=as_(admin))
    assert resp.status_code == 403
    resp = http.delete(f"/api/org/{org}/members/{owner.name}", headers=as_(admin))
    assert resp.status_code == 403
    resp = http.put(f"/api/org/{org}/members/{admin.name}", json={"role": "super-admin"}, headers=as_(owner))
    assert resp.status_code == 200
    resp = http.delete(f"/api/org/{org}/members/{newcomer.name}", headers=as_(admin))
    assert resp.status_code == 200
    assert newcomer.name not in {m["user"] for m in http.get(f"/api/org/{org}/members").json()}


def test_member_changes_validate_input(make_user, make_org, http):
    owner = make_user()
    org = make_org(owner)
    resp = http.post(f"/api/org/{org}/members", json={"username": owner.name, "role": "emperor"}, headers=as_(owner))
    assert resp.status_code == 400 and resp.headers["X-Error-Code"] == "InvalidRole"
    resp = http.post(f"/api/org/{org}/members", json={"username": unique_name(), "role": "read"}, headers=as_(owner))
    assert resp.status_code == 404 and resp.headers["X-Error-Code"] == "UserNotFound"
    resp = http.put(f"/api/org/{unique_name('org')}/members/{owner.name}", json={"role": "read"}, headers=as_(owner))
    assert resp.status_code == 404 and resp.headers["X-Error-Code"] == "OrgNotFound"


def test_last_super_admin_cannot_leave_but_members_can(make_user, make_org, http):
    owner, member = make_user(), make_user()
    org = make_org(owner, members={member: "read"})
    resp = http.delete(f"/api/org/{org}/members/{owner.name}", headers=as_(owner))
    assert resp.status_code == 409 and resp.headers["X-Error-Code"] == "LastSuperAdmin"
    resp = http.put(f"/api/org/{org}/members/{owner.name}", json={"role": "admin"}, headers=as_(owner))
    assert resp.status_code == 409
    assert http.delete(f"/api/org/{org}/members/{member.name}", headers=as_(member)).status_code == 200


def test_hub_members_and_overview_with_huggingface_hub(make_user, make_org, endpoint):
    owner, member = make_user(), make_user()
    org = make_org(owner, members={member: "member"})
    api = HfApi(endpoint=endpoint, token=False)
    assert sorted(u.username for u in api.list_organization_members(org.name)) == sorted([owner.name, member.name])
    overview = api.get_organization_overview(org.name)
    assert overview.name == org.name and overview.num_users == 2


def test_hub_members_paginate_with_absolute_link(make_user, make_org, http, endpoint):
    owner, a, b = make_user(), make_user(), make_user()
    org = make_org(owner, members={a: "read", b: "read"})
    first = http.get(f"/api/organizations/{org}/members", params={"limit": 2})
    assert len(first.json()) == 2
    assert first.links["next"]["url"].startswith(endpoint)
    rest = http.get(first.links["next"]["url"])
    assert len(rest.json()) == 1 and "next" not in rest.links


def test_unknown_org_is_404(http):
    for path in (f"/api/org/{unique_name('org')}", f"/api/organizations/{unique_name('org')}/overview",
                 f"/api/organizations/{unique_name('org')}/members"):
        assert http.get(path).status_code == 404


def test_user_settings_only_by_the_user(user, other_user, http):
    resp = http.put(f"/api/users/{user.name}/settings", json={"fullname": "Ada L.", "settings": {"theme": "dark"}},
                    headers=as_(user))
    assert resp.status_code == 200 and resp.json()["settings"]["theme"] == "dark"
    assert http.get("/api/auth/me", headers=as_(user)).json()["fullname"] == "Ada L."
    resp = http.put(f"/api/users/{user.name}/settings", json={"fullname": "Mallory"}, headers=as_(other_user))
    assert resp.status_code == 403


def test_org_settings_only_by_admins(make_user, make_org, http):
    owner, member = make_user(), make_user()
    org = make_org(owner, members={member: "member"})
    resp = http.put(f"/api/organizations/{org}/settings", json={"settings": {"defaultPrivate": True}},
                    headers=as_(member))
    assert resp.status_code == 403
    resp = http.put(f"/api/organizations/{org}/settings",
                    json={"fullname": "The Org", "settings": {"defaultPrivate": True}},
                    headers=as_(owner))
    assert resp.status_code == 200
    info = http.get(f"/api/org/{org}").json()
    assert info["fullname"] == "The Org" and info["settings"] == {"defaultPrivate": True}


def test_user_overview(make_user, make_org, endpoint):
    owner = make_user()
    org = make_org(owner)
    overview = HfApi(endpoint=endpoint, token=False).get_user_overview(owner.name)
    assert overview.username == owner.name and [o.name for o in overview.orgs] == [org.name]


def test_only_super_admins_rename_or_delete_an_empty_org(make_user, make_org, http):
    owner, admin = make_user(), make_user()
    org = make_org(owner, members={admin: "admin"})
    new_name = unique_name("org")
    resp = http.post(f"/api/org/{org}/rename", json={"newName": new_name}, headers=as_(admin))
    assert resp.status_code == 403
    resp = http.post(f"/api/org/{org}/rename", json={"newName": new_name}, headers=as_(owner))
    assert resp.status_code == 200 and resp.json()["name"] == new_name
    assert http.get(f"/api/org/{org}").status_code == 404
    who = http.get("/api/whoami-v2", headers=as_(admin)).json()
    assert [(o["name"], o["roleInOrg"]) for o in who["orgs"]] == [(new_name, "admin")]
    assert http.delete(f"/api/org/{new_name}", headers=as_(admin)).status_code == 403
    assert http.delete(f"/api/org/{new_name}", headers=as_(owner)).status_code == 200
    assert http.get(f"/api/org/{new_name}").status_code == 404
    assert http.get("/api/whoami-v2", headers=as_(admin)).json()["orgs"] == []


def test_org_with_repos_cannot_be_deleted_or_renamed(make_user, make_org, http, endpoint):
    owner = make_user()
    org = make_org(owner)
    HfApi(endpoint=endpoint, token=owner.token).create_repo(f"{org}/{unique_name('repo')}", private=True)
    resp = http.delete(f"/api/org/{org}", headers=as_(owner))
    assert resp.status_code == 409 and resp.headers["X-Error-Code"] == "OrgHasRepos"
    resp = http.post(f"/api/org/{org}/rename", json={"newName": unique_name("org")}, headers=as_(owner))
    assert resp.status_code == 409
    assert http.get(f"/api/org/{org}").status_code == 200

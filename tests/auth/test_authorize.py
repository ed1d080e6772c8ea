"""The auth service's gRPC decisions (Authenticate, Authorize, AuthorizeNamespace) as gateway, lfs
and git call them, against the real running service (auth.proto)."""
from __future__ import annotations

import asyncio
import base64

import grpc
import pytest

from hangar_protos import auth_pb2, auth_pb2_grpc, common_pb2


class AuthClient:
    """Synchronous helper around the auth gRPC stub (one event loop per call, tests only)."""

    def __init__(self, target: str) -> None:
        self.target = target

    def __call__(self, method: str, request):
        async def run():
            async with grpc.aio.insecure_channel(self.target) as channel:
                return await getattr(auth_pb2_grpc.AuthStub(channel), method)(request, timeout=10)
        return asyncio.run(run())

    def principal(self, authorization: str = "", **kwargs) -> common_pb2.Principal:
        return self("Authenticate", auth_pb2.AuthenticateRequest(authorization=authorization, **kwargs))

    def decide(self, principal, action: str, *, namespace: str, private=False, gated="") -> tuple[bool, str]:
        facts = common_pb2.RepoFacts(repo=common_pb2.RepoRef(type="model", namespace=namespace, name="r"),
                                     repo_id="1", private=private, gated=gated)
        answer = self("Authorize", auth_pb2.AuthorizeRequest(principal=principal, repo=facts, action=action))
        return answer.allowed, answer.error_code


@pytest.fixture(scope="module")
def auth(stack) -> AuthClient:
    return AuthClient(f"127.0.0.1:{stack.service_ports['auth']['grpc']}")


def test_no_credentials_is_anonymous(auth):
    assert auth.principal().anonymous


def test_bearer_and_basic_give_the_tokens_principal(auth, user):
    by_bearer = auth.principal(f"Bearer {user.read_token}")
    by_basic = auth.principal("Basic " + base64.b64encode(f"git:{user.token}".encode()).decode())
    assert (by_bearer.username, by_bearer.token_role) == (user.name, "read")
    assert (by_basic.username, by_basic.token_role) == (user.name, "write")
    assert not by_bearer.anonymous and by_bearer.user_id == by_basic.user_id


def test_bad_token_is_unauthenticated(auth):
    with pytest.raises(grpc.aio.AioRpcError) as err:
        auth.principal("Bearer hf_nope")
    assert err.value.code() == grpc.StatusCode.UNAUTHENTICATED
    assert err.value.details() == "Invalid credentials in Authorization header"


def test_public_repo_is_readable_by_everyone_writable_by_owner_only(auth, user, other_user):
    owner, stranger = auth.principal(f"Bearer {user.token}"), auth.principal(f"Bearer {other_user.token}")
    anonymous = auth.principal()
    for who in (owner, stranger, anonymous):
        assert auth.decide(who, "read", namespace=user.name) == (True, "")
        assert auth.decide(who, "download", namespace=user.name) == (True, "")
    assert auth.decide(owner, "write", namespace=user.name) == (True, "")
    assert auth.decide(owner, "admin", namespace=user.name) == (True, "")
    assert auth.decide(stranger, "write", namespace=user.name) == (False, "Forbidden")
    assert auth.decide(anonymous, "write", namespace=user.name) == (False, "Unauthorized")


def test_private_repo_looks_missing_to_others(auth, user, other_user):
    owner, stranger = auth.principal(f"Bearer {user.read_token}"), auth.principal(f"Bearer {other_user.token}")
    assert auth.decide(owner, "read", namespace=user.name, private=True) == (True, "")
    assert auth.decide(stranger, "read", namespace=user.name, private=True) == (False, "RepoNotFound")
    assert auth.decide(stranger, "write", namespace=user.name, private=True) == (False, "RepoNotFound")
    assert auth.decide(auth.principal(), "read", namespace=user.name, private=True) == (False, "RepoNotFound")


def test_read_token_never_writes(auth, user):
    reader = auth.principal(f"Bearer {user.read_token}")
    assert auth.decide(reader, "write", namespace=user.name) == (False, "Forbidden")
    assert auth.decide(reader, "admin", namespace=user.name) == (False, "Forbidden")


def test_gated_repo_downloads_need_access(auth, user, other_user):
    owner, stranger = auth.principal(f"Bearer {user.token}"), auth.principal(f"Bearer {other_user.token}")
    assert auth.decide(stranger, "read", namespace=user.name, gated="auto") == (True, "")
    assert auth.decide(stranger, "download", namespace=user.name, gated="auto") == (False, "GatedRepo")
    assert auth.decide(auth.principal(), "download", namespace=user.name, gated="manual") == (False, "GatedRepo")
    assert auth.decide(owner, "download", namespace=user.name, gated="manual") == (True, "")


def test_namespace_creation_rights(auth, user, other_user):
    def ns(principal, namespace, action="write"):
        answer = auth("AuthorizeNamespace", auth_pb2.AuthorizeNamespaceRequest(
            principal=principal, namespace=namespace, action=action))
        return answer.allowed, answer.error_code
    writer = auth.principal(f"Bearer {user.token}")
    assert ns(writer, user.name) == (True, "")
    assert ns(writer, user.name.upper()) == (True, "")
    assert ns(writer, other_user.name) == (False, "Forbidden")
    assert ns(auth.principal(f"Bearer {user.read_token}"), user.name) == (False, "Forbidden")
    assert ns(auth.principal(), user.name) == (False, "Unauthorized")


def test_org_roles_decide_repo_access(auth, make_user, make_org):
    owner, reader, member, admin, stranger = (make_user() for _ in range(5))
    org = make_org(owner, members={reader: "read", member: "member", admin: "admin"})
    p = {u: auth.principal(f"Bearer {u.token}") for u in (owner, reader, member, admin, stranger)}
    ns = org.name
    expected = {  # user: (read private, write, admin)
        owner: (True, True, True), reader: (True, False, False), member: (True, True, False),
        admin: (True, True, True), stranger: (False, False, False)}
    for who, (read, write, administer) in expected.items():
        assert auth.decide(p[who], "read", namespace=ns, private=True)[0] is read
        assert auth.decide(p[who], "write", namespace=ns, private=True)[0] is write
        assert auth.decide(p[who], "admin", namespace=ns)[0] is administer
        assert auth.decide(p[who], "download", namespace=ns, gated="manual")[0] is read


def test_namespace_rights_in_an_org(auth, make_user, make_org):
    owner, reader, member = make_user(), make_user(), make_user()
    org = make_org(owner, members={reader: "read", member: "member"})

    def ns(user, action="write", token=None):
        answer = auth("AuthorizeNamespace", auth_pb2.AuthorizeNamespaceRequest(
            principal=auth.principal(f"Bearer {token or user.token}"), namespace=org.name, action=action))
        return answer.allowed
    assert ns(member) and ns(owner) and ns(owner, "admin")
    assert not ns(reader) and not ns(member, "admin") and not ns(member, token=member.read_token)


def test_removed_member_loses_access_at_once(auth, make_user, make_org, endpoint):
    import httpx
    owner, member = make_user(), make_user()
    org = make_org(owner, members={member: "member"})
    principal = auth.principal(f"Bearer {member.token}")
    assert auth.decide(principal, "read", namespace=org.name, private=True) == (True, "")  # now cached
    resp = httpx.delete(f"{endpoint}/api/org/{org}/members/{member.name}",
                        headers={"Authorization": f"Bearer {owner.token}"})
    assert resp.status_code == 200
    assert auth.decide(principal, "read", namespace=org.name, private=True) == (False, "RepoNotFound")


def test_malformed_principals_are_refused_not_crashed(auth):
    forged = common_pb2.Principal(user_id="not-a-number", username="x")
    assert auth.decide(forged, "read", namespace="someone", private=True) == (False, "RepoNotFound")
    with pytest.raises(grpc.aio.AioRpcError) as err:
        auth("WhoAmI", auth_pb2.PrincipalRequest(principal=forged))
    assert err.value.code() == grpc.StatusCode.UNAUTHENTICATED


def test_negative_page_limits_are_clamped(auth, make_user, make_org):
    org = make_org(make_user())
    page = auth("ListOrgMembers", auth_pb2.ListOrgMembersRequest(org=org.name, limit=-5, offset=-3))
    assert len(page.members) == 1

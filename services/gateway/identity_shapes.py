"""JSON shapes of identities as the Hub answers them (camelCase, dates ending in Z): users, tokens,
organizations and their members, account settings, access requests to gated repos."""
from __future__ import annotations

import json

from hangar_protos import auth_pb2


def user_json(user: auth_pb2.UserInfo, orgs=None) -> dict:
    body = {"type": "user", "id": user.id, "name": user.username, "fullname": user.fullname,
            "email": user.email, "isSiteAdmin": user.is_site_admin, "createdAt": user.created_at,
            "settings": json.loads(user.settings_json or "{}")}
    if orgs is not None:
        body["orgs"] = [org_membership_json(o) for o in orgs]
    return body


def org_membership_json(org: auth_pb2.OrgMembership) -> dict:
    return {"type": "org", "name": org.name, "fullname": org.fullname or org.name,
            "roleInOrg": org.role, "avatarUrl": "", "isEnterprise": False}


def token_json(token: auth_pb2.TokenInfo) -> dict:
    return {"id": token.id, "name": token.name, "role": token.role, "createdAt": token.created_at,
            "lastUsedAt": token.last_used_at or None}


def whoami_json(who: auth_pb2.WhoAmIResponse, *, session: bool) -> dict:
    """huggingface_hub's `whoami()` shape (HfApi.whoami / _login._validate_and_save_token)."""
    user = who.user
    auth: dict[str, object]
    if session:
        auth = {"type": "session"}
    else:
        auth = {"type": "access_token", "accessToken": {
            "displayName": who.token.name, "role": who.token.role, "createdAt": who.token.created_at}}
    return {"type": "user", "id": user.id, "name": user.username, "fullname": user.fullname or user.username,
            "email": user.email, "emailVerified": False, "canPay": False, "isPro": False,
            "periodEnd": None, "avatarUrl": "", "orgs": [org_membership_json(o) for o in who.orgs],
            "auth": auth}


def settings_json(account: auth_pb2.AccountInfo) -> dict:
    return {"type": account.kind, "name": account.name, "fullname": account.fullname,
            "settings": json.loads(account.settings_json or "{}")}


def org_json(org: auth_pb2.OrgInfo) -> dict:
    return {"type": "org", "id": org.id, "name": org.name, "fullname": org.fullname, "avatarUrl": "",
            "createdAt": org.created_at, "numUsers": org.num_members, "isVerified": False,
            "settings": json.loads(org.settings_json or "{}")}


def member_json(member: auth_pb2.OrgMember) -> dict:
    return {"type": "user", "user": member.username, "name": member.username, "fullname": member.fullname,
            "avatarUrl": "", "role": member.role, "isPro": False}


def access_request_json(item: auth_pb2.AccessRequestInfo) -> dict:
    """A gated repo's access request as huggingface_hub's `AccessRequest` parses it."""
    user = {"user": item.username, "fullname": item.fullname, "type": "user", "avatarUrl": ""}
    if item.email:   # only for users who asked (auth's access_requests)
        user["email"] = item.email
    body: dict = {"requestId": item.request_id, "status": item.status, "timestamp": item.timestamp, "user": user}
    fields = json.loads(item.fields_json or "{}")
    if fields:
        body["fields"] = fields
    if item.reason:
        body["rejectionReason"] = item.reason
    return body


def upstream_token_json(status: auth_pb2.UpstreamTokenStatus) -> dict:
    """Whether the user linked an upstream Hub token (the token itself is never shown again)."""
    if not status.linked:
        return {"linked": False}
    return {"linked": True, "hint": status.hint, "linkedAt": status.linked_at}

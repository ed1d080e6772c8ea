"""JSON shapes of identities as the Hub answers them (camelCase, dates ending in Z)."""
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

"""What every part of the auth service's gRPC surface shares: the resources it runs on, the helpers
built from them (authenticator, membership cache, login throttle), and small request helpers."""
from __future__ import annotations

import json

from hangar_common.errors import BadRequest, Forbidden, NotFound, Unauthorized
from hangar_protos import auth_pb2

from . import accounts, policy
from .config import AuthSettings
from .memberships import Memberships
from .principals import Authenticator
from .throttle import LoginThrottle
from .upstream_tokens import UpstreamTokens, key_from


def settings_patch(raw: str) -> dict:
    if not raw:
        return {}
    try:
        patch = json.loads(raw)
    except ValueError:
        raise BadRequest("Settings must be a JSON object", code="InvalidSettings") from None
    if not isinstance(patch, dict) or len(raw) > 16 * 1024:
        raise BadRequest("Settings must be a JSON object of at most 16 KiB", code="InvalidSettings")
    return patch


def parse_id(value: str, what: str) -> int:
    if not value.isdigit() or len(value) > 18:
        raise NotFound(f"{what} not found")
    return int(value)


def membership_pb(row) -> auth_pb2.OrgMembership:
    return auth_pb2.OrgMembership(name=row.name, fullname=row.fullname or row.name, role=row.role)


def account_pb(row, kind: str) -> auth_pb2.AccountInfo:
    return auth_pb2.AccountInfo(kind=kind, id=str(row.id), name=row.name, fullname=row.fullname or row.name,
                                created_at=accounts.iso(row.created_at), settings_json=json.dumps(row.settings or {}))


class ServicerBase:
    """State and helpers shared by the parts of AuthServicer."""

    def __init__(self, resources, auth_settings: AuthSettings | None = None) -> None:
        self.resources = resources
        self.settings = resources.settings
        self.config = auth_settings or AuthSettings.from_env()

    # Built lazily: the engine and Redis exist only once the lifespan opened them.
    @property
    def engine(self):
        return self.resources.engine

    @property
    def authenticator(self) -> Authenticator:
        return Authenticator(self.engine, self.resources.redis, self.settings.secret_key,
                             self.config.principal_cache_ttl)

    @property
    def upstream_tokens(self) -> UpstreamTokens:
        return UpstreamTokens(self.engine, key_from(self.config.upstream_token_key, self.settings.secret_key))

    @property
    def memberships(self) -> Memberships:
        return Memberships(self.engine, self.resources.redis)

    @property
    def throttle(self) -> LoginThrottle:
        c = self.config
        return LoginThrottle(self.resources.redis, window=c.login_window,
                             per_account=c.login_max_per_account, per_address=c.login_max_per_address,
                             fail_open=c.login_throttle_fail_open)

    async def _require(self, principal, facts, action: str) -> None:
        """Raise unless `principal` may do `action` on the repo (as Authorize would answer)."""
        role = await self.memberships.role_in(principal.user_id, facts.repo.namespace)
        decision = policy.decide(principal, facts, action, org_role=role, public_url=self.settings.public_url)
        if not decision.allowed:
            code = decision.error_code
            if code == "Forbidden":
                raise Forbidden(decision.message)
            if code == "Unauthorized":
                raise Unauthorized(decision.message)
            raise NotFound(decision.message, code=code)

    @staticmethod
    async def _user_named(conn, name: str):
        row = await accounts.get_user_by_name(conn, name)
        if row is None:
            raise NotFound(f"User {name} not found", code="UserNotFound")
        return row

    async def _forget_all(self, user_ids) -> None:
        memberships = self.memberships
        for user_id in user_ids:
            await memberships.forget(user_id)

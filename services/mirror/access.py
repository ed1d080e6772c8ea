"""Who may have the content of a gated or private upstream repository (issue 18, docs/mirror.md
"Access"): the one rule, asked by auth's Authorize for every decision on such a cache.

- The repos the admin token's allowlist names (HANGAR_UPSTREAM_TOKEN_REPOS): listing a repo there is
  the admin's decision that every user of the mirror may read it.
- Otherwise the user's own upstream token (linked in auth, encrypted there): the upstream's
  auth-check answers for it. A yes is remembered for HANGAR_MIRROR_ACCESS_TTL seconds per user,
  repo and linked token (a token linked again, or unlinked, is asked anew at once); a no is not
  remembered. No linked token, or an anonymous caller: no.
"""
from __future__ import annotations

import time

from hangar_common import errors
from hangar_common.grpcio import call
from hangar_protos import auth_pb2

from .settings import MirrorSettings
from .upstream import Upstream

MAX_REMEMBERED = 10_000


class UpstreamAccess:
    def __init__(self, settings: MirrorSettings, upstream: Upstream, auth) -> None:
        self.settings, self.upstream, self.auth = settings, upstream, auth
        self._yes: dict[tuple[str, str, str, str], float] = {}

    async def user_token(self, user_id: str) -> tuple[str, str]:
        """(token, linked_at) the user linked, ("", "") if none (or no auth service to ask)."""
        if self.auth is None or not user_id.isdigit():
            return "", ""
        secret = await call(self.auth.UpstreamToken, auth_pb2.UpstreamTokenRequest(user_id=user_id))
        return secret.token, secret.linked_at

    async def token_for(self, user_id: str, repo_type: str, repo_id: str) -> str:
        """The token to read a gated or private upstream repo with on this user's behalf."""
        return self.settings.service_token_for(repo_type, repo_id) or (await self.user_token(user_id))[0]

    async def allowed(self, user_id: str, repo_type: str, repo_id: str) -> bool:
        if not self.settings.enabled:
            return False
        if self.settings.service_token_for(repo_type, repo_id):
            return True
        token, linked_at = await self.user_token(user_id)
        if not token:
            return False
        key = (user_id, repo_type or "model", repo_id.lower(), linked_at)
        now = time.monotonic()
        if self._yes.get(key, 0.0) > now:
            return True
        try:
            ok = await self.upstream.auth_check(repo_type or "model", repo_id, token)
        except errors.HangarError:
            return False   # the upstream cannot confirm it: refused (cached gated bytes stay closed)
        if ok:
            if len(self._yes) >= MAX_REMEMBERED:
                self._yes = {k: t for k, t in self._yes.items() if t > now}
                if len(self._yes) >= MAX_REMEMBERED:
                    self._yes.clear()
            self._yes[key] = now + self.settings.access_ttl
        return ok

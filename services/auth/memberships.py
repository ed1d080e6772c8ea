"""Organization roles of a user, read on every authorization decision and therefore cached in Redis
per user (shared by every replica). A change overwrites the entry with a "read the database"
marker for one cache lifetime and lookups only add absent entries (SET NX), so a lookup racing with
a removal cannot cache the old role: a removed member loses access on every replica at once.
Without Redis the roles come from the database; `forget` is called inside the transaction of the
change, so a change Redis cannot invalidate rolls back (503) instead of leaving a stale role."""
from __future__ import annotations

import json

from sqlalchemy import text

from hangar_common import hotcache, redis_client

_TTL = 60
_CHANGED = b"changed"


def _key(user_id: str) -> str:
    return f"auth:roles:{user_id}"


class Memberships:
    def __init__(self, engine, redis) -> None:
        self.engine, self.redis = engine, redis

    async def roles(self, user_id: str) -> dict[str, str]:
        """{lowercase org name: role} for the user."""
        if not user_id.isdigit():  # anonymous (or not a user id at all)
            return {}
        raw = await redis_client.optional(self.redis.get(_key(user_id)), None, "roles cache read")
        if raw is not None and raw != _CHANGED:
            return json.loads(raw)
        async with self.engine.connect() as conn:
            result = await conn.execute(text(
                "SELECT lower(o.name) AS org, m.role FROM org_members m JOIN accounts o ON o.id = m.org_id "
                "WHERE m.user_id = :user_id"), {"user_id": int(user_id)})
            roles = {row.org: row.role for row in result}
        if raw is None:
            await redis_client.optional(self.redis.set(_key(user_id), json.dumps(roles), ex=_TTL, nx=True),
                                        None, "roles cache write")
        return roles

    async def role_in(self, user_id: str, namespace: str) -> str:
        return (await self.roles(user_id)).get(namespace.lower(), "")

    async def forget(self, user_id: int | str) -> None:
        """Call inside the transaction that changes the user's memberships (a change Redis cannot
        take rolls back)."""
        hotcache.note(hotcache.DECISIONS, str(user_id))   # decisions replicas keep for this user
        await self.redis.set(_key(str(user_id)), _CHANGED, ex=_TTL + 1)

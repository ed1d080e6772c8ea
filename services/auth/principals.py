"""Authenticate: credentials -> principal (auth.proto).

Accepted: `Authorization: Bearer <token>`, `Authorization: Basic base64(user:<token>)` as git and
git-lfs send it (the password must be an access token, never the account password; the user part is
ignored), or the session cookie. Nothing at all is the anonymous principal; anything else that does
not check out is 401, never anonymous.

Lookups are cached in Redis (shared by every replica) under the credential's digest. Revocation
and logout overwrite the entry with a tombstone, and lookups only ever add entries that are absent
(SET NX), so a lookup racing with a revocation cannot bring the old principal back: a revoked token
stops working on every replica at once.

Without Redis, authentication goes on from the database alone (reads skip the cache, nothing is
added to it), and a change that must invalidate the cache (revocation, logout) writes its tombstone
inside the database transaction, so when Redis is unreachable the change fails as a whole (503)
rather than leaving an old cached principal alive somewhere.
"""
from __future__ import annotations

import base64

from hangar_common import hotcache, redis_client
from hangar_common.errors import Forbidden, Unauthorized
from hangar_protos import common_pb2

from . import sessions, tokens
from .credentials import csrf_token, digest, same_secret

INVALID = "Invalid credentials in Authorization header"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_TOMBSTONE = b"revoked"


def cache_key(kind: str, secret_digest: bytes) -> str:
    return f"auth:principal:{kind}:{secret_digest.hex()}"


def token_from_header(header: str) -> str:
    """The access token carried by an Authorization header, or raise 401."""
    scheme, _, value = header.strip().partition(" ")
    value = value.strip()
    if scheme.lower() == "bearer" and value:
        return value
    if scheme.lower() == "basic" and value:
        try:
            decoded = base64.b64decode(value, validate=True).decode("utf-8")
        except (ValueError, UnicodeDecodeError):  # binascii.Error, or non-ASCII base64 text
            raise Unauthorized(INVALID) from None
        _user, sep, password = decoded.partition(":")
        if sep and password:
            return password
    raise Unauthorized(INVALID)


class Authenticator:
    def __init__(self, engine, redis, secret_key: str, cache_ttl: int) -> None:
        self.engine, self.redis, self.key, self.cache_ttl = engine, redis, secret_key, cache_ttl

    async def authenticate(self, *, authorization: str, session_cookie: str, csrf: str,
                           http_method: str) -> common_pb2.Principal:
        if authorization:
            return await self.from_token(token_from_header(authorization))
        if session_cookie:
            principal = await self.from_session(session_cookie)
            if http_method.upper() not in SAFE_METHODS and not same_secret(
                    csrf or "", csrf_token(self.key, session_cookie)):
                raise Forbidden("Missing or invalid CSRF token (send the hangar_csrf cookie's value "
                                "in X-CSRF-Token)", code="CSRFTokenInvalid")
            return principal
        return common_pb2.Principal(anonymous=True)

    async def from_token(self, token: str) -> common_pb2.Principal:
        token_digest = digest(self.key, token)
        cached = await self._cached("token", token_digest)
        if cached is not None:
            return cached
        async with self.engine.begin() as conn:
            row = await tokens.lookup(conn, token_digest)
        if row is None:
            raise Unauthorized(INVALID)
        principal = common_pb2.Principal(user_id=str(row.user_id), username=row.username,
                                         token_role=row.role, token_id=str(row.id),
                                         is_site_admin=row.is_site_admin)
        await self._remember("token", token_digest, principal, self.cache_ttl)
        return principal

    async def from_session(self, cookie: str) -> common_pb2.Principal:
        session_digest = digest(self.key, cookie)
        cached = await self._cached("session", session_digest)
        if cached is not None:
            return cached
        async with self.engine.connect() as conn:
            row = await sessions.lookup(conn, session_digest)
        if row is None:
            raise Unauthorized("Invalid or expired session")
        principal = common_pb2.Principal(user_id=str(row.user_id), username=row.username,
                                         is_site_admin=row.is_site_admin)
        await self._remember("session", session_digest, principal, min(self.cache_ttl, max(row.ttl, 1)))
        return principal

    async def forget(self, kind: str, secret_digest: bytes) -> None:
        """Call inside the transaction that removes the credential: if Redis cannot take the
        tombstone, the removal rolls back and the caller sees a 503. Replicas drop the principals
        they keep in process too (hotcache, published once the RPC finished; revocations are rare,
        so all of them)."""
        hotcache.note(hotcache.PRINCIPALS, hotcache.ALL)
        await self.redis.set(cache_key(kind, secret_digest), _TOMBSTONE, ex=2 * self.cache_ttl + 1)

    async def _cached(self, kind: str, secret_digest: bytes) -> common_pb2.Principal | None:
        raw = await redis_client.optional(self.redis.get(cache_key(kind, secret_digest)), None,
                                          "principal cache read")
        if raw == _TOMBSTONE:
            raise Unauthorized(INVALID if kind == "token" else "Invalid or expired session")
        return common_pb2.Principal.FromString(raw) if raw else None

    async def _remember(self, kind: str, secret_digest: bytes, principal, ttl: int) -> None:
        await redis_client.optional(self.redis.set(
            cache_key(kind, secret_digest), principal.SerializeToString(), ex=ttl, nx=True), None,
            "principal cache write")

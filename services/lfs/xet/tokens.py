"""CAS access tokens (huggingface.co/docs/xet/auth): short-lived bearer tokens that the token
endpoints hand to hf_xet and the CAS routes accept.

A token is `xet1.<payload>.<signature>`: base64url JSON {repo_id, user_id, scope, exp, tid} and an
HMAC-SHA256 of it under HANGAR_SECRET_KEY (domain-separated), so only this deployment can mint one,
and it names exactly one repository and one scope ("read" or "write"; write includes read).

`tid` binds it to the access token it was minted from: the CAS routes ask auth whether that token
is still valid on every request (cas_routes._token), so revoking an access token ends the CAS tokens
minted from it at once, not at their expiry. A user's CAS token always carries one (the token
endpoints authenticate with an access token); only anonymous read tokens of public repos have none.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import time
from dataclasses import dataclass

import orjson

PREFIX = "xet1"
TTL_SECONDS = 3600
SCOPES = ("read", "write")
_DOMAIN = b"hangar-xet-cas-token-v1:"


class InvalidToken(ValueError):
    """Missing, malformed, forged or expired token."""


@dataclass(frozen=True)
class CasToken:
    repo_id: str
    user_id: str
    scope: str
    exp: int
    contributor: bool = False     # a write token of someone without write access (for their own PR)
    token_id: str = ""            # the access token it was minted from ("" for anonymous)

    def allows(self, scope: str) -> bool:
        return self.scope == "write" or scope == "read"


def _key(secret: str) -> bytes:
    return hashlib.sha256(_DOMAIN + secret.encode()).digest()


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def mint(secret: str, *, repo_id: str, user_id: str, scope: str, ttl: int = TTL_SECONDS,
         now: float | None = None, contributor: bool = False, token_id: str = "") -> tuple[str, int]:
    """A signed token and its expiry (unix seconds)."""
    if scope not in SCOPES:
        raise ValueError(f"unknown scope {scope!r}")
    exp = int(now if now is not None else time.time()) + ttl
    claims = {"repo_id": repo_id, "user_id": user_id, "scope": scope, "exp": exp}
    if contributor:
        claims["contributor"] = True
    if token_id:
        claims["tid"] = token_id
    payload = _b64(orjson.dumps(claims))
    signature = _b64(hmac.new(_key(secret), f"{PREFIX}.{payload}".encode(), hashlib.sha256).digest())
    return f"{PREFIX}.{payload}.{signature}", exp


def verify(secret: str, token: str, *, now: float | None = None) -> CasToken:
    """The token's claims, or InvalidToken."""
    parts = token.split(".")
    if len(parts) != 3 or parts[0] != PREFIX or len(token) > 2048:
        raise InvalidToken("malformed token")
    expected = hmac.new(_key(secret), f"{PREFIX}.{parts[1]}".encode(), hashlib.sha256).digest()
    try:
        given = _unb64(parts[2])
        claims = orjson.loads(_unb64(parts[1])) if hmac.compare_digest(expected, given) else None
    except (ValueError, orjson.JSONDecodeError):
        raise InvalidToken("malformed token") from None
    if not isinstance(claims, dict):
        raise InvalidToken("bad token signature")
    token_claims = CasToken(str(claims.get("repo_id", "")), str(claims.get("user_id", "")),
                            str(claims.get("scope", "")), int(claims.get("exp", 0)),
                            claims.get("contributor") is True, str(claims.get("tid", "")))
    if token_claims.scope not in SCOPES or not token_claims.repo_id:
        raise InvalidToken("bad token claims")
    if token_claims.user_id and not token_claims.token_id:
        raise InvalidToken("token not bound to an access token; request a new one")
    if token_claims.exp <= int(now if now is not None else time.time()):
        raise InvalidToken("token expired")
    return token_claims

"""Secrets at rest (DESIGN §4): account passwords hashed with argon2; bearer secrets (access tokens,
session cookies) random and stored only as HMAC-SHA256 under HANGAR_SECRET_KEY, so a lookup is one
indexed equality and a database leak reveals no usable credential."""
from __future__ import annotations

import asyncio
import hashlib
import hmac
import secrets
import string

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

TOKEN_PREFIX = "hf_"
_TOKEN_ALPHABET = string.ascii_letters + string.digits
_TOKEN_LENGTH = 34           # like the Hub's tokens: hf_ + 34 alphanumerics (~200 bits)

# argon2id with OWASP's recommended minimum (19 MiB, 2 passes, 1 lane): strong enough for passwords
# while a busy two-core replica still answers a login quickly.
_hasher = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)
# Verified against when the account does not exist, so a miss costs as much time as a hit.
_DUMMY_HASH = _hasher.hash(secrets.token_hex(16))


def new_access_token() -> str:
    return TOKEN_PREFIX + "".join(secrets.choice(_TOKEN_ALPHABET) for _ in range(_TOKEN_LENGTH))


def new_session_secret() -> str:
    return secrets.token_urlsafe(32)


def digest(key: str, secret: str) -> bytes:
    """HMAC-SHA256 of a bearer secret: what the database stores and indexes."""
    return hmac.new(key.encode(), secret.encode(), hashlib.sha256).digest()


def csrf_token(key: str, session_secret: str) -> str:
    """The CSRF token of a session: derived from it, so a cookie planted by another site never fits."""
    return hmac.new(key.encode(), b"csrf:" + session_secret.encode(), hashlib.sha256).hexdigest()


def same_secret(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


async def hash_password(password: str) -> str:
    return await asyncio.to_thread(_hasher.hash, password)


async def verify_password(password_hash: str | None, password: str) -> bool:
    """True when `password` matches; a missing account still costs one argon2 verification."""
    def verify() -> bool:
        try:
            return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
        except (VerificationError, InvalidHashError):
            return False
    return await asyncio.to_thread(verify)

"""The upstream Hub token each user may link to their account (issue 18, docs/mirror.md "Access").

Clients send one Authorization header, their Hangar token; the mirror reads a gated or private
upstream repository for a user with the upstream token that user linked, and for nobody else.
The token is kept encrypted with AES-GCM (`cryptography`): the key comes from
HANGAR_UPSTREAM_TOKEN_KEY (32 bytes, hex or urlsafe base64) or, when that is unset, is derived
from HANGAR_SECRET_KEY with HKDF. The user id is the associated data, so a ciphertext copied onto
another account does not decrypt. The plain token is never answered to the user, only to the
mirror service (UpstreamToken), and only its last four characters are shown as a hint.
"""
from __future__ import annotations

import base64
import binascii
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import text

from hangar_common.errors import BadRequest

from .accounts import iso

MAX_TOKEN = 4096


def key_from(configured: str, secret_key: str) -> bytes:
    """The AES-256 key: HANGAR_UPSTREAM_TOKEN_KEY if set, else derived from the secret key."""
    if configured:
        raw = configured.strip()
        for decode in (bytes.fromhex, lambda v: base64.urlsafe_b64decode(v + "=" * (-len(v) % 4))):
            try:
                key = decode(raw)
            except (ValueError, binascii.Error):
                continue
            if len(key) == 32:
                return key
        raise RuntimeError("HANGAR_UPSTREAM_TOKEN_KEY must be 32 bytes, hex or urlsafe base64")
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
                info=b"hangar upstream tokens").derive(secret_key.encode())


def check(token: str) -> str:
    token = token.strip()
    if len(token) > MAX_TOKEN or any(c.isspace() or not c.isprintable() for c in token):
        raise BadRequest(f"An upstream token is printable characters without spaces, at most {MAX_TOKEN} of them",
                         code="InvalidUpstreamToken")
    return token


class UpstreamTokens:
    def __init__(self, engine, key: bytes) -> None:
        self.engine, self.aead = engine, AESGCM(key)

    async def link(self, user_id: int, token: str) -> dict:
        nonce = os.urandom(12)
        sealed = self.aead.encrypt(nonce, token.encode(), str(user_id).encode())
        async with self.engine.begin() as conn:
            row = (await conn.execute(text(
                "INSERT INTO upstream_tokens (user_id, nonce, ciphertext, hint, linked_at) "
                "VALUES (:user, :nonce, :sealed, :hint, clock_timestamp()) ON CONFLICT (user_id) DO UPDATE SET "
                "nonce = EXCLUDED.nonce, ciphertext = EXCLUDED.ciphertext, hint = EXCLUDED.hint, "
                "linked_at = EXCLUDED.linked_at RETURNING hint, linked_at"),
                {"user": user_id, "nonce": nonce, "sealed": sealed, "hint": token[-4:]})).first()
        return {"linked": True, "hint": row.hint, "linked_at": iso(row.linked_at)}

    async def unlink(self, user_id: int) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(text("DELETE FROM upstream_tokens WHERE user_id = :user"), {"user": user_id})

    async def status(self, user_id: int) -> dict:
        async with self.engine.connect() as conn:
            row = (await conn.execute(text("SELECT hint, linked_at FROM upstream_tokens WHERE user_id = :user"),
                                      {"user": user_id})).first()
        return {"linked": False} if row is None else {"linked": True, "hint": row.hint,
                                                      "linked_at": iso(row.linked_at)}

    async def reveal(self, user_id: int) -> tuple[str, str]:
        """(token, linked_at) of the user, ("", "") when none is linked or it no longer decrypts
        (the key changed: the user links it again)."""
        async with self.engine.connect() as conn:
            row = (await conn.execute(text(
                "SELECT nonce, ciphertext, linked_at FROM upstream_tokens WHERE user_id = :user"),
                {"user": user_id})).first()
        if row is None:
            return "", ""
        try:
            plain = self.aead.decrypt(bytes(row.nonce), bytes(row.ciphertext), str(user_id).encode())
        except InvalidTag:
            return "", ""
        return plain.decode(), iso(row.linked_at)

"""Capability tokens for the URLs a client calls without Authorization: huggingface_hub POSTs the
multipart completion without any credentials, and git-lfs sends a verify action only the headers we
give it. The token binds (upload id, action, expiry) with HMAC-SHA256 under the hub's secret key."""
from __future__ import annotations

import hashlib
import hmac
import time


def _mac(secret: str, upload_id: str, action: str, expires: int) -> str:
    message = f"lfs-upload:{upload_id}:{action}:{expires}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def sign(secret: str, upload_id: str, action: str, expires: int) -> str:
    return f"{expires}.{_mac(secret, upload_id, action, expires)}"


def valid(secret: str, upload_id: str, action: str, token: str) -> bool:
    expires, _, mac = token.partition(".")
    if not expires.isdigit() or int(expires) < time.time():
        return False
    return hmac.compare_digest(mac, _mac(secret, upload_id, action, int(expires)))

"""Capability tokens for the URLs a client calls without Authorization: huggingface_hub POSTs the
multipart completion without any credentials, git-lfs sends a verify action only the headers we
give it, and a download of a Xet-stored file is a URL like a presigned GET. The token binds
(upload id, action, expiry) with HMAC-SHA256 under the hub's secret key."""
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


def _download_mac(secret: str, oid: str, filename: str, expires: int) -> str:
    message = f"lfs-download:{oid}:{expires}:{filename}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def sign_download(secret: str, oid: str, filename: str, expires: int) -> str:
    """The signature of a download URL the lfs service serves itself (Xet files, xet/file_stream.py)."""
    return _download_mac(secret, oid, filename, expires)


def valid_download(secret: str, oid: str, filename: str, expires: str, sig: str) -> bool:
    if not expires.isdigit() or int(expires) < time.time():
        return False
    return hmac.compare_digest(sig, _download_mac(secret, oid, filename, int(expires)))

"""Presigned S3 GETs bound to one byte range (AWS Signature V4, query-string authentication, with
`range` among the signed headers).

A reconstruction hands out URLs for xorb byte ranges; a xorb can also hold chunks of files the caller
may not read (global dedup shares xorbs across repositories). With the Range header signed, the URL
serves exactly the chunk range the reconstruction names and nothing else of the xorb; the client
sends `Range: bytes={start}-{end}` from `url_range`, which is the signed value.
"""
from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime
from urllib.parse import quote, urlsplit


def _hmac(key: bytes, msg: str) -> bytes:
    return hmac.new(key, msg.encode(), hashlib.sha256).digest()


def range_header(first: int, last: int) -> str:
    return f"bytes={first}-{last}"


def presign_range_get(*, endpoint: str, bucket: str, key: str, first: int, last: int, access_key: str,
                      secret_key: str, region: str, expires: int, now: datetime | None = None) -> str:
    """A path-style presigned GET of bytes [first, last] of s3://bucket/key on `endpoint` (the S3
    origin clients use; the signature binds its host)."""
    now = now or datetime.now(UTC)
    amz_date, day = now.strftime("%Y%m%dT%H%M%SZ"), now.strftime("%Y%m%d")
    parts = urlsplit(endpoint)
    path = f"/{bucket}/{quote(key, safe='/-_.~')}"
    scope = f"{day}/{region}/s3/aws4_request"
    query = {"X-Amz-Algorithm": "AWS4-HMAC-SHA256", "X-Amz-Credential": f"{access_key}/{scope}",
             "X-Amz-Date": amz_date, "X-Amz-Expires": str(expires), "X-Amz-SignedHeaders": "host;range"}
    canonical_query = "&".join(f"{quote(k, safe='-_.~')}={quote(v, safe='-_.~')}" for k, v in sorted(query.items()))
    canonical = "\n".join(["GET", path, canonical_query, f"host:{parts.netloc}", f"range:{range_header(first, last)}",
                           "", "host;range", "UNSIGNED-PAYLOAD"])
    to_sign = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(canonical.encode()).hexdigest()])
    signing_key = _hmac(_hmac(_hmac(_hmac(f"AWS4{secret_key}".encode(), day), region), "s3"), "aws4_request")
    signature = hmac.new(signing_key, to_sign.encode(), hashlib.sha256).hexdigest()
    return f"{parts.scheme}://{parts.netloc}{path}?{canonical_query}&X-Amz-Signature={signature}"

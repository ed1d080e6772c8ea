"""Upload actions for the two transfer adapters (git-lfs docs/api/batch.md, basic-transfers.md; and
Hugging Face's `multipart`, as huggingface_hub's lfs.py consumes it):

- basic: `upload` is a presigned PUT on S3's own origin: part 1 of a multipart upload of the attempt's
  own key, which only the server completes (verification.py); `verify` is ours. Never a plain PUT
  URL of the key: that one would stay able to overwrite the object until it expires.
- multipart: `upload.header` carries `chunk_size` and one presigned part URL per part, keyed
  "00001", "00002", ...; `upload.href` is our completion URL, which the client POSTs
  `{oid, parts: [{partNumber, etag}]}` to without Authorization (a signed token in the URL
  authorizes it). Part URLs stay valid for the whole transfer: the client fetches them all first.
"""
from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta

from . import catalog, signing
from .blobstore import upload_key
from .settings import chunk_size_for


def _signed_url(ctx, base: str, upload_id: str, action: str, expires: int) -> str:
    """`base` is the absolute `{origin}/{repo}.git/info/lfs` the client addressed."""
    token = signing.sign(ctx.settings.secret_key, upload_id, action, expires)
    return f"{base}/objects/uploads/{upload_id}/{action}?token={token}"


async def upload_action(ctx, conn, *, base: str, oid: str, size: int, multipart: bool,
                        repo_id: str, user_id: str) -> dict:
    """Register a new upload attempt and answer its `actions`."""
    cfg = ctx.config
    upload_id = str(uuid.uuid4())
    key = upload_key(oid, upload_id)
    token_expiry = int(time.time()) + cfg.staging_ttl
    urls_expire = datetime.now(UTC) + timedelta(seconds=cfg.upload_url_ttl)
    verify = {"href": _signed_url(ctx, base, upload_id, "verify", token_expiry), "header": {},
              "expires_in": cfg.upload_url_ttl}
    chunk = chunk_size_for(size, cfg.chunk_size) if multipart else size
    parts = max(1, -(-size // chunk)) if multipart else 1
    multipart_id = await ctx.blobs.start_multipart(key)
    await catalog.create_upload(conn, upload_id=upload_id, oid=oid, size=size, repo_id=repo_id,
                                user_id=user_id, staging_key=key, expires_at=urls_expire,
                                multipart_id=multipart_id, part_count=parts)
    if not multipart:  # basic: one PUT of the whole object, to the URL of part 1
        upload = {"href": ctx.blobs.presign_part(key, multipart_id, 1, cfg.upload_url_ttl),
                  "expires_in": cfg.upload_url_ttl}
        return {"upload": upload, "verify": verify}
    header = {"chunk_size": str(chunk)}
    for number in range(1, parts + 1):
        header[f"{number:05d}"] = ctx.blobs.presign_part(key, multipart_id, number, cfg.upload_url_ttl)
    upload = {"href": _signed_url(ctx, base, upload_id, "complete", token_expiry), "header": header,
              "expires_in": cfg.upload_url_ttl}
    return {"upload": upload, "verify": verify}

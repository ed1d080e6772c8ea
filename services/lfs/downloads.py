"""The URL a client downloads an object's bytes from, wherever they lie (one rule for the batch API,
DownloadUrl and resolve): a presigned S3 GET of the object's key, or for an object stored as a Xet
file (its key is lfs_bridge.XET_KEY...) the lfs service's own stream of it (xet/file_stream.py)."""
from __future__ import annotations

import time

from .xet import file_stream, lfs_bridge


def download_url(ctx, oid: str, key: str, ttl: int, filename: str = "") -> str:
    if lfs_bridge.is_xet_key(key):
        # huggingface_hub follows a redirect to the hub's own host and would read the file's
        # metadata (X-Repo-Commit, X-Xet-Hash) from the stream: the bridge is another host name.
        origin = ctx.config.xet_bridge_url or ctx.settings.public_url
        return file_stream.url(ctx.settings.secret_key, origin, oid, int(time.time()) + ttl, filename)
    return ctx.blobs.presign_get(key, ttl, filename)

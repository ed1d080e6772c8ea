"""Request bodies as git sends them: possibly `Content-Encoding: gzip` (git compresses upload-pack
requests above 1 KiB; gitprotocol-http.txt), read as a stream of chunks."""
from __future__ import annotations

import zlib
from collections.abc import AsyncIterator

from hangar_common import errors

MAX_NEGOTIATION_BYTES = 64 * 1024 * 1024   # wants/haves of one fetch round, decompressed


async def chunks(request, *, limit: int | None = None) -> AsyncIterator[bytes]:
    """The decoded body; `limit` bounds its decompressed size (PayloadTooLarge beyond it)."""
    encoding = request.headers.get("content-encoding", "").lower()
    if encoding not in ("", "identity", "gzip", "x-gzip"):
        raise errors.HangarError(f"unsupported Content-Encoding {encoding!r}",
                                 code="UnsupportedMediaType", status=415)
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS) if "gzip" in encoding else None
    total = 0
    async for chunk in request.stream():
        if inflater is not None:
            try:
                chunk = inflater.decompress(chunk)
            except zlib.error:
                raise errors.BadRequest("invalid gzip request body") from None
        total += len(chunk)
        if limit is not None and total > limit:
            raise errors.PayloadTooLarge("request body too large")
        if chunk:
            yield chunk
    if inflater is not None and not inflater.eof:
        raise errors.BadRequest("truncated gzip request body")

"""Xet-uploaded files for clients that do not speak Xet (git-lfs, HF_HUB_DISABLE_XET, older
huggingface_hub, previews): their bytes are streamed from the xorbs, never stored a second time as
an LFS object (docs/storage.md, "Xet files stored once").

`GET|HEAD /xet/v1/lfs-files/{sha256}?expires=&filename=&sig=` serves the verified file of that
sha256, with `Range` (one range; 206 and Content-Range, 416 past the end). The URL is a capability
the lfs service hands out where it would hand out a presigned S3 GET (batch download, DownloadUrl):
an HMAC over (sha256, filename, expiry) under the hub's secret key, so knowing a hash gives nothing.

Memory stays bounded: stored bytes are read from S3 in windows of at most WINDOW bytes, decoded in
worker threads, AHEAD windows read while the current one is sent.
"""
from __future__ import annotations

import asyncio
import re
from collections import deque
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

from fastapi import APIRouter, Request
from fastapi.responses import Response, StreamingResponse

from hangar_common import errors

from .. import signing
from ..blobstore import content_disposition
from . import store
from .materialize import window_chunks, windows
from .reconstruction import RangeNotSatisfiable, parse_range
from .store import StoredXorb, XetFile

router = APIRouter(prefix="/xet")
OID = re.compile(r"^[0-9a-f]{64}$")
PATH = "/v1/lfs-files/"
ROUTE = router.prefix + PATH
AHEAD = 2          # windows read ahead of the one being sent (memory: AHEAD x WINDOW decoded bytes)


def url(secret: str, origin: str, sha256: str, expires: int, filename: str = "") -> str:
    """The download URL of the Xet file of `sha256`, valid until `expires` (unix seconds)."""
    from urllib.parse import urlencode

    query = {"expires": str(expires), "sig": signing.sign_download(secret, sha256, filename, expires)}
    if filename:
        query["filename"] = filename
    return f"{origin}{ROUTE}{sha256}?{urlencode(query)}"


@dataclass(frozen=True)
class Piece:
    """Stored bytes [first, last] of a xorb, whose decoded chunks start at file offset `offset`."""
    s3_key: str
    first: int
    last: int
    offset: int


def pieces(file: XetFile, xorbs: dict[str, StoredXorb], lo: int, hi: int) -> Iterator[Piece]:
    """The windows of stored bytes that hold file bytes [lo, hi], in file order."""
    base = 0
    for xorb_hex, start, end, nbytes in file.segments:
        seg_base, base = base, base + nbytes
        if base <= lo or seg_base > hi:
            continue
        stored = xorbs[xorb_hex]
        sizes = stored.info.chunk_sizes
        offset = seg_base
        for w_start, w_end in windows(stored.info, start, end):
            w_len = sum(sizes[w_start:w_end])
            if offset + w_len > lo and offset <= hi:
                first, last = stored.info.byte_range(w_start, w_end)
                yield Piece(stored.s3_key, first, last, offset)
            offset += w_len
            if offset > hi:
                return


def _slice(parts: list, skip: int, take: int) -> Iterator:
    """Bytes [skip, take) of the concatenation of `parts`, as views of them."""
    pos = 0
    for part in parts:
        lo, hi = max(skip - pos, 0), min(take - pos, len(part))
        pos += len(part)
        if lo < hi:
            yield memoryview(part)[lo:hi] if lo or hi < len(part) else part
        if pos >= take:
            return


async def stream(object_store, file: XetFile, xorbs: dict[str, StoredXorb], lo: int, hi: int) -> AsyncIterator[bytes]:
    """File bytes [lo, hi], a window at a time, in order; AHEAD windows are read and decoded while
    the one before them is sent (S3 latency and decoding overlap instead of adding up)."""
    def fetch(piece: Piece) -> bytes:
        parts = window_chunks(object_store, piece.s3_key, piece.first, piece.last)
        skip = max(0, lo - piece.offset)
        take = min(sum(len(p) for p in parts), hi - piece.offset + 1)
        return b"".join(_slice(parts, skip, take))

    todo = iter(pieces(file, xorbs, lo, hi))
    pending: deque[asyncio.Future] = deque()

    def refill() -> None:
        while len(pending) < AHEAD and (piece := next(todo, None)) is not None:
            pending.append(asyncio.ensure_future(asyncio.to_thread(fetch, piece)))
    try:
        refill()
        while pending:
            data = await pending.popleft()
            refill()
            yield data
    finally:
        for future in pending:
            future.cancel()


async def open_file(engine, sha256: str) -> tuple[XetFile, dict[str, StoredXorb]] | None:
    """The verified Xet file of `sha256` and its xorbs, or None."""
    file = await store.file_for_sha256(engine, sha256)
    if file is None:
        return None
    xorbs = await store.load_xorbs(engine, [s[0] for s in file.segments])
    if any(s[0] not in xorbs for s in file.segments):
        return None
    return file, xorbs


@router.api_route(PATH + "{sha256}", methods=["GET", "HEAD"])
async def download(request: Request, sha256: str):
    res = request.app.state.resources
    q = request.query_params
    filename = q.get("filename", "")
    if not OID.match(sha256) or not signing.valid_download(res.settings.secret_key, sha256, filename,
                                                           q.get("expires", ""), q.get("sig", "")):
        raise errors.Forbidden("Invalid or expired download URL", code="InvalidDownloadUrl")
    found = await open_file(res.engine, sha256)
    if found is None:
        raise errors.NotFound("No such file", code="EntryNotFound")
    file, xorbs = found
    headers = {"Accept-Ranges": "bytes", "ETag": f'"{sha256}"', "Content-Type": "application/octet-stream"}
    if filename:
        headers["Content-Disposition"] = content_disposition(filename)
    status, lo, hi = 200, 0, file.size - 1
    if request.headers.get("range") and file.size:
        try:
            lo, hi = parse_range(request.headers["range"], file.size)
            status = 206
            headers["Content-Range"] = f"bytes {lo}-{hi}/{file.size}"
        except RangeNotSatisfiable:
            return Response(status_code=416, headers={**headers, "Content-Range": f"bytes */{file.size}"})
        except ValueError:
            pass   # an unparseable Range is ignored (RFC 9110 §14.2): the whole file
    headers["Content-Length"] = str(hi - lo + 1)
    if request.method == "HEAD" or file.size == 0:
        return Response(status_code=status, headers=headers)
    return StreamingResponse(stream(res.store, file, xorbs, lo, hi), status_code=status, headers=headers)

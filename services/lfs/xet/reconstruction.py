"""File reconstruction (huggingface.co/docs/xet/api, "Get File Reconstruction"): which chunk ranges of
which xorbs make up a file, or a byte range of it, and where the client fetches them.

`plan` answers the V1 JSON shape: `terms` in file order ({hash, range: chunk [start, end),
unpacked_length}), `offset_into_first_range` (bytes of the first term to skip), and `fetch_info`
mapping each xorb to presigned URLs with the inclusive stored-byte `url_range` of a chunk range.
Each URL is signed for exactly its `url_range` (presign.py), never for the whole xorb.
"""
from __future__ import annotations

from collections.abc import Callable

from .store import StoredXorb, XetFile


class RangeNotSatisfiable(ValueError):
    """The requested range starts at or past the end of the file."""


def parse_range(header: str | None, size: int) -> tuple[int, int]:
    """Inclusive byte range from a `bytes=a-b` / `bytes=a-` header (the whole file when absent)."""
    if not header:
        if size == 0:
            raise RangeNotSatisfiable("empty file")
        return 0, size - 1
    unit, _, spec = header.partition("=")
    start_text, dash, end_text = spec.strip().partition("-")
    if unit.strip().lower() != "bytes" or not dash or not start_text.isdigit() or \
            (end_text and not end_text.isdigit()) or "," in spec:
        raise ValueError("malformed Range header")
    start = int(start_text)
    end = min(int(end_text), size - 1) if end_text else size - 1
    if start >= size:
        raise RangeNotSatisfiable(f"range starts at {start}, file has {size} bytes")
    if end < start:
        raise ValueError("malformed Range header")
    return start, end


def _trim(sizes: list[int], start: int, end: int, lo: int, hi: int, base: int) -> tuple[int, int, int]:
    """Narrow chunks [start, end) (file offset `base` of the first) to those overlapping bytes
    [lo, hi]; returns (new start, new end, file offset of the new first chunk)."""
    offset = base
    while start < end and offset + sizes[start] <= lo:
        offset += sizes[start]
        start += 1
    first_offset, tail = offset, offset
    last = start
    while last < end and tail <= hi:
        tail += sizes[last]
        last += 1
    return start, last, first_offset


def plan(file: XetFile, xorbs: dict[str, StoredXorb], lo: int, hi: int,
         presign: Callable[[str, int, int], str]) -> dict:
    """The reconstruction of bytes [lo, hi] of `file`; `presign(s3_key, first, last)` gives the URL
    of stored bytes [first, last] of a xorb."""
    terms: list = []
    fetch: dict = {}
    seen: set[tuple[str, int, int]] = set()
    offset_into_first, base = 0, 0
    for xorb_hex, start, end, nbytes in file.segments:
        seg_lo, seg_hi = base, base + nbytes - 1
        base += nbytes
        if seg_hi < lo or seg_lo > hi:
            continue
        info = xorbs[xorb_hex].info
        start, end, first_offset = _trim(info.chunk_sizes, start, end, lo, hi, seg_lo)
        if not terms:
            offset_into_first = lo - first_offset
        terms.append({"hash": xorb_hex, "range": {"start": start, "end": end},
                      "unpacked_length": sum(info.chunk_sizes[start:end])})
        if (xorb_hex, start, end) in seen:
            continue
        seen.add((xorb_hex, start, end))
        first, last = info.byte_range(start, end)
        fetch.setdefault(xorb_hex, []).append({"range": {"start": start, "end": end},
                                               "url": presign(xorbs[xorb_hex].s3_key, first, last),
                                               "url_range": {"start": first, "end": last}})
    return {"offset_into_first_range": offset_into_first, "terms": terms, "fetch_info": fetch}


def as_v2(answer: dict) -> dict:
    """The V2 shape (`xorbs`: per xorb a list of {url, ranges: [{chunks, bytes}]}) of a V1 answer.
    Every URL is signed for one byte range, so each entry carries exactly one range."""
    xorbs = {h: [{"url": f["url"], "ranges": [{"chunks": f["range"], "bytes": f["url_range"]}]} for f in fetches]
             for h, fetches in answer["fetch_info"].items()}
    return {"offset_into_first_range": answer["offset_into_first_range"], "terms": answer["terms"], "xorbs": xorbs}

"""The one verification read of a Xet file (docs/data-safety.md, docs/storage.md): rebuild its bytes
from the verified xorbs and hash them with SHA-256. Only a file whose bytes hashed to the sha256
its shard claims becomes usable under that oid; the bytes are not stored again (non-Xet clients
get them streamed from the xorbs, file_stream.py).

Runs in a worker thread (blocking SDK calls, CPU-bound decoding); memory stays bounded by WINDOW.
"""
from __future__ import annotations

import hashlib
from collections.abc import Iterator

from .store import StoredXorb, XetFile, get_blocking
from .xorb import iter_chunks

WINDOW = 8 * 1024 * 1024          # stored bytes fetched from S3 per request


class Mismatch(ValueError):
    """The reconstructed bytes do not hash to the sha256 the client claimed."""


def windows(info, start: int, end: int) -> Iterator[tuple[int, int]]:
    """Chunk ranges within [start, end) whose stored bytes fit WINDOW (one chunk at least)."""
    while start < end:
        first = info.byte_range(start, start + 1)[0]
        stop = start + 1
        while stop < end and info.boundaries[stop] - first <= WINDOW:
            stop += 1
        yield start, stop
        start = stop


def window_chunks(store, key: str, first: int, last: int) -> list[bytes | memoryview]:
    """The decoded chunks held in stored bytes [first, last] of a xorb, in order: uncompressed
    chunks as views of the bytes read (a window is neither joined nor copied again)."""
    raw = get_blocking(store, key, offset=first, length=last - first + 1)
    return list(iter_chunks(memoryview(raw)))


def file_bytes(store, file: XetFile, xorbs: dict[str, StoredXorb]) -> Iterator[bytes | memoryview]:
    """The file's bytes, a chunk at a time, read from S3 a window at a time."""
    for xorb_hex, start, end, _ in file.segments:
        stored = xorbs[xorb_hex]
        for lo, hi in windows(stored.info, start, end):
            first, last = stored.info.byte_range(lo, hi)
            yield from window_chunks(store, stored.s3_key, first, last)


def hash_file(store, file: XetFile, xorbs: dict[str, StoredXorb], claimed_sha256: str) -> str:
    """Hash the file's bytes; returns the sha256. Raises Mismatch when a claimed sha256 is given and
    the bytes do not hash to it."""
    digest = hashlib.sha256()
    for piece in file_bytes(store, file, xorbs):
        digest.update(piece)
    actual = digest.hexdigest()
    if claimed_sha256 and actual != claimed_sha256:
        raise Mismatch(f"file bytes hash to sha256 {actual}, the shard claims {claimed_sha256}")
    return actual

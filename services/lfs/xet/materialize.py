"""The one verification read of a Xet file (docs/data-safety.md, docs/architecture.md "Streaming and
speed"): rebuild its bytes from the verified xorbs, hash them with SHA-256, and, unless the LFS
object already exists, store them as the LFS object of that sha256 so every non-Xet client
(git-lfs, HF_HUB_DISABLE_XET, older huggingface_hub) downloads the same file byte-exact over the
plain LFS path.

The bytes go to the canonical key `lfs/<aa>/<bb>/<sha256>` of the claimed sha256 as an S3 multipart
upload that is completed only after they hashed to it (aborted otherwise), so unverified bytes never
become visible under an oid; without a claim they are staged and copied once their hash is known.
Runs in a worker thread (blocking SDK calls, CPU-bound decoding); memory stays bounded by WINDOW.
"""
from __future__ import annotations

import hashlib
import io
import uuid
from collections.abc import Iterator

from minio.commonconfig import ComposeSource, CopySource
from minio.datatypes import Part
from minio.error import S3Error

from .store import STAGING_PREFIX, StoredXorb, XetFile, lfs_key
from .xorb import iter_chunks

WINDOW = 8 * 1024 * 1024          # stored bytes fetched from S3 per request
PART_SIZE = 16 * 1024 * 1024
MAX_COPY = 5 * 1024 ** 3          # single CopyObject limit


class Mismatch(ValueError):
    """The reconstructed bytes do not hash to the sha256 the client claimed."""


def _windows(info, start: int, end: int) -> Iterator[tuple[int, int]]:
    """Chunk ranges within [start, end) whose stored bytes fit WINDOW (one chunk at least)."""
    while start < end:
        first = info.byte_range(start, start + 1)[0]
        stop = start + 1
        while stop < end and info.boundaries[stop] - first <= WINDOW:
            stop += 1
        yield start, stop
        start = stop


def file_bytes(store, file: XetFile, xorbs: dict[str, StoredXorb]) -> Iterator[bytes]:
    """The file's bytes, chunk by chunk, read from S3 in bounded windows."""
    for xorb_hex, start, end, _ in file.segments:
        stored = xorbs[xorb_hex]
        for lo, hi in _windows(stored.info, start, end):
            first, last = stored.info.byte_range(lo, hi)
            response = store.client.get_object(store.bucket, stored.s3_key, offset=first,
                                               length=last - first + 1)
            try:
                raw = response.read()
            finally:
                response.close()
                response.release_conn()
            yield from iter_chunks(raw)


class _Stream(io.RawIOBase):
    """A read()-able view of an iterator of byte strings that hashes what passes through."""

    def __init__(self, pieces: Iterator[bytes]) -> None:
        self.pending: list[bytes] = []
        self.pieces, self.size, self.sha = pieces, 0, hashlib.sha256()

    def readable(self) -> bool:
        return True

    def read(self, n: int = -1) -> bytes:
        while n < 0 or self.size < n:
            piece = next(self.pieces, None)
            if piece is None:
                break
            self.sha.update(piece)
            self.pending.append(piece)
            self.size += len(piece)
        joined = b"".join(self.pending)      # one copy per read, never a growing buffer
        n = len(joined) if n < 0 else n
        out, rest = joined[:n], joined[n:]
        self.pending, self.size = ([rest] if rest else []), len(rest)
        return out

    def drain(self) -> None:
        while self.read(PART_SIZE):
            pass


def _exists(store, key: str) -> bool:
    try:
        store.client.stat_object(store.bucket, key)
        return True
    except S3Error as exc:
        if exc.code in ("NoSuchKey", "NoSuchObject", "NotFound"):
            return False
        raise


def _promote(store, staging: str, canonical: str, size: int) -> None:
    if size <= MAX_COPY:
        store.client.copy_object(store.bucket, canonical, CopySource(store.bucket, staging))
    else:
        store.client.compose_object(store.bucket, canonical, [ComposeSource(store.bucket, staging)])


def materialize(store, file: XetFile, xorbs: dict[str, StoredXorb], claimed_sha256: str) -> str:
    """Hash the file's bytes (and store them as its LFS object if missing); returns the sha256.
    Raises Mismatch when a claimed sha256 is given and the bytes do not hash to it."""
    stream = _Stream(file_bytes(store, file, xorbs))
    if claimed_sha256 and _exists(store, lfs_key(claimed_sha256)):
        stream.drain()
        return _checked(stream.sha.hexdigest(), claimed_sha256)
    if claimed_sha256 and file.size:
        return _multipart_to_canonical(store, stream, claimed_sha256)
    return _via_staging(store, stream, file.size, claimed_sha256)


def _multipart_to_canonical(store, stream: _Stream, claimed: str) -> str:
    """Parts go straight to the canonical key of the claimed sha256; the upload is completed (and
    the object appears) only once the bytes hashed to it, and aborted otherwise."""
    client, bucket, key = store.client, store.bucket, lfs_key(claimed)
    upload_id = client._create_multipart_upload(bucket, key, {"Content-Type": "application/octet-stream"})
    try:
        parts, number = [], 0
        while block := stream.read(PART_SIZE):
            number += 1
            parts.append(Part(number, client._upload_part(bucket, key, block, None, upload_id, number)))
        _checked(stream.sha.hexdigest(), claimed)
        client._complete_multipart_upload(bucket, key, upload_id, parts)
        return claimed
    except BaseException:
        client._abort_multipart_upload(bucket, key, upload_id)
        raise


def _via_staging(store, stream: _Stream, size: int, claimed: str) -> str:
    """Without a claim the key is known only at the end: stage, hash, then copy into place."""
    staging = f"{STAGING_PREFIX}{uuid.uuid4().hex}"
    try:
        store.client.put_object(store.bucket, staging, stream, size, part_size=PART_SIZE,
                                content_type="application/octet-stream")
        sha = _checked(stream.sha.hexdigest(), claimed)
        if not _exists(store, lfs_key(sha)):
            _promote(store, staging, lfs_key(sha), size)
        return sha
    finally:
        store.client.remove_object(store.bucket, staging)


def _checked(actual: str, claimed: str) -> str:
    if claimed and actual != claimed:
        raise Mismatch(f"file bytes hash to sha256 {actual}, the shard claims {claimed}")
    return actual

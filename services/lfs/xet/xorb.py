"""Xorbs (huggingface.co/docs/xet/xorb): a sequence of chunks, each an 8-byte header
(version u8 = 0, compressed length u24 LE, compression scheme u8, uncompressed length u24 LE)
followed by its compressed bytes, optionally followed by the xorb footer ("XETBLOB" info block,
then its length as u32 LE). Clients upload xorbs without the footer; one that comes with a footer
must agree with the chunks.

`parse_xorb` verifies an uploaded xorb completely: every chunk decodes to its declared size, the
xorb hash recomputed from the decoded chunks equals the hash the client named, and size limits hold
before any allocation they would govern (hostile input costs bounded work).
"""
from __future__ import annotations

import struct
from dataclasses import dataclass

from . import hashing
from .compression import CompressionError, Scheme, compress, decompress

CHUNK_HEADER_LEN = 8
CHUNK_VERSION = 0
MAX_CHUNK_SIZE = 128 * 1024                 # uncompressed, strictly enforced by the reference
MAX_COMPRESSED_CHUNK = 2 * MAX_CHUNK_SIZE
MAX_XORB_CHUNKS = 8 * 1024
MAX_XORB_UNPACKED = 64 * 1024 * 1024
# Largest acceptable upload: every chunk stored uncompressed, plus headers and a full footer.
MAX_XORB_BYTES = MAX_XORB_UNPACKED + MAX_XORB_CHUNKS * (CHUNK_HEADER_LEN + 48) + 4096

FOOTER_IDENT = b"XETBLOB"
HASHES_IDENT = b"XBLBHSH"
BOUNDARIES_IDENT = b"XBLBBND"
FOOTER_VERSION = 1
HASHES_VERSION = 0
BOUNDARIES_VERSION = 1
FOOTER_BUFFER_LEN = 16


class XorbError(ValueError):
    """A malformed xorb, or one whose contents do not hash to its name."""


@dataclass(frozen=True)
class XorbInfo:
    """What the server keeps about a verified xorb (chunk data itself lives in S3)."""
    hash: bytes
    chunk_hashes: list[bytes]
    chunk_sizes: list[int]          # uncompressed
    boundaries: list[int]           # end offset of each chunk (header included) in the stored bytes
    data_length: int                # bytes of the chunk section (what is stored; footer dropped)

    @property
    def unpacked_length(self) -> int:
        return sum(self.chunk_sizes)

    def byte_range(self, start: int, end: int) -> tuple[int, int]:
        """Stored byte range [first, last] (inclusive, as in HTTP Range) of chunks [start, end)."""
        first = self.boundaries[start - 1] if start else 0
        return first, self.boundaries[end - 1] - 1


def read_chunk_header(buf: bytes | memoryview, pos: int) -> tuple[int, int, int]:
    """(scheme, compressed length, uncompressed length) of the chunk header at `pos`."""
    if len(buf) - pos < CHUNK_HEADER_LEN:
        raise XorbError("truncated chunk header")
    version, c0, c1, c2, scheme, u0, u1, u2 = buf[pos:pos + CHUNK_HEADER_LEN]
    compressed, uncompressed = c0 | c1 << 8 | c2 << 16, u0 | u1 << 8 | u2 << 16
    if version != CHUNK_VERSION:
        raise XorbError(f"unknown chunk header version {version}")
    if scheme not in tuple(Scheme):
        raise XorbError(f"unknown compression scheme {scheme}")
    if compressed > MAX_COMPRESSED_CHUNK or uncompressed > MAX_CHUNK_SIZE:
        raise XorbError("chunk larger than the maximum chunk size")
    return scheme, compressed, uncompressed


def chunk_header(scheme: int, compressed: int, uncompressed: int) -> bytes:
    return bytes([CHUNK_VERSION]) + compressed.to_bytes(3, "little") + bytes([scheme]) + \
        uncompressed.to_bytes(3, "little")


def iter_chunks(buf: bytes | memoryview, start: int = 0, end: int | None = None):
    """Yield the decoded chunks stored in buf[start:end] (stored xorb bytes, no footer). Given a
    memoryview, an uncompressed chunk is yielded as a view of it (no copy)."""
    pos, end = start, len(buf) if end is None else end
    while pos < end:
        scheme, compressed, uncompressed = read_chunk_header(buf, pos)
        body = pos + CHUNK_HEADER_LEN
        if body + compressed > end:
            raise XorbError("chunk runs past the end of the xorb")
        if scheme == Scheme.NONE and isinstance(buf, memoryview):
            if compressed != uncompressed:
                raise XorbError(f"chunk decodes to {compressed} bytes, header says {uncompressed}")
            yield buf[body:body + compressed]
            pos = body + compressed
            continue
        try:
            yield decompress(scheme, buf[body:body + compressed], uncompressed)
        except CompressionError as exc:
            raise XorbError(str(exc)) from None
        pos = body + compressed


def parse_xorb(buf: bytes, expected_hash: bytes) -> XorbInfo:
    """Verify an uploaded xorb named `expected_hash`; XorbError on any defect."""
    if len(buf) > MAX_XORB_BYTES:
        raise XorbError("xorb too large")
    hashes: list[bytes]
    sizes: list[int]
    boundaries: list[int]
    hashes, sizes, boundaries, pos, unpacked = [], [], [], 0, 0
    while pos < len(buf) and buf[pos:pos + len(FOOTER_IDENT)] != FOOTER_IDENT:
        scheme, compressed, uncompressed = read_chunk_header(buf, pos)
        body = pos + CHUNK_HEADER_LEN
        if body + compressed > len(buf):
            raise XorbError("chunk runs past the end of the xorb")
        unpacked += uncompressed
        if len(hashes) >= MAX_XORB_CHUNKS or unpacked > MAX_XORB_UNPACKED:
            raise XorbError("xorb holds too many chunks or bytes")
        try:
            data = decompress(scheme, buf[body:body + compressed], uncompressed)
        except CompressionError as exc:
            raise XorbError(str(exc)) from None
        hashes.append(hashing.chunk_hash(data))
        sizes.append(uncompressed)
        pos = body + compressed
        boundaries.append(pos)
    if not hashes:
        raise XorbError("xorb holds no chunks")
    info = XorbInfo(hashing.xorb_hash(list(zip(hashes, sizes))), hashes, sizes, boundaries, pos)
    if info.hash != expected_hash:
        raise XorbError("xorb contents do not hash to the xorb's name")
    if pos < len(buf):
        _check_footer(buf[pos:], info)
    return info


def _check_footer(footer: bytes, info: XorbInfo) -> None:
    """A footer sent along must describe exactly the chunks that precede it."""
    expected = serialize_footer(info)
    # The uniqueness nonce (first bytes of the trailing buffer) is free-form; everything else is fixed.
    nonce_at = len(expected) - 4 - FOOTER_BUFFER_LEN
    if len(footer) != len(expected) or footer[:nonce_at] != expected[:nonce_at] \
            or footer[-4:] != expected[-4:]:
        raise XorbError("xorb footer does not match its chunks")


def serialize_footer(info: XorbInfo) -> bytes:
    """The v1 info block plus its trailing u32 length (reference: XorbObjectInfoV1::serialize)."""
    n = len(info.chunk_hashes)
    unpacked, total = [], 0
    for size in info.chunk_sizes:
        total += size
        unpacked.append(total)
    tail_len = 12 + FOOTER_BUFFER_LEN
    boundary_section = BOUNDARIES_IDENT + bytes([BOUNDARIES_VERSION]) + struct.pack("<I", n) + \
        struct.pack(f"<{n}I", *info.boundaries) + struct.pack(f"<{n}I", *unpacked)
    hash_section = HASHES_IDENT + bytes([HASHES_VERSION]) + struct.pack("<I", n) + b"".join(info.chunk_hashes)
    tail = struct.pack("<III", n, len(hash_section) + len(boundary_section) + tail_len,
                       len(boundary_section) + tail_len) + bytes(FOOTER_BUFFER_LEN)
    block = FOOTER_IDENT + bytes([FOOTER_VERSION]) + info.hash + hash_section + boundary_section + tail
    return block + struct.pack("<I", len(block))


def build_xorb(chunks: list[bytes], scheme: int = Scheme.LZ4, footer: bool = False) -> tuple[bytes, XorbInfo]:
    """Serialize chunks into a xorb as a client would (a chunk that does not shrink goes uncompressed)."""
    out, boundaries = bytearray(), []
    for data in chunks:
        packed = compress(scheme, data)
        used = scheme
        if len(packed) >= len(data):
            packed, used = data, Scheme.NONE
        out += chunk_header(used, len(packed), len(data)) + packed
        boundaries.append(len(out))
    hashes = [hashing.chunk_hash(c) for c in chunks]
    sizes = [len(c) for c in chunks]
    info = XorbInfo(hashing.xorb_hash(list(zip(hashes, sizes))), hashes, sizes, boundaries, len(out))
    if footer:
        out += serialize_footer(info)
    return bytes(out), info

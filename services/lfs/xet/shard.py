"""Shards (huggingface.co/docs/xet/shard): the metadata that ties files to xorb chunk ranges.

Layout, all integers little-endian:
- header: 32-byte tag, version u64 (2), footer size u64 (200);
- file info section: per file a 48-byte header (file hash, flags u32, entry count u32, 8 unused),
  its segments (xorb hash, xorb flags u32, unpacked bytes u32, chunk start u32, chunk end u32),
  then, if flagged, one verification entry per segment (range hash + 16 unused) and one metadata
  extension (sha256 + 16 unused); closed by a bookend header (hash of all 0xff bytes);
- xorb ("CAS") info section: per xorb a 48-byte header (xorb hash, flags, chunk count, unpacked
  bytes, bytes on disk) and one 48-byte entry per chunk (chunk hash, unpacked start offset u32,
  unpacked size u32, flags u32, unused u32); closed by a bookend;
- optionally lookup tables and the 200-byte footer. Uploaded shards stop after the xorb section
  (clients strip the footer); shards the server hands out (global dedup) carry the full footer.
"""
from __future__ import annotations

import struct
import time
from dataclasses import dataclass, field

from . import hashing

HEADER_TAG = bytes([ord(c) for c in "HFRepoMetaData"]) + bytes([
    0, 85, 105, 103, 69, 106, 123, 129, 87, 131, 165, 189, 217, 92, 205, 209, 74, 169])
HEADER_VERSION = 2
FOOTER_VERSION = 1
HEADER_LEN = 48
ENTRY_LEN = 48
FOOTER_LEN = 200
MAX_SHARD_BYTES = 64 * 1024 * 1024 + 1024 * 1024

FLAG_VERIFICATION = 1 << 31
FLAG_METADATA_EXT = 1 << 30
CHUNK_FLAG_GLOBAL_DEDUP = 1 << 31
GLOBAL_DEDUP_MODULUS = 1024


class ShardError(ValueError):
    """A malformed shard."""


@dataclass(frozen=True)
class Segment:
    xorb_hash: bytes
    unpacked_bytes: int
    chunk_start: int
    chunk_end: int
    xorb_flags: int = 0


@dataclass
class FileEntry:
    file_hash: bytes
    segments: list[Segment]
    verification: list[bytes] = field(default_factory=list)   # range hash per segment
    sha256: bytes | None = None                               # raw digest (not the Xet byte order)

    @property
    def size(self) -> int:
        return sum(s.unpacked_bytes for s in self.segments)


@dataclass(frozen=True)
class ChunkEntry:
    hash: bytes
    unpacked_start: int
    unpacked_size: int
    flags: int = 0


@dataclass
class XorbEntry:
    xorb_hash: bytes
    chunks: list[ChunkEntry]
    flags: int = 0
    bytes_on_disk: int = 0

    @property
    def unpacked_bytes(self) -> int:
        return sum(c.unpacked_size for c in self.chunks)


@dataclass
class Shard:
    files: list[FileEntry]
    xorbs: list[XorbEntry]
    hmac_key: bytes = hashing.ZERO_HASH


class _Reader:
    """Bounds-checked cursor over the shard bytes."""

    def __init__(self, buf: bytes) -> None:
        self.buf, self.pos = buf, 0

    def take(self, n: int) -> bytes:
        if n < 0 or self.pos + n > len(self.buf):
            raise ShardError("shard truncated")
        out = self.buf[self.pos:self.pos + n]
        self.pos += n
        return out

    def remaining(self) -> int:
        return len(self.buf) - self.pos


def _file_entry(r: _Reader, file_hash: bytes, flags: int, count: int) -> FileEntry:
    following = count * (2 if flags & FLAG_VERIFICATION else 1) + (1 if flags & FLAG_METADATA_EXT else 0)
    if following * ENTRY_LEN > r.remaining():
        raise ShardError("file entry count exceeds the shard's size")
    segments = []
    for _ in range(count):
        xorb, xflags, nbytes, start, end = struct.unpack("<32sIIII", r.take(ENTRY_LEN))
        segments.append(Segment(xorb, nbytes, start, end, xflags))
    verification = [r.take(ENTRY_LEN)[:32] for _ in range(count)] if flags & FLAG_VERIFICATION else []
    sha256 = None
    if flags & FLAG_METADATA_EXT:
        sha256 = hashing.sha256_to_hash(r.take(ENTRY_LEN)[:32])   # the swap is its own inverse
    return FileEntry(file_hash, segments, verification, sha256)


def _xorb_entry(r: _Reader, xorb_hash: bytes, flags: int, count: int, on_disk: int) -> XorbEntry:
    if count * ENTRY_LEN > r.remaining():
        raise ShardError("xorb chunk count exceeds the shard's size")
    chunks = []
    for _ in range(count):
        chash, start, size, cflags, _unused = struct.unpack("<32sIIII", r.take(ENTRY_LEN))
        chunks.append(ChunkEntry(chash, start, size, cflags))
    return XorbEntry(xorb_hash, chunks, flags, on_disk)


def parse_shard(buf: bytes) -> Shard:
    """Parse a shard as uploaded (footer optional); ShardError on any structural defect."""
    if len(buf) > MAX_SHARD_BYTES:
        raise ShardError("shard too large")
    r = _Reader(buf)
    tag, version, footer_size = struct.unpack("<32sQQ", r.take(HEADER_LEN))
    if tag != HEADER_TAG or version != HEADER_VERSION:
        raise ShardError("not a Xet shard (bad header)")
    files, xorbs = [], []
    while True:
        fhash, flags, count, _ = struct.unpack("<32sIIQ", r.take(HEADER_LEN))
        if fhash == hashing.BOOKEND_HASH:
            break
        files.append(_file_entry(r, fhash, flags, count))
    while True:
        xhash, flags, count, _unpacked, on_disk = struct.unpack("<32sIIII", r.take(HEADER_LEN))
        if xhash == hashing.BOOKEND_HASH:
            break
        xorbs.append(_xorb_entry(r, xhash, flags, count, on_disk))
    hmac_key = _footer_key(buf, r.pos) if r.remaining() else hashing.ZERO_HASH
    return Shard(files, xorbs, hmac_key)


def _footer_key(buf: bytes, sections_end: int) -> bytes:
    """Check the optional footer (lookup tables may sit between it and the sections)."""
    if len(buf) - sections_end < FOOTER_LEN:
        raise ShardError("trailing bytes after the shard's sections")
    footer = buf[-FOOTER_LEN:]
    version, = struct.unpack_from("<Q", footer, 0)
    footer_offset, = struct.unpack_from("<Q", footer, FOOTER_LEN - 8)
    if version != FOOTER_VERSION or footer_offset != len(buf) - FOOTER_LEN:
        raise ShardError("bad shard footer")
    return footer[72:104]


def _file_bytes(f: FileEntry) -> bytes:
    flags = FLAG_VERIFICATION if f.verification else 0
    flags |= FLAG_METADATA_EXT if f.sha256 is not None else 0
    out = struct.pack("<32sIIQ", f.file_hash, flags, len(f.segments), 0)
    out += b"".join(struct.pack("<32sIIII", s.xorb_hash, s.xorb_flags, s.unpacked_bytes, s.chunk_start,
                                s.chunk_end) for s in f.segments)
    out += b"".join(v + bytes(16) for v in f.verification)
    if f.sha256 is not None:
        out += hashing.sha256_to_hash(f.sha256) + bytes(16)
    return out


def _xorb_bytes(x: XorbEntry) -> bytes:
    out = struct.pack("<32sIIII", x.xorb_hash, x.flags, len(x.chunks), x.unpacked_bytes, x.bytes_on_disk)
    return out + b"".join(struct.pack("<32sIIII", c.hash, c.unpacked_start, c.unpacked_size, c.flags, 0)
                          for c in x.chunks)


def _bookend() -> bytes:
    return hashing.BOOKEND_HASH + bytes(HEADER_LEN - 32)


def serialize_shard(shard: Shard, *, footer: bool = True, expiry_seconds: int | None = None) -> bytes:
    """A shard with (by default) lookup tables and footer, chunk hashes keyed with `shard.hmac_key`
    when it is not zero (reference: MDBShardInfo::serialize_from / export_as_keyed_shard)."""
    out = bytearray(struct.pack("<32sQQ", HEADER_TAG, HEADER_VERSION, FOOTER_LEN))
    file_offset, file_lookup, index = len(out), [], 0
    for f in shard.files:
        file_lookup.append((_truncate(f.file_hash), index))
        blob = _file_bytes(f)
        index += len(blob) // ENTRY_LEN
        out += blob
    out += _bookend()
    keyed = shard.hmac_key != hashing.ZERO_HASH
    xorb_offset, xorb_lookup, chunk_lookup, index = len(out), [], [], 0
    for x in shard.xorbs:
        if keyed:
            x = XorbEntry(x.xorb_hash, [ChunkEntry(hashing.keyed_hash(shard.hmac_key, c.hash), c.unpacked_start,
                                                   c.unpacked_size, c.flags) for c in x.chunks],
                          x.flags, x.bytes_on_disk)
        xorb_lookup.append((_truncate(x.xorb_hash), index))
        chunk_lookup += [(_truncate(c.hash), index, i) for i, c in enumerate(x.chunks)]
        index += 1 + len(x.chunks)
        out += _xorb_bytes(x)
    out += _bookend()
    if not footer:
        return bytes(out)
    return bytes(out) + _lookups_and_footer(shard, len(out), file_offset, xorb_offset, sorted(file_lookup),
                                            sorted(xorb_lookup), sorted(chunk_lookup), expiry_seconds)


def _lookups_and_footer(shard, start, file_offset, xorb_offset, file_lookup, xorb_lookup, chunk_lookup,
                        expiry_seconds) -> bytes:
    tables = bytearray()
    file_lookup_offset = start
    tables += b"".join(struct.pack("<QI", k, v) for k, v in file_lookup)
    xorb_lookup_offset = start + len(tables)
    tables += b"".join(struct.pack("<QI", k, v) for k, v in xorb_lookup)
    chunk_lookup_offset = start + len(tables)
    tables += b"".join(struct.pack("<QII", k, a, b) for k, a, b in chunk_lookup)
    now = int(time.time())
    expiry = now + expiry_seconds if expiry_seconds else (1 << 64) - 1
    materialized = sum(f.size for f in shard.files)
    stored = sum(x.unpacked_bytes for x in shard.xorbs)
    on_disk = sum(x.bytes_on_disk for x in shard.xorbs)
    footer = struct.pack("<9Q", FOOTER_VERSION, file_offset, xorb_offset, file_lookup_offset, len(file_lookup),
                         xorb_lookup_offset, len(xorb_lookup), chunk_lookup_offset, len(chunk_lookup))
    footer += shard.hmac_key + struct.pack("<QQ", now, expiry) + bytes(48)
    footer += struct.pack("<QQQQ", on_disk, materialized, stored, start + len(tables))
    assert len(footer) == FOOTER_LEN
    return bytes(tables) + footer


def _truncate(raw: bytes) -> int:
    """The reference's truncate_hash: the first u64 word."""
    return int.from_bytes(raw[:8], "little")


def is_global_dedup_eligible(chunk: ChunkEntry) -> bool:
    """Chunks the client may ask the global dedup API about: flagged by the client (first chunk of
    a file) or whose hash % 1024 == 0 (reference: hash_is_global_dedup_eligible)."""
    return bool(chunk.flags & CHUNK_FLAG_GLOBAL_DEDUP) or hashing.hash_mod(chunk.hash, GLOBAL_DEDUP_MODULUS) == 0

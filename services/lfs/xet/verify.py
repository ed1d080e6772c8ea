"""Checks of an uploaded shard against what the server itself verified (huggingface.co/docs/xet/
upload-protocol, "Shard upload"): every referenced xorb exists, each file segment's chunk range is
inside its xorb and its byte count is right, each verification entry is the range hash of the real
chunk hashes (so a client cannot claim chunks it never had), and the file hash is the merkle hash of
all its chunks. Work is bounded by the number of chunks the shard references.
"""
from __future__ import annotations

from . import hashing
from .shard import FileEntry, Shard, XorbEntry
from .store import StoredXorb, XetFile

MAX_CHUNKS_PER_SHARD = 1 << 21   # ~128 GiB of file content at 64 KiB chunks


class ShardRejected(ValueError):
    """The shard is well-formed but does not agree with the stored xorbs."""


def referenced_xorbs(shard: Shard) -> list[str]:
    names = {hashing.hash_hex(s.xorb_hash) for f in shard.files for s in f.segments}
    names |= {hashing.hash_hex(x.xorb_hash) for x in shard.xorbs}
    return sorted(names)


def check_budget(shard: Shard) -> None:
    """Refuse before hashing anything when the shard would make us hash too many chunks."""
    total = sum(max(0, s.chunk_end - s.chunk_start) for f in shard.files for s in f.segments)
    total += sum(len(x.chunks) for x in shard.xorbs)
    if total > MAX_CHUNKS_PER_SHARD:
        raise ShardRejected("shard references too many chunks")


def check_file(entry: FileEntry, xorbs: dict[str, StoredXorb]) -> XetFile:
    """The file as the server will serve it, or ShardRejected."""
    if entry.verification and len(entry.verification) != len(entry.segments):
        raise ShardRejected("verification entries do not match segments")
    if entry.segments and not entry.verification:
        raise ShardRejected("file entry has no verification entries")
    leaves: list = []
    segments: list = []
    for seg, proof in zip(entry.segments, entry.verification):
        name = hashing.hash_hex(seg.xorb_hash)
        stored = xorbs.get(name)
        if stored is None:
            raise ShardRejected(f"file references unknown xorb {name}")
        info = stored.info
        if not 0 <= seg.chunk_start < seg.chunk_end <= len(info.chunk_hashes):
            raise ShardRejected(f"chunk range outside xorb {name}")
        hashes = info.chunk_hashes[seg.chunk_start:seg.chunk_end]
        sizes = info.chunk_sizes[seg.chunk_start:seg.chunk_end]
        if sum(sizes) != seg.unpacked_bytes:
            raise ShardRejected("segment byte count does not match its chunks")
        if hashing.verification_range_hash(hashes) != proof:
            raise ShardRejected("segment verification hash does not match its chunks")
        leaves += zip(hashes, sizes)
        segments.append((name, seg.chunk_start, seg.chunk_end, seg.unpacked_bytes))
    if hashing.file_hash(leaves) != entry.file_hash:
        raise ShardRejected("file hash does not match its chunks")
    sha = entry.sha256.hex() if entry.sha256 is not None else ""
    return XetFile(hashing.hash_hex(entry.file_hash), sum(s[3] for s in segments), sha, segments)


def check_xorb_listing(entry: XorbEntry, xorbs: dict[str, StoredXorb]) -> StoredXorb:
    """A xorb the shard lists must have been uploaded, with exactly these chunks."""
    name = hashing.hash_hex(entry.xorb_hash)
    stored = xorbs.get(name)
    if stored is None:
        raise ShardRejected(f"shard lists xorb {name} that was never uploaded")
    if [c.hash for c in entry.chunks] != stored.info.chunk_hashes or \
            [c.unpacked_size for c in entry.chunks] != stored.info.chunk_sizes:
        raise ShardRejected(f"shard's chunk list for xorb {name} does not match the xorb")
    return stored

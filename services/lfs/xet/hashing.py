"""Xet hashes (huggingface.co/docs/xet/hashing): keyed BLAKE3 chunk hashes, the aggregated merkle
tree behind xorb and file hashes, and the verification range hash of shard file entries.

A hash is held as its 32 raw bytes, in the order they appear in xorbs and shards. Its string form is
Xet's: the bytes read as four little-endian u64 words, each printed as 16 hex digits. Hex strings in
URLs and JSON (xorb hashes, file ids) use that form; `hash_hex`/`hash_from_hex` convert.
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

import blake3

HASH_LEN = 32
ZERO_HASH = bytes(HASH_LEN)
BOOKEND_HASH = b"\xff" * HASH_LEN

# Keys of the spec's keyed hashes ("as generated from random.org" in the reference implementation).
DATA_KEY = bytes([
    102, 151, 245, 119, 91, 149, 80, 222, 49, 53, 203, 172, 165, 151, 24, 28, 157, 228, 33, 16, 155, 235,
    43, 88, 180, 208, 176, 75, 147, 173, 242, 41])
INTERNAL_NODE_KEY = bytes([
    1, 126, 197, 199, 165, 71, 41, 150, 253, 148, 102, 102, 180, 138, 2, 230, 93, 221, 83, 111, 55, 199,
    109, 210, 248, 99, 82, 230, 74, 83, 113, 63])
VERIFICATION_KEY = bytes([
    127, 24, 87, 214, 206, 86, 237, 102, 18, 127, 249, 19, 231, 165, 195, 243, 164, 205, 38, 213, 181, 219,
    73, 230, 65, 36, 152, 127, 40, 251, 148, 195])

# Merkle tree shape: a node closes after a child whose hash % 4 == 0, with 2..9 children.
MEAN_BRANCHING = 4
MAX_GROUP = 2 * MEAN_BRANCHING + 1

_HEX_RE = re.compile(r"^[0-9a-f]{64}$")

ChunkList = Sequence[tuple[bytes, int]]   # (chunk hash, uncompressed size) in order


class BadHash(ValueError):
    """A string that is not a 64-hex Xet hash."""


def hash_hex(raw: bytes) -> str:
    """The spec's string form: four little-endian u64 words, each as 16 lowercase hex digits."""
    return "".join(raw[i:i + 8][::-1].hex() for i in range(0, HASH_LEN, 8))


def hash_from_hex(text: str) -> bytes:
    """Inverse of `hash_hex`; refuses anything but 64 lowercase hex digits."""
    if not isinstance(text, str) or not _HEX_RE.match(text):
        raise BadHash(f"not a Xet hash: {text[:80]!r}")
    raw = bytes.fromhex(text)
    return b"".join(raw[i:i + 8][::-1] for i in range(0, HASH_LEN, 8))


def sha256_to_hash(digest: bytes) -> bytes:
    """A SHA-256 digest as stored in a shard's metadata extension (so `hash_hex` gives its usual hex)."""
    return b"".join(digest[i:i + 8][::-1] for i in range(0, HASH_LEN, 8))


def hash_mod(raw: bytes, modulus: int) -> int:
    """`hash % n` as the reference defines it: the last u64 word (little-endian) modulo n."""
    return int.from_bytes(raw[24:32], "little") % modulus


def chunk_hash(data: bytes) -> bytes:
    """Hash of one chunk's uncompressed bytes: BLAKE3 keyed with DATA_KEY."""
    return blake3.blake3(data, key=DATA_KEY).digest()


def keyed_hash(key: bytes, raw: bytes) -> bytes:
    """The reference's `hash.hmac(key)`: BLAKE3 of the hash bytes keyed with a 32-byte key."""
    return blake3.blake3(raw, key=key).digest()


def _merge(group: ChunkList) -> tuple[bytes, int]:
    """One internal node: BLAKE3 (INTERNAL_NODE_KEY) of lines "{hex} : {size}\\n"; sizes add up."""
    text = "".join(f"{hash_hex(h)} : {size}\n" for h, size in group)
    return blake3.blake3(text.encode(), key=INTERNAL_NODE_KEY).digest(), sum(size for _, size in group)


def _next_cut(nodes: ChunkList, start: int) -> int:
    """End (exclusive) of the group starting at `start`."""
    remaining = len(nodes) - start
    if remaining <= 2:
        return len(nodes)
    end = start + min(MAX_GROUP, remaining)
    for i in range(start + 2, end):
        if hash_mod(nodes[i][0], MEAN_BRANCHING) == 0:
            return i + 1
    return end


def aggregated_hash(chunks: ChunkList) -> bytes:
    """Root of the merkle tree over (hash, size) leaves; the zero hash for no leaves."""
    nodes = list(chunks)
    if not nodes:
        return ZERO_HASH
    while len(nodes) > 1:
        merged, start = [], 0
        while start < len(nodes):
            cut = _next_cut(nodes, start)
            merged.append(_merge(nodes[start:cut]))
            start = cut
        nodes = merged
    return nodes[0][0]


def xorb_hash(chunks: ChunkList) -> bytes:
    """A xorb's hash: the merkle root over its chunks."""
    return aggregated_hash(chunks)


def file_hash(chunks: ChunkList, salt: bytes = ZERO_HASH) -> bytes:
    """A file's hash (its file id): the merkle root keyed once more with the salt (zero by default)."""
    if not chunks:
        return ZERO_HASH
    return keyed_hash(salt, aggregated_hash(chunks))


def verification_range_hash(chunk_hashes: Iterable[bytes]) -> bytes:
    """Shard verification entry for a file segment: BLAKE3 (VERIFICATION_KEY) of the segment's
    concatenated raw chunk hashes. Proves the uploader knew the chunks, not just the xorb's name."""
    return blake3.blake3(b"".join(chunk_hashes), key=VERIFICATION_KEY).digest()

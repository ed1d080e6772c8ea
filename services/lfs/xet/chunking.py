"""Xet content-defined chunking (huggingface.co/docs/xet/chunking): a GEAR rolling hash over the
bytes, a boundary wherever the hash's top 16 bits are zero, chunks between 8 KiB and 128 KiB
(target 64 KiB).

The server never needs to chunk (clients send chunks); this exists to build test xorbs and to
check the library against the reference's boundary vectors. Pure Python: fine for test-sized data.
"""
from __future__ import annotations

from .gear_table import GEAR_TABLE

TARGET_CHUNK_SIZE = 64 * 1024
MIN_CHUNK_SIZE = TARGET_CHUNK_SIZE // 8          # 8 KiB
MAX_CHUNK_SIZE = TARGET_CHUNK_SIZE * 2           # 128 KiB
HASH_WINDOW = 64                                 # bytes that influence a 64-bit GEAR hash
# The target's low bits (target - 1), shifted to the top of the word: the high bits mix best.
MASK = (TARGET_CHUNK_SIZE - 1) << (64 - (TARGET_CHUNK_SIZE - 1).bit_length())
_U64 = (1 << 64) - 1


def _boundary(data: bytes, start: int) -> int:
    """End of the chunk starting at `start` (the caller handles the final, possibly short chunk).

    The first MIN - WINDOW - 1 bytes are skipped (they cannot end a chunk and cannot influence
    the hash once 64 more bytes went in); the hash restarts at zero for every chunk."""
    end = min(len(data), start + MAX_CHUNK_SIZE)
    i = start + MIN_CHUNK_SIZE - HASH_WINDOW - 1
    h, table, mask, min_end = 0, GEAR_TABLE, MASK, start + MIN_CHUNK_SIZE
    while i < end:
        h = ((h << 1) + table[data[i]]) & _U64
        i += 1
        if not h & mask and i >= min_end:
            return i
    return end


def chunk_boundaries(data: bytes) -> list[int]:
    """End offsets of the chunks of `data` (the last one is len(data)); [] for empty data."""
    ends, pos = [], 0
    while pos < len(data):
        pos = _boundary(data, pos) if len(data) - pos > MIN_CHUNK_SIZE - HASH_WINDOW - 1 else len(data)
        ends.append(pos)
    return ends


def chunks(data: bytes) -> list[bytes]:
    """The chunks of `data`, in order."""
    out, start = [], 0
    for end in chunk_boundaries(data):
        out.append(data[start:end])
        start = end
    return out

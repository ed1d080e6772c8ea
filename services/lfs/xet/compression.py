"""Chunk compression schemes of xorbs (huggingface.co/docs/xet/xorb, "Chunk compression"):
0 = none, 1 = LZ4 (frame format), 2 = ByteGrouping4 + LZ4 (the bytes regrouped by position mod 4,
then LZ4 frame). Decompression is bounded: it never produces more than the header's declared size.
"""
from __future__ import annotations

import enum

import lz4.frame


class Scheme(enum.IntEnum):
    NONE = 0
    LZ4 = 1
    BG4_LZ4 = 2


class CompressionError(ValueError):
    """Compressed bytes that do not decode to the declared length."""


def bg4_split(data: bytes) -> bytes:
    """Byte grouping: all bytes at positions 0 mod 4, then 1 mod 4, 2 mod 4, 3 mod 4."""
    return data[0::4] + data[1::4] + data[2::4] + data[3::4]


def bg4_regroup(grouped: bytes) -> bytes:
    """Inverse of `bg4_split`: group k holds n//4 bytes, plus one if k < n % 4."""
    n = len(grouped)
    out = bytearray(n)
    start = 0
    for k in range(4):
        size = n // 4 + (1 if k < n % 4 else 0)
        out[k::4] = grouped[start:start + size]
        start += size
    return bytes(out)


def _lz4_decompress(data: bytes | memoryview, expected: int) -> bytes:
    """LZ4 frame decode that stops after `expected + 1` bytes (a bomb cannot inflate further)."""
    try:
        ctx = lz4.frame.create_decompression_context()
        out, consumed, ended = lz4.frame.decompress_chunk(ctx, data, max_length=expected + 1)
    except RuntimeError as exc:
        raise CompressionError(f"bad LZ4 frame: {exc}") from None
    if len(out) <= expected and (not ended or consumed != len(data)):
        raise CompressionError("LZ4 frame truncated or followed by extra bytes")
    return out


def decompress(scheme: int, data: bytes | memoryview, expected: int) -> bytes:
    """The uncompressed bytes of one chunk; CompressionError unless exactly `expected` long."""
    if scheme == Scheme.NONE:
        out = data
    elif scheme == Scheme.LZ4:
        out = _lz4_decompress(data, expected)
    elif scheme == Scheme.BG4_LZ4:
        out = bg4_regroup(_lz4_decompress(data, expected))
    else:
        raise CompressionError(f"unknown compression scheme {scheme}")
    if len(out) != expected:
        raise CompressionError(f"chunk decodes to {len(out)} bytes, header says {expected}")
    return bytes(out)


def compress(scheme: int, data: bytes) -> bytes:
    """Compress one chunk (for building xorbs in tests and tools)."""
    if scheme == Scheme.NONE:
        return data
    if scheme == Scheme.LZ4:
        return lz4.frame.compress(data)
    if scheme == Scheme.BG4_LZ4:
        return lz4.frame.compress(bg4_split(data))
    raise CompressionError(f"unknown compression scheme {scheme}")

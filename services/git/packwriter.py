"""Streaming pack writer (git Documentation/technical/pack-format.txt, "pack-*.pack files").

A pack is `PACK`, version 2, the object count (all big-endian 32-bit), then one entry per object:
a type-and-size header (3 type bits, size in little-endian base-128 groups of 7 bits with the MSB
as continuation flag) followed by the zlib-deflated object data; a SHA-1 of everything before it
ends the pack. Objects are written whole (no deltas), one zlib stream each, so the writer needs only
the object count up front and each object's size before its data: memory stays constant whatever
the size of the repository or of a single blob.
"""
from __future__ import annotations

import hashlib
import struct
import zlib

OBJ_COMMIT, OBJ_TREE, OBJ_BLOB, OBJ_TAG, OBJ_OFS_DELTA, OBJ_REF_DELTA = 1, 2, 3, 4, 6, 7
TYPE_NAMES = {OBJ_COMMIT: b"commit", OBJ_TREE: b"tree", OBJ_BLOB: b"blob", OBJ_TAG: b"tag"}


class PackWriteError(RuntimeError):
    """The object stream did not match what the pack header promised."""


def entry_header(obj_type: int, size: int) -> bytes:
    """The variable-length type-and-size header of a pack entry."""
    byte = (obj_type << 4) | (size & 0x0F)
    size >>= 4
    out = bytearray()
    while size:
        out.append(byte | 0x80)
        byte = size & 0x7F
        size >>= 7
    out.append(byte)
    return bytes(out)


def _deflater(level: int, size: int):
    """A zlib stream sized for the object: a window no larger than the data (git inflates any
    window up to 32 KiB). Setting up zlib's full 256 KiB state dominates the cost of deflating the
    thousands of small objects of a typical clone, so small objects get a small state."""
    wbits = min(15, max(9, size.bit_length()))
    return zlib.compressobj(level, zlib.DEFLATED, wbits, min(8, max(1, wbits - 7)))


class PackWriter:
    """Turns objects (given as type, size, then data pieces) into pack bytes, piece by piece.

    Usage: `start(count)`, then per object `begin(type, size)` + `write(data)`... (sizes must add up),
    then `finish()`. Every method returns the pack bytes produced so far for the caller to send.
    """

    def __init__(self, level: int = 1) -> None:
        self._sha = hashlib.sha1()
        self._level = level
        self._expected = 0
        self._written = 0
        self._remaining = 0
        self._zlib = None
        self.level = level

    def _out(self, data: bytes) -> bytes:
        self._sha.update(data)
        return data

    def start(self, count: int) -> bytes:
        self._expected = count
        return self._out(b"PACK" + struct.pack(">II", 2, count))

    def begin(self, obj_type: int, size: int, level: int | None = None) -> bytes:
        """Starts an object; `level` overrides the writer's zlib level (0 stores data as is)."""
        tail = self._end_object()
        if self._written >= self._expected:
            raise PackWriteError("more objects than announced")
        if obj_type not in TYPE_NAMES:
            raise PackWriteError(f"bad object type {obj_type}")
        self._written += 1
        self._remaining = size
        self.level = self._level if level is None else level
        self._zlib = _deflater(self.level, size)
        return tail + self._out(entry_header(obj_type, size))

    def write(self, data: bytes) -> bytes:
        if self._zlib is None or len(data) > self._remaining:
            raise PackWriteError("object data longer than its announced size")
        self._remaining -= len(data)
        return self._out(self._zlib.compress(data))

    def _end_object(self) -> bytes:
        if self._zlib is None:
            return b""
        if self._remaining:
            raise PackWriteError("object data shorter than its announced size")
        z, self._zlib = self._zlib, None
        return self._out(z.flush())

    def finish(self) -> bytes:
        tail = self._end_object()
        if self._written != self._expected:
            raise PackWriteError(f"pack announced {self._expected} objects, got {self._written}")
        return tail + self._sha.digest()

    def add(self, obj_type: int, data: bytes) -> bytes:
        """A whole object at once."""
        return self.begin(obj_type, len(data)) + self.write(data)

"""Reads a pack a client pushed (git Documentation/technical/pack-format.txt), from a file.

Three steps, each bounded in memory by the largest single object (not by the pack):
1. `scan()` walks the entries once: type-and-size headers, OBJ_OFS_DELTA negative offsets and
   OBJ_REF_DELTA base ids, and the end of each zlib stream; whole objects are hashed while they are
   inflated (`<type> <size>\\0<data>` -> SHA-1), and the pack's SHA-1 trailer is checked.
2. Deltas are resolved against their base in the same pack (ofs or ref), with a byte-bounded cache
   of recent bases; a base outside the pack (a thin pack, which we never ask for: `no-thin`) fails.
3. `objects()` yields every object in pack order as (oid, type, size, piece, more) with pieces of at
   most `piece_size` bytes, so large blobs stream without being held in memory.
"""
from __future__ import annotations

import hashlib
import struct
import zlib
from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import BinaryIO

from dulwich.pack import apply_delta

from .packwriter import OBJ_OFS_DELTA, OBJ_REF_DELTA, TYPE_NAMES

READ_SIZE = 1 << 16
PIECE_SIZE = 1 << 20
CACHE_BYTES = 64 << 20


class PackError(ValueError):
    """The pack is malformed, truncated, or needs objects it does not contain."""


@dataclass
class Entry:
    offset: int
    kind: int                     # type as written in the pack (may be a delta type)
    size: int                     # inflated size of the entry's data (the delta's, for deltas)
    data_offset: int              # where the zlib stream starts
    base_offset: int = -1         # OBJ_OFS_DELTA
    base_oid: bytes = b""         # OBJ_REF_DELTA (20 raw bytes)
    oid: bytes = b""              # the object's id, once known
    obj_type: int = 0             # the object's real type, once known
    obj_size: int = 0


def object_id(obj_type: int, data: bytes) -> bytes:
    return hashlib.sha1(TYPE_NAMES[obj_type] + b" %d\0" % len(data) + data).digest()


class PackReader:
    def __init__(self, f: BinaryIO, *, cache_bytes: int = CACHE_BYTES) -> None:
        self._f = f
        self.entries: list[Entry] = []
        self._by_offset: dict[int, Entry] = {}
        self._by_oid: dict[bytes, Entry] = {}
        self._cache: OrderedDict[int, tuple[int, bytes]] = OrderedDict()
        self._cache_bytes = 0
        self._cache_limit = cache_bytes

    # --- step 1: walk the entries -----------------------------------------------------------
    def scan(self) -> list[Entry]:
        end = self._check_trailer()
        count = self._read_header()
        pos = 12
        for _ in range(count):
            entry = self._read_entry_header(pos)
            pos = self._walk_entry(entry)
            self.entries.append(entry)
            self._by_offset[entry.offset] = entry
            if entry.oid:
                self._by_oid[entry.oid] = entry
        if pos != end:
            raise PackError("pack has trailing data after its last object")
        self._resolve_deltas()
        return self.entries

    def _check_trailer(self) -> int:
        self._f.seek(0, 2)
        total = self._f.tell()
        if total < 32:
            raise PackError("pack too short")
        sha = hashlib.sha1()
        self._f.seek(0)
        remaining = total - 20
        while remaining:
            chunk = self._f.read(min(READ_SIZE * 16, remaining))
            if not chunk:
                raise PackError("pack truncated")
            sha.update(chunk)
            remaining -= len(chunk)
        if self._f.read(20) != sha.digest():
            raise PackError("pack checksum mismatch")
        return total - 20

    def _read_header(self) -> int:
        self._f.seek(0)
        head = self._f.read(12)
        if head[:4] != b"PACK":
            raise PackError("not a pack")
        version, count = struct.unpack(">II", head[4:])
        if version not in (2, 3):
            raise PackError(f"unsupported pack version {version}")
        return count

    def _read_entry_header(self, pos: int) -> Entry:
        self._f.seek(pos)
        raw = self._f.read(64)
        i, byte = 1, raw[0]
        kind, size, shift = (byte >> 4) & 7, byte & 0x0F, 4
        while byte & 0x80:
            byte = raw[i]
            size |= (byte & 0x7F) << shift
            shift += 7
            i += 1
        entry = Entry(offset=pos, kind=kind, size=size, data_offset=0)
        if kind == OBJ_OFS_DELTA:
            byte = raw[i]
            i += 1
            ofs = byte & 0x7F
            while byte & 0x80:
                byte = raw[i]
                i += 1
                ofs = ((ofs + 1) << 7) | (byte & 0x7F)
            entry.base_offset = pos - ofs
        elif kind == OBJ_REF_DELTA:
            entry.base_oid = raw[i:i + 20]
            i += 20
        elif kind not in TYPE_NAMES:
            raise PackError(f"bad object type {kind} at offset {pos}")
        entry.data_offset = pos + i
        return entry

    def _walk_entry(self, entry: Entry) -> int:
        """Inflates the entry (hashing whole objects); returns the offset of the next entry."""
        if entry.kind in TYPE_NAMES:
            sha = hashlib.sha1(TYPE_NAMES[entry.kind] + b" %d\0" % entry.size)
            end = self._inflate(entry, sha.update)
            entry.oid, entry.obj_type, entry.obj_size = sha.digest(), entry.kind, entry.size
            return end
        return self._inflate(entry, lambda _data: None)

    def _inflate(self, entry: Entry, sink: Callable[[bytes], None]) -> int:
        d = zlib.decompressobj()
        pos, produced = entry.data_offset, 0
        self._f.seek(pos)
        while not d.eof:
            chunk = self._f.read(READ_SIZE)
            if not chunk:
                raise PackError(f"object at offset {entry.offset} is truncated")
            try:
                out = d.decompress(chunk)
            except zlib.error as exc:
                raise PackError(f"object at offset {entry.offset}: {exc}") from None
            produced += len(out)
            if produced > entry.size:
                raise PackError(f"object at offset {entry.offset} is larger than its header says")
            if out:
                sink(out)
            pos += len(chunk) - len(d.unused_data)
        if produced != entry.size:
            raise PackError(f"object at offset {entry.offset} has the wrong size")
        return pos

    def _inflate_all(self, entry: Entry) -> bytes:
        parts: list[bytes] = []
        self._inflate(entry, parts.append)
        return b"".join(parts)

    # --- step 2: resolve deltas ---------------------------------------------------------------
    def _resolve_deltas(self) -> None:
        pending = [e for e in self.entries if not e.oid]
        while pending:
            waiting = []
            for entry in pending:
                if self._base_of(entry) is None or not self._base_of(entry).obj_type:
                    waiting.append(entry)
                    continue
                obj_type, data = self._full(entry)
                entry.oid, entry.obj_type, entry.obj_size = object_id(obj_type, data), obj_type, len(data)
                self._by_oid[entry.oid] = entry
            if len(waiting) == len(pending):
                raise PackError(f"delta base {self._missing_base(waiting[0])} is not in the pack "
                                "(thin packs are not accepted)")
            pending = waiting

    def _base_of(self, entry: Entry) -> Entry | None:
        if entry.kind == OBJ_OFS_DELTA:
            base = self._by_offset.get(entry.base_offset)
            if base is None:
                raise PackError(f"delta at offset {entry.offset} points outside the pack")
            return base
        return self._by_oid.get(entry.base_oid)

    def _missing_base(self, entry: Entry) -> str:
        return entry.base_oid.hex() if entry.base_oid else f"at offset {entry.base_offset}"

    def _full(self, entry: Entry) -> tuple[int, bytes]:
        """The object's type and whole data (deltas applied), through the base cache."""
        hit = self._cache.get(entry.offset)
        if hit is not None:
            self._cache.move_to_end(entry.offset)
            return hit
        if entry.kind in TYPE_NAMES:
            result = (entry.kind, self._inflate_all(entry))
        else:
            base_type, base = self._full(self._base_of(entry))
            try:
                result = (base_type, b"".join(apply_delta(base, self._inflate_all(entry))))
            except Exception as exc:  # dulwich raises ApplyDeltaError / ValueError on bad deltas
                raise PackError(f"bad delta at offset {entry.offset}: {exc}") from None
        self._remember(entry.offset, result)
        return result

    def _remember(self, offset: int, value: tuple[int, bytes]) -> None:
        size = len(value[1])
        if size > self._cache_limit // 4:
            return
        self._cache[offset] = value
        self._cache_bytes += size
        while self._cache_bytes > self._cache_limit:
            _, (_, old) = self._cache.popitem(last=False)
            self._cache_bytes -= len(old)

    # --- step 3: objects in pack order ----------------------------------------------------------
    def objects(self, piece_size: int = PIECE_SIZE) -> Iterator[tuple[str, int, int, bytes, bool]]:
        """(oid hex, type, size, piece, more) for every object; `more` is True until its last piece."""
        for entry in self.entries:
            oid = entry.oid.hex()
            if entry.kind in TYPE_NAMES and entry.size > piece_size:
                yield from self._stream_whole(entry, oid, piece_size)
                continue
            obj_type, data = self._full(entry) if entry.kind not in TYPE_NAMES else \
                (entry.kind, self._inflate_all(entry))
            if not data:
                yield oid, obj_type, 0, b"", False
            for start in range(0, len(data), piece_size):
                yield oid, obj_type, len(data), data[start:start + piece_size], \
                    start + piece_size < len(data)

    def _stream_whole(self, entry: Entry, oid: str, piece_size: int):
        buf = bytearray()
        sent = 0
        pieces: list[bytes] = []

        def sink(data: bytes) -> None:
            buf.extend(data)
            while len(buf) >= piece_size:
                pieces.append(bytes(buf[:piece_size]))
                del buf[:piece_size]
        # The consumer may use the reader between pieces, so keep our own file position.
        d = zlib.decompressobj()
        pos = entry.data_offset
        while not d.eof:
            self._f.seek(pos)
            chunk = self._f.read(READ_SIZE)
            if not chunk:
                raise PackError(f"object at offset {entry.offset} is truncated")
            pos += len(chunk)
            sink(d.decompress(chunk))
            while pieces:
                piece = pieces.pop(0)
                sent += len(piece)
                yield oid, entry.kind, entry.size, piece, sent < entry.size
        if buf:
            sent += len(buf)
            yield oid, entry.kind, entry.size, bytes(buf), False

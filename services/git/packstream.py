"""A pack streamed from metadata's GitFetchObjects answer, framed for the wire.

The first GitObjectBatch announces how many objects follow; each object arrives raw (no header, not
compressed), a large blob spread over several messages (`more`). Objects are deflated one by one as
they arrive (large pieces in a worker thread: zlib releases the GIL) and the pack bytes are sent in
side-band-64k packets of about `FLUSH_AT` bytes, so memory does not grow with the repository.
"""
from __future__ import annotations

import asyncio
import zlib
from collections.abc import AsyncIterator

from hangar_protos import metadata_pb2

from . import pktline
from .packwriter import PackWriter

FLUSH_AT = 256 * 1024
THREAD_AT = 256 * 1024
SAMPLE = 64 * 1024


class PackFramer:
    """Collects pack bytes and hands them out framed (side-band channel 1, or raw)."""

    def __init__(self, use_sideband: bool) -> None:
        self.use_sideband = use_sideband
        self._buf = bytearray()

    def add(self, data: bytes) -> bytes:
        self._buf += data
        return self.take() if len(self._buf) >= FLUSH_AT else b""

    def take(self) -> bytes:
        data, self._buf = bytes(self._buf), bytearray()
        if not data:
            return b""
        return pktline.sideband(pktline.PACK_DATA, data) if self.use_sideband else data


async def _write(writer: PackWriter, data: bytes) -> bytes:
    if len(data) >= THREAD_AT and writer.level != 0:
        return await asyncio.to_thread(writer.write, data)
    return writer.write(data)


async def pack_bytes(first: metadata_pb2.GitObjectBatch,
                     rest: AsyncIterator[metadata_pb2.GitObjectBatch],
                     level: int = 1) -> AsyncIterator[bytes]:
    """Raw pack bytes for the objects of `first` and the batches after it, one piece per batch."""
    writer = PackWriter(level)
    out = [writer.start(first.object_count)]
    pending: list[bytes] = []        # an object whose size metadata did not announce
    pending_type = 0
    open_object = False
    async for batch in _batches(first, rest):
        for obj in batch.objects:
            if pending or (not open_object and obj.more and not obj.size):
                pending_type = pending_type or obj.type
                pending.append(obj.data)
                if not obj.more:
                    data, pending = b"".join(pending), []
                    out.append(writer.begin(pending_type, len(data)))
                    out.append(await _write(writer, data))
                    pending_type = 0
                continue
            if not open_object:
                size = obj.size if obj.more or obj.size else len(obj.data)
                out.append(writer.begin(obj.type, size, level=_level_for(obj.data)))
            out.append(await _write(writer, obj.data))
            open_object = obj.more
        yield b"".join(out)
        out = []
    yield b"".join(out) + writer.finish()


def _level_for(first_piece: bytes) -> int | None:
    """Large pieces that do not compress (weights, archives, media) are stored (zlib level 0):
    deflating them costs far more CPU than the few bytes it saves. Others keep the default."""
    if len(first_piece) < SAMPLE:
        return None
    sample = first_piece[:SAMPLE]
    return 0 if len(zlib.compress(sample, 1)) > 0.9 * len(sample) else None


async def _batches(first, rest):
    yield first
    async for batch in rest:
        yield batch


async def framed_pack(first, rest, use_sideband: bool) -> AsyncIterator[bytes]:
    framer = PackFramer(use_sideband)
    async for data in pack_bytes(first, rest):
        out = framer.add(data)
        if out:
            yield out
    out = framer.take()
    if out:
        yield out

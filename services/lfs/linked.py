"""Whole S3 objects that an outside reader links by physical address: the lakeFS engine links every
LFS file of a Hub commit (`ObjectLocations`, docs/lakefs.md). lakeFS links one whole object per
file, so:

- an object stored under an S3 key of its own is answered with that key, and the key is recorded
  in `linked_keys` (migrations/versions/l0001_linked_copies.py): the Xet single-copy migration
  then leaves those bytes where they are, since lakeFS commits point at them;
- an object stored as a Xet file (its bytes are the xorbs') gets one copy rebuilt from its xorbs at
  `lfs/<aa>/<bb>/<oid>.linked`, hashed while it is written (nothing unverified is ever linked), and
  recorded the same way. So under the lakeFS engine a Xet-uploaded file is stored twice, the price
  of lakeFS's whole-object links (docs/storage.md).

Both happen under the oid's lock (the one verification, migration and garbage collection take), so
concurrent callers rebuild a file once. Linked keys live as long as the object: garbage collection
deletes them with it (gc._delete_locked), and it never deletes an object a lakeFS commit links
(metadata's UnreferencedOids counts lakefs_links).
"""
from __future__ import annotations

import asyncio
import hashlib
import logging

from sqlalchemy import text

from . import catalog
from .blobstore import canonical_key
from .settings import MiB
from .xet import file_stream, lfs_bridge
from .xet.materialize import file_bytes

logger = logging.getLogger("hangar.lfs.linked")
PART = 64 * MiB


class RebuildMismatch(RuntimeError):
    """The bytes rebuilt from a Xet file's xorbs are not the object's (never linked)."""


def rebuilt_key(oid: str) -> str:
    return canonical_key(oid) + ".linked"


async def locate(ctx, oids: list[str]) -> dict[str, tuple[int, str]]:
    """oid -> (size, key of one whole S3 object holding its bytes) for the verified objects among
    `oids`, every key recorded as linked. Objects whose Xet file cannot be read are absent."""
    out: dict[str, tuple[int, str]] = {}
    for oid in oids:
        found = await _locate_one(ctx, oid)
        if found is not None:
            out[oid] = found
    return out


async def _locate_one(ctx, oid: str) -> tuple[int, str] | None:
    async with ctx.engine.begin() as conn:
        await catalog.lock_oid(conn, oid)
        located = (await catalog.locations(conn, [oid])).get(oid)
        if located is None:
            return None
        size, key = located
        if lfs_bridge.is_xet_key(key):
            key = rebuilt_key(oid)
            known = (await conn.execute(text("SELECT 1 FROM linked_keys WHERE oid = :oid AND key = :key"),
                                        {"oid": oid, "key": key})).first()
            if known is None:
                xet_file = await file_stream.open_file(ctx.engine, oid)
                if xet_file is None:
                    logger.warning("xet file of a linked object is unreadable", extra={"fields": {"oid": oid}})
                    return None
                await asyncio.to_thread(_write_rebuilt, ctx.blobs, key, xet_file, oid, size)
        await conn.execute(text(
            "INSERT INTO linked_keys (oid, key, size) VALUES (:oid, :key, :size) ON CONFLICT DO NOTHING"),
            {"oid": oid, "key": key, "size": size})
        return size, key


class _Reader:
    """A file-like view of the rebuilt bytes for a streaming S3 upload, hashing as it goes."""

    def __init__(self, pieces) -> None:
        self.pieces, self.buffer, self.digest, self.size = pieces, bytearray(), hashlib.sha256(), 0

    def read(self, n: int = -1) -> bytes:
        while n < 0 or len(self.buffer) < n:
            piece = next(self.pieces, None)
            if piece is None:
                break
            self.digest.update(piece)
            self.size += len(piece)
            self.buffer += piece
        n = len(self.buffer) if n < 0 else n
        out = bytes(self.buffer[:n])
        del self.buffer[:n]
        return out


def _write_rebuilt(blobs, key: str, xet_file, oid: str, size: int) -> None:
    """Blocking: stream the file's bytes from its xorbs into `key` (memory: one part), then check
    that they hashed to the oid; a mismatch deletes the copy."""
    reader = _Reader(file_bytes(blobs.store, *xet_file))
    blobs.client.put_object(blobs.bucket, key, reader, length=-1, part_size=PART)
    if reader.digest.hexdigest() != oid or reader.size != size:
        blobs.client.remove_object(blobs.bucket, key)
        raise RebuildMismatch(f"rebuilt bytes of {oid} hash to {reader.digest.hexdigest()} ({reader.size} bytes)")


async def forget(conn, oid: str) -> list[str]:
    """The object is being deleted (in the caller's transaction, under its lock): its linked keys,
    whose bytes the caller deletes after the commit."""
    rows = await conn.execute(text("DELETE FROM linked_keys WHERE oid = :oid RETURNING key"), {"oid": oid})
    return [row.key for row in rows]


async def is_linked(conn, oid: str) -> bool:
    return (await conn.execute(text("SELECT 1 FROM linked_keys WHERE oid = :oid LIMIT 1"), {"oid": oid})).first() \
        is not None

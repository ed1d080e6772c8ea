"""Where Xet state lives: xorbs and shards in S3 under `xet/`, lookup tables in PostgreSQL (schema
lfs, tables `xet_*`, see migrations/versions/x0001_xet_storage.py). Every function here is async
and never blocks the loop (SQLAlchemy async; S3 SDK calls in the thread pool)."""
from __future__ import annotations

import io
import struct
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

import orjson
from sqlalchemy import text

from .hashing import hash_from_hex, hash_hex
from .xorb import XorbInfo

XORB_PREFIX = "xet/xorbs/"
SHARD_PREFIX = "xet/shards/"
STAGING_PREFIX = "xet/staging/"


def lfs_key(sha256: str) -> str:
    """The canonical key of an LFS object (docs/architecture.md "Versioning engines": lfs/<aa>/<bb>/<sha256>),
    where Xet files were once rebuilt a second time (services/lfs/xet/single_copy.py removes those copies)."""
    return f"lfs/{sha256[:2]}/{sha256[2:4]}/{sha256}"


@dataclass(frozen=True)
class StoredXorb:
    info: XorbInfo
    s3_key: str


@dataclass(frozen=True)
class XetFile:
    file_hash: str
    size: int
    sha256: str
    segments: list[tuple[str, int, int, int]]   # (xorb hash, chunk start, chunk end, unpacked bytes)


def _pack_u32s(values: list[int]) -> bytes:
    return struct.pack(f"<{len(values)}I", *values)


def _unpack_u32s(raw: bytes) -> list[int]:
    return list(struct.unpack(f"<{len(raw) // 4}I", raw))


def _xorb_from_row(row) -> StoredXorb:
    hashes = bytes(row.chunk_hashes)
    info = XorbInfo(hash_from_hex(row.hash), [hashes[i:i + 32] for i in range(0, len(hashes), 32)],
                    _unpack_u32s(bytes(row.chunk_sizes)), _unpack_u32s(bytes(row.boundaries)),
                    row.stored_bytes)
    return StoredXorb(info, row.s3_key)


async def load_xorbs(engine, hashes: list[str]) -> dict[str, StoredXorb]:
    """The verified xorbs among `hashes` (hex), by hash."""
    if not hashes:
        return {}
    async with engine.connect() as conn:
        rows = await conn.execute(text(
            "SELECT hash, s3_key, stored_bytes, chunk_hashes, chunk_sizes, boundaries FROM xet_xorbs "
            "WHERE hash = ANY(:hashes)"), {"hashes": list(set(hashes))})
        return {row.hash: _xorb_from_row(row) for row in rows}


async def xorb_exists(engine, xorb_hex: str) -> bool:
    async with engine.connect() as conn:
        row = await conn.execute(text("SELECT 1 FROM xet_xorbs WHERE hash = :h"), {"h": xorb_hex})
        return row.first() is not None


async def insert_xorb(engine, info: XorbInfo, s3_key: str, *, repo_id: str, user_id: str) -> bool:
    """Record a verified xorb; False when another upload of the same hash got there first."""
    async with engine.begin() as conn:
        row = await conn.execute(text(
            "INSERT INTO xet_xorbs (hash, s3_key, stored_bytes, unpacked_bytes, num_chunks, chunk_hashes, "
            "chunk_sizes, boundaries, repo_id, uploaded_by) VALUES (:hash, :key, :stored, :unpacked, :n, "
            ":hashes, :sizes, :bounds, :repo, :user) ON CONFLICT (hash) DO NOTHING RETURNING hash"), {
                "hash": hash_hex(info.hash), "key": s3_key, "stored": info.data_length,
                "unpacked": info.unpacked_length, "n": len(info.chunk_hashes),
                "hashes": b"".join(info.chunk_hashes), "sizes": _pack_u32s(info.chunk_sizes),
                "bounds": _pack_u32s(info.boundaries), "repo": repo_id, "user": user_id})
        return row.first() is not None


async def index_shard(engine, shard_key: str, xorb_hashes: list[str], pairs: list[tuple[str, str]],
                      file_hashes: Sequence[str] = ()) -> None:
    """Remember which xorbs and (registered) files a shard listed, and make (chunk hash, xorb hash)
    pairs answerable by the global dedup API through that shard (the first shard to index a chunk wins)."""
    async with engine.begin() as conn:
        await index_shard_files(conn, shard_key, list(file_hashes))
        if xorb_hashes:
            await conn.execute(text(
                "INSERT INTO xet_shard_xorbs (shard_key, xorb_hash) SELECT :k, x FROM unnest(CAST(:x AS text[])) "
                "AS x ON CONFLICT DO NOTHING"), {"k": shard_key, "x": xorb_hashes})
        if pairs:
            await conn.execute(text(
                "INSERT INTO xet_dedup_chunks (chunk_hash, xorb_hash, shard_key) SELECT c, x, :k FROM "
                "unnest(CAST(:c AS text[]), CAST(:x AS text[])) AS t(c, x) ON CONFLICT (chunk_hash) DO NOTHING"),
                {"k": shard_key, "c": [c for c, _ in pairs], "x": [x for _, x in pairs]})


async def index_shard_files(conn, shard_key: str, file_hashes: list[str]) -> None:
    """The registered files among `file_hashes` are named by the shard `shard_key`."""
    if file_hashes:
        await conn.execute(text(
            "INSERT INTO xet_shard_files (shard_key, file_hash) SELECT :k, file_hash FROM xet_files "
            "WHERE file_hash = ANY(:f) ON CONFLICT DO NOTHING"), {"k": shard_key, "f": file_hashes})


async def dedup_xorbs_for_chunk(engine, chunk_hex: str, limit: int) -> list[str]:
    """The xorb holding an indexed chunk first, then the other xorbs its shard listed (at most `limit`)."""
    async with engine.connect() as conn:
        row = (await conn.execute(text("SELECT xorb_hash, shard_key FROM xet_dedup_chunks WHERE chunk_hash = :c"),
                                  {"c": chunk_hex})).first()
        if row is None:
            return []
        others = await conn.execute(text(
            "SELECT xorb_hash FROM xet_shard_xorbs WHERE shard_key = :k AND xorb_hash <> :x "
            "ORDER BY xorb_hash LIMIT :n"), {"k": row.shard_key or "", "x": row.xorb_hash, "n": limit - 1})
        return [row.xorb_hash] + [r.xorb_hash for r in others]


async def get_file(engine, file_hex: str) -> XetFile | None:
    async with engine.connect() as conn:
        row = (await conn.execute(text(
            "SELECT file_hash, size, sha256, segments FROM xet_files WHERE file_hash = :f"),
            {"f": file_hex})).first()
    if row is None:
        return None
    segments = row.segments if isinstance(row.segments, list) else orjson.loads(row.segments)
    return XetFile(row.file_hash, row.size, row.sha256, [tuple(s) for s in segments])


async def file_for_sha256(engine, sha256: str) -> XetFile | None:
    """The first verified Xet file whose bytes hash to `sha256` (one is enough: same bytes)."""
    async with engine.connect() as conn:
        row = (await conn.execute(text(
            "SELECT file_hash, size, sha256, segments FROM xet_files WHERE sha256 = :s "
            "ORDER BY verified_at, file_hash LIMIT 1"), {"s": sha256})).first()
    if row is None:
        return None
    segments = row.segments if isinstance(row.segments, list) else orjson.loads(row.segments)
    return XetFile(row.file_hash, row.size, row.sha256, [tuple(s) for s in segments])


async def register_file(engine, f: XetFile, *, repo_id: str, user_id: str) -> None:
    """Record a verified file and the uploader's grant for the repository the token names."""
    async with engine.begin() as conn:
        await conn.execute(text(
            "INSERT INTO xet_files (file_hash, size, sha256, segments) VALUES (:f, :size, :sha, "
            "CAST(:segs AS jsonb)) ON CONFLICT (file_hash) DO NOTHING"),
            {"f": f.file_hash, "size": f.size, "sha": f.sha256, "segs": orjson.dumps(f.segments).decode()})
        await conn.execute(text(
            "INSERT INTO xet_file_grants (file_hash, repo_id, user_id) VALUES (:f, :repo, :user) "
            "ON CONFLICT DO NOTHING"), {"f": f.file_hash, "repo": repo_id, "user": user_id})


async def file_granted_to_repo(engine, file_hex: str, repo_id: str) -> bool:
    async with engine.connect() as conn:
        row = await conn.execute(text(
            "SELECT 1 FROM xet_file_grants WHERE file_hash = :f AND repo_id = :r"), {"f": file_hex, "r": repo_id})
        return row.first() is not None


async def record_shard(engine, key: str, size: int, *, repo_id: str, user_id: str) -> bool:
    """False when the very same shard was registered before (its files are indexed now: index_shard
    ran first)."""
    async with engine.begin() as conn:
        row = await conn.execute(text(
            "INSERT INTO xet_shards (key, size, repo_id, uploaded_by, files_indexed) VALUES (:k, :s, :r, :u, true) "
            "ON CONFLICT (key) DO NOTHING RETURNING key"), {"k": key, "s": size, "r": repo_id, "u": user_id})
        if row.first() is not None:
            return True
        await conn.execute(text("UPDATE xet_shards SET files_indexed = true WHERE key = :k AND NOT files_indexed"),
                           {"k": key})
        return False


async def footprint(engine, file_hashes: list[str]) -> tuple[int, int]:
    """(xorb bytes, shard bytes) the files `file_hashes` use in S3: the stored bytes of every xorb
    one of them has a segment in, and the size of every shard that named one of them, each once."""
    if not file_hashes:
        return 0, 0
    async with engine.connect() as conn:
        xorbs = (await conn.execute(text(
            "SELECT coalesce(sum(stored_bytes), 0) FROM xet_xorbs WHERE hash IN ("
            "SELECT DISTINCT s->>0 FROM xet_files f CROSS JOIN LATERAL jsonb_array_elements(f.segments) s "
            "WHERE f.file_hash = ANY(:f))"), {"f": file_hashes})).scalar()
        shards = (await conn.execute(text(
            "SELECT coalesce(sum(size), 0) FROM xet_shards WHERE key IN ("
            "SELECT shard_key FROM xet_shard_files WHERE file_hash = ANY(:f))"), {"f": file_hashes})).scalar()
    return int(xorbs), int(shards)


# --- S3 -----------------------------------------------------------------------------------------

def new_xorb_key(xorb_hex: str) -> str:
    return f"{XORB_PREFIX}{xorb_hex}/{uuid.uuid4().hex}"


async def put_bytes(store, key: str, data: bytes) -> None:
    await store.run(store.client.put_object, store.bucket, key, io.BytesIO(data), len(data),
                    content_type="application/octet-stream")


async def delete(store, key: str) -> None:
    await store.run(store.client.remove_object, store.bucket, key)


def get_blocking(store, key: str, **byte_range) -> bytes:
    """An object's bytes (or a range: offset=, length=), read in the calling thread."""
    response = store.client.get_object(store.bucket, key, **byte_range)
    try:
        return response.read()
    finally:
        response.close()
        response.release_conn()


async def read_range(store, key: str, first: int, last: int) -> bytes:
    """Bytes [first, last] (inclusive) of an object."""
    return await store.run(get_blocking, store, key, offset=first, length=last - first + 1)


async def read_all(store, key: str) -> bytes:
    """A whole (small) object: a shard."""
    return await store.run(get_blocking, store, key)


async def exists(store, key: str) -> bool:
    from minio.error import S3Error

    try:
        await store.run(store.client.stat_object, store.bucket, key)
        return True
    except S3Error as exc:
        if exc.code in ("NoSuchKey", "NoSuchObject", "NotFound"):
            return False
        raise

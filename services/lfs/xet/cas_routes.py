"""The Xet CAS API (huggingface.co/docs/xet/api; xet-core openapi/cas.openapi.yaml), mounted under
/xet so the casUrl handed out is `<hub origin>/xet`:

- POST /v1/xorbs/default/{hash}: verify and store a xorb (write scope);
- POST /v1/shards: verify a shard against stored xorbs, register its files (write scope);
- GET /v1/chunks/default-merkledb/{hash}: global dedup, a keyed shard or 404 (read scope);
- GET /v1/reconstructions/{file_id}: terms + presigned xorb ranges, Range-aware (read scope), and V2;
- POST /v1/telemetry: accepted and dropped (the spec allows servers without telemetry).

GET /v2/reconstructions/{file_id} answers the V2 shape (one signed range per URL); /v2/shards is not
served (hf_xet falls back to /v1/shards on 404).
Tokens come from the token endpoints (tokens.py) and name one repository and scope.
"""
from __future__ import annotations

import asyncio
import hashlib
import logging
import os

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from hangar_common import errors
from hangar_common.grpcio import call
from hangar_protos import auth_pb2, auth_pb2_grpc, metadata_pb2, metadata_pb2_grpc

from .. import contributors
from . import gc, lfs_bridge, store, tokens
from .hashing import BadHash, hash_from_hex, hash_hex
from .materialize import Mismatch, hash_file
from .presign import presign_range_get
from .reconstruction import RangeNotSatisfiable, as_v2, parse_range, plan
from .shard import (
    MAX_SHARD_BYTES,
    ChunkEntry,
    Shard,
    ShardError,
    XorbEntry,
    is_global_dedup_eligible,
    parse_shard,
    serialize_shard,
)
from .verify import ShardRejected, check_budget, check_file, check_xorb_listing, referenced_xorbs
from .xorb import MAX_XORB_BYTES, XorbError, parse_xorb

logger = logging.getLogger("hangar.lfs.xet")
router = APIRouter(prefix="/xet")

URL_TTL_SECONDS = 3600
DEDUP_SHARD_TTL = 24 * 3600
DEDUP_MAX_XORBS = 64                  # xorbs per global dedup answer (a 64 MiB xorb each at most)
TELEMETRY_LIMIT = 1024 * 1024


async def _token(request: Request, scope: str) -> tokens.CasToken:
    header = request.headers.get("authorization", "")
    if not header.lower().startswith("bearer "):
        raise errors.Unauthorized("A Xet access token is required")
    resources = request.app.state.resources
    try:
        token = tokens.verify(resources.settings.secret_key, header[7:].strip())
    except tokens.InvalidToken as exc:
        raise errors.Unauthorized(f"Invalid Xet access token: {exc}") from None
    if not token.allows(scope):
        raise errors.Forbidden("This Xet token does not allow writing", code="InsufficientScope")
    if token.token_id:  # bound to an access token: dead as soon as that one is revoked
        answer = await call(auth_pb2_grpc.AuthStub(resources.channels["auth"]).TokenActive,
                            auth_pb2.TokenActiveRequest(token_id=token.token_id, user_id=token.user_id))
        if not answer.active:
            raise errors.Unauthorized("Invalid Xet access token: the access token it was minted from "
                                      "was revoked")
    return token


def _hash(text: str) -> bytes:
    try:
        return hash_from_hex(text)
    except BadHash:
        raise errors.BadRequest("Malformed hash: expected 64 lowercase hex digits", code="BadHash") from None


def _prefix(prefix: str, *expected: str) -> None:
    if prefix not in expected:
        raise errors.BadRequest(f"Unknown prefix {prefix[:40]!r}; expected one of {expected}", code="BadPrefix")


async def _body(request: Request, limit: int) -> bytes:
    """The request body, refused with 413 as soon as it exceeds `limit`."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise errors.PayloadTooLarge(f"Body larger than {limit} bytes")
    body = bytearray()
    async for piece in request.stream():
        body += piece
        if len(body) > limit:
            raise errors.PayloadTooLarge(f"Body larger than {limit} bytes")
    return bytes(body)


def _resources(request: Request):
    return request.app.state.resources


@router.post("/v1/xorbs/{prefix}/{xorb_hash}")
async def upload_xorb(request: Request, prefix: str, xorb_hash: str):
    token = await _token(request, "write")
    _prefix(prefix, "default")
    expected = _hash(xorb_hash)
    res = _resources(request)
    if await store.xorb_exists(res.engine, xorb_hash):
        return JSONResponse({"was_inserted": False})
    body = await _body(request, MAX_XORB_BYTES)
    try:
        info = await asyncio.to_thread(parse_xorb, body, expected)
    except XorbError as exc:
        raise errors.BadRequest(f"Xorb rejected: {exc}", code="InvalidXorb") from None
    if token.contributor:   # someone uploading for their own pull request: bounded (issue 13)
        async with res.engine.begin() as conn:
            await contributors.reserve(conn, request.app.state.lfs.config, user_id=token.user_id,
                                       repo_id=token.repo_id, items={f"xorb:{xorb_hash}": len(body)})
    key = store.new_xorb_key(xorb_hash)
    await store.put_bytes(res.store, key, body[:info.data_length])
    inserted = await store.insert_xorb(res.engine, info, key, repo_id=token.repo_id, user_id=token.user_id)
    if not inserted:
        await store.delete(res.store, key)
    return JSONResponse({"was_inserted": inserted})


@router.post("/v1/shards")
async def upload_shard(request: Request):
    token = await _token(request, "write")
    res = _resources(request)
    body = await _body(request, MAX_SHARD_BYTES)
    try:
        shard = await asyncio.to_thread(parse_shard, body)
        check_budget(shard)
    except (ShardError, ShardRejected) as exc:
        raise errors.BadRequest(f"Shard rejected: {exc}", code="InvalidShard") from None
    async with gc.shared_lock(res.engine):      # no xorb is collected while this shard is checked
        return await _apply_shard(res, shard, body, token)


async def _apply_shard(res, shard: Shard, body: bytes, token: tokens.CasToken) -> JSONResponse:
    xorbs = await store.load_xorbs(res.engine, referenced_xorbs(shard))
    try:
        files = await asyncio.to_thread(_check_shard, shard, xorbs)
    except ShardRejected as exc:
        raise errors.BadRequest(f"Shard rejected: {exc}", code="InvalidShard") from None
    for f in files:
        await _register(res, f, xorbs, token)
    key = store.SHARD_PREFIX + hashlib.sha256(body).hexdigest()
    await store.put_bytes(res.store, key, body)
    await store.index_shard(res.engine, key, [hash_hex(x.xorb_hash) for x in shard.xorbs],
                            _dedup_pairs(shard.xorbs), [f.file_hash for f in files])
    new = await store.record_shard(res.engine, key, len(body), repo_id=token.repo_id, user_id=token.user_id)
    return JSONResponse({"result": 1 if new else 0})


def _check_shard(shard: Shard, xorbs: dict) -> list:
    for entry in shard.xorbs:
        check_xorb_listing(entry, xorbs)
    return [check_file(f, xorbs) for f in shard.files]


def _dedup_pairs(entries: list[XorbEntry]) -> list[tuple[str, str]]:
    pairs = []
    for entry in entries:
        for i, chunk in enumerate(entry.chunks):
            if i == 0 or is_global_dedup_eligible(chunk):
                pairs.append((hash_hex(chunk.hash), hash_hex(entry.xorb_hash)))
    return pairs


async def _register(res, f: store.XetFile, xorbs: dict, token: tokens.CasToken) -> None:
    """Verify the file's sha256 by reading its bytes once (unless a verified file of this hash
    exists), then record the file, the uploader's grant, and the LFS object (stored as the file's
    xorbs: nothing is written a second time)."""
    known = await store.get_file(res.engine, f.file_hash)
    if known is not None and f.sha256 and f.sha256 != known.sha256:
        raise errors.BadRequest("Shard claims a wrong sha256 for a known file", code="InvalidShard")
    if known is None:
        # New file: one read pass over the segments this shard just proved checks its sha256.
        try:
            sha = await asyncio.to_thread(hash_file, res.store, f, xorbs, f.sha256)
        except Mismatch as exc:
            raise errors.BadRequest(f"Shard rejected: {exc}", code="InvalidShard") from None
        f = store.XetFile(f.file_hash, f.size, sha, f.segments)
    else:
        f = known
    await store.register_file(res.engine, f, repo_id=token.repo_id, user_id=token.user_id)
    await lfs_bridge.register_lfs_object(res.engine, sha256=f.sha256, size=f.size, file_hash=f.file_hash,
                                         repo_id=token.repo_id, user_id=token.user_id)


@router.get("/v1/chunks/{prefix}/{chunk_hash}")
async def global_dedup(request: Request, prefix: str, chunk_hash: str):
    await _token(request, "read")
    # The spec names the dedup prefix "default-merkledb"; hf_xet 1.x sends its data prefix "default".
    _prefix(prefix, "default-merkledb", "default")
    _hash(chunk_hash)
    res = _resources(request)
    names = await store.dedup_xorbs_for_chunk(res.engine, chunk_hash, DEDUP_MAX_XORBS)
    xorbs = await store.load_xorbs(res.engine, names)
    if not xorbs:
        raise errors.NotFound("Chunk not tracked by global deduplication", code="ChunkNotFound")
    # The xorbs the chunk's shard listed (a file's neighbouring data dedups in one query). Chunk
    # hashes go out keyed with a fresh key: a client can match the chunks it has, but cannot learn
    # the others' hashes (and so cannot forge verification entries for data it never had).
    entries = [_xorb_entry(xorbs[name]) for name in names if name in xorbs]
    shard = Shard([], entries, hmac_key=os.urandom(32))
    return Response(serialize_shard(shard, expiry_seconds=DEDUP_SHARD_TTL), media_type="application/octet-stream")


def _xorb_entry(stored: store.StoredXorb) -> XorbEntry:
    info, offset, chunks = stored.info, 0, []
    for h, size in zip(info.chunk_hashes, info.chunk_sizes):
        chunks.append(ChunkEntry(h, offset, size))
        offset += size
    return XorbEntry(info.hash, chunks, bytes_on_disk=info.data_length)


@router.get("/v1/reconstructions/{file_id}")
async def reconstruction(request: Request, file_id: str):
    return JSONResponse(await _reconstruction(request, file_id))


@router.get("/v2/reconstructions/{file_id}")
async def reconstruction_v2(request: Request, file_id: str):
    return JSONResponse(as_v2(await _reconstruction(request, file_id)))


async def _reconstruction(request: Request, file_id: str) -> dict:
    token = await _token(request, "read")
    _hash(file_id)
    res = _resources(request)
    f = await store.get_file(res.engine, file_id)
    if f is None or not await _entitled(request, f, token):
        raise errors.NotFound("File not found", code="FileNotFound")
    try:
        lo, hi = parse_range(request.headers.get("range"), f.size)
    except RangeNotSatisfiable as exc:
        raise errors.HangarError(str(exc), code="RangeNotSatisfiable", status=416,
                                 headers={"Content-Range": f"bytes */{f.size}"}) from None
    except ValueError as exc:
        raise errors.BadRequest(str(exc), code="BadRange") from None
    xorbs = await store.load_xorbs(res.engine, sorted({s[0] for s in f.segments}))
    settings = res.settings

    def presign(key: str, first: int, last: int) -> str:
        return presign_range_get(endpoint=settings.s3_public_url, bucket=settings.s3_bucket, key=key, first=first,
                                 last=last, access_key=settings.s3_access_key, secret_key=settings.s3_secret_key,
                                 region=settings.s3_region, expires=URL_TTL_SECONDS)
    return plan(f, xorbs, lo, hi, presign)


async def _entitled(request: Request, f: store.XetFile, token: tokens.CasToken) -> bool:
    """Knowing a hash is not access: the token's repository uploaded the file, or references it."""
    res = _resources(request)
    if await store.file_granted_to_repo(res.engine, f.file_hash, token.repo_id):
        return True
    try:
        answer = await call(metadata_pb2_grpc.MetadataStub(res.channels["metadata"]).ReposReferencingOids,
                            metadata_pb2.OidsRequest(oids=[f.sha256]))
    except errors.HangarError as exc:
        logger.warning("ReposReferencingOids failed: %s", exc)
        return False
    return any(repo.repo_id == token.repo_id for holder in answer.holders for repo in holder.repos)


@router.post("/v1/telemetry")
async def telemetry(request: Request):
    await _token(request, "read")
    await _body(request, TELEMETRY_LIMIT)
    return JSONResponse({})

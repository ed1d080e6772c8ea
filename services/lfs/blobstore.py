"""Where LFS bytes live in S3, and the few S3 operations the service needs.

Layout: every upload attempt writes its own key `lfs/<aa>/<bb>/<oid>.<upload id>`, so an upload can
never overwrite or remove an object that already exists under its oid. Every upload is an S3 multipart
upload of that key (a basic PUT goes to the URL of part 1); only the server completes it, which kills
every URL the client was given, then hashes the bytes. Verified bytes stay where they lie: the catalog
maps the oid to that key (one object per oid across all repositories; docs/storage.md says why this is
safe). Objects verified before that (and Xet-rebuilt ones) live at the canonical `lfs/<aa>/<bb>/<oid>`.
`lfs-staging/` held uploads before; only the sweeper still looks there. Every SDK call is blocking and
runs in a thread.
"""
from __future__ import annotations

import asyncio
import hashlib
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from itertools import islice
from urllib.parse import quote

from minio.commonconfig import CopySource
from minio.datatypes import Part
from minio.error import S3Error

from .settings import S3_MAX_PARTS, S3_MAX_SINGLE_PUT, MiB

STAGING_PREFIX = "lfs-staging/"
HASH_READ = 8 * MiB
HASH_AHEAD = 4     # ranged reads in flight during a verification read (memory: HASH_AHEAD x HASH_READ)
# Ranged-copy part size; at most S3_MAX_SINGLE_PUT (CopyObject and UploadPartCopy stop at 5 GiB).
COPY_RANGE = min(64 * MiB, S3_MAX_SINGLE_PUT)


def canonical_key(oid: str) -> str:
    return f"lfs/{oid[:2]}/{oid[2:4]}/{oid}"


def upload_key(oid: str, upload_id: str) -> str:
    """The key one upload attempt writes, and where its bytes stay once verified."""
    return f"lfs/{oid[:2]}/{oid[2:4]}/{oid}.{upload_id}"


def content_disposition(filename: str) -> str:
    """`attachment` with an ASCII fallback and the RFC 6266/5987 UTF-8 form."""
    fallback = "".join(c if 32 <= ord(c) < 127 and c not in '"\\' else "_" for c in filename) or "file"
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


class Blobs:
    """LFS-specific S3 operations over the shared ObjectStore (internal client + public presigner)."""

    def __init__(self, store) -> None:
        self.store = store
        self.bucket = store.bucket
        self.client = store.client
        self.public = store.public

    # --- presigning (local computation, signed for the public S3 origin) ---------------------

    def presign_part(self, key: str, multipart_id: str, part: int, ttl: int) -> str:
        return self.public.get_presigned_url(
            "PUT", self.bucket, key, expires=timedelta(seconds=ttl),
            extra_query_params={"partNumber": str(part), "uploadId": multipart_id})

    def presign_get(self, key: str, ttl: int, filename: str = "") -> str:
        """A GET of an object's key (catalog.locations), signed for the public S3 origin."""
        headers = {"response-content-disposition": content_disposition(filename)} if filename else None
        return self.public.presigned_get_object(self.bucket, key,
                                                expires=timedelta(seconds=ttl), response_headers=headers)

    # --- multipart -----------------------------------------------------------------------------

    async def start_multipart(self, key: str) -> str:
        return await asyncio.to_thread(self.client._create_multipart_upload, self.bucket, key,
                                       {"Content-Type": "application/octet-stream"})

    async def complete_multipart(self, key: str, multipart_id: str, parts: list[tuple[int, str]]) -> None:
        await asyncio.to_thread(self.client._complete_multipart_upload, self.bucket, key, multipart_id,
                                [Part(number, etag) for number, etag in parts])

    async def list_parts(self, key: str, multipart_id: str) -> list[tuple[int, str]]:
        """The parts uploaded so far (first 1,000: enough for the one-part basic transfer)."""
        try:
            result = await asyncio.to_thread(self.client._list_parts, self.bucket, key, multipart_id)
        except S3Error as exc:
            if exc.code == "NoSuchUpload":
                return []
            raise
        return [(part.part_number, part.etag) for part in result.parts]

    async def abort_multipart(self, key: str, multipart_id: str) -> None:
        try:
            await asyncio.to_thread(self.client._abort_multipart_upload, self.bucket, key, multipart_id)
        except S3Error as exc:
            if exc.code not in ("NoSuchUpload", "NoSuchKey"):
                raise

    # --- objects -------------------------------------------------------------------------------

    async def read_range(self, key: str, offset: int, length: int, chunk: int = 1024 * 1024):
        """Yield the bytes [offset, offset+length) of a stored object, `chunk` bytes at a time
        (each blocking SDK read in the thread pool)."""
        response = await asyncio.to_thread(self.client.get_object, self.bucket, key,
                                           offset=offset, length=length)
        try:
            while True:
                data = await asyncio.to_thread(response.read, chunk)
                if not data:
                    break
                yield data
        finally:
            response.close()
            response.release_conn()

    async def size_of(self, key: str) -> int | None:
        try:
            stat = await asyncio.to_thread(self.client.stat_object, self.bucket, key)
        except S3Error as exc:
            if exc.code in ("NoSuchKey", "NoSuchObject", "NotFound", "ResourceNotFound"):
                return None
            raise
        return stat.size

    async def sha256_of(self, key: str, size: int | None = None) -> str:
        """Stream the object once with bounded memory and hash it (the verification read). With its
        size known, HASH_AHEAD ranged GETs are in flight while the bytes before them are hashed."""
        if size is None or size <= HASH_READ:
            return await asyncio.to_thread(self._sha256_blocking, key)
        return await asyncio.to_thread(self._sha256_ranged, key, size)

    def _sha256_blocking(self, key: str) -> str:
        digest = hashlib.sha256()
        response = self.client.get_object(self.bucket, key)
        try:
            for chunk in response.stream(HASH_READ):
                digest.update(chunk)
        finally:
            response.close()
            response.release_conn()
        return digest.hexdigest()

    def _read_blocking(self, key: str, offset: int, length: int) -> bytes:
        response = self.client.get_object(self.bucket, key, offset=offset, length=length)
        try:
            data = response.read()
        finally:
            response.close()
            response.release_conn()
        if len(data) != length:
            raise OSError(f"short read of {key} at {offset}: {len(data)} of {length} bytes")
        return data

    def _sha256_ranged(self, key: str, size: int) -> str:
        digest = hashlib.sha256()
        ranges = iter([(offset, min(HASH_READ, size - offset)) for offset in range(0, size, HASH_READ)])
        with ThreadPoolExecutor(HASH_AHEAD, thread_name_prefix="lfs-hash") as pool:
            pending = deque(pool.submit(self._read_blocking, key, *r) for r in islice(ranges, HASH_AHEAD))
            try:
                while pending:
                    data = pending.popleft().result()
                    following = next(ranges, None)
                    if following is not None:
                        pending.append(pool.submit(self._read_blocking, key, *following))
                    digest.update(data)
            finally:
                for future in pending:
                    future.cancel()
        return digest.hexdigest()

    async def promote(self, staged: str, oid: str, size: int, range_size: int = COPY_RANGE) -> None:
        """Server-side copy of verified staged bytes to the oid's canonical key (CopyObject, or a
        ranged multipart copy above one range). Only for bytes staged by another service (the mirror,
        adopt.py): client uploads are never copied."""
        if size <= range_size:
            await asyncio.to_thread(self.client.copy_object, self.bucket, canonical_key(oid),
                                    CopySource(self.bucket, staged))
            return
        copy = await self.stage_copy(staged, oid, size, range_size)
        await copy.commit()

    async def stage_copy(self, staged: str, oid: str, size: int, range_size: int = COPY_RANGE) -> PendingCopy:
        """Copy `staged` into the parts of a multipart upload of the canonical key, without completing
        it: nothing is visible under the oid until `commit()`. Ranged UploadPartCopy is required above
        S3's 5 GiB CopyObject limit, and is faster than CopyObject on SeaweedFS."""
        copy = PendingCopy(self, canonical_key(oid))
        await asyncio.to_thread(copy.copy_blocking, staged, size, max(range_size, -(-size // S3_MAX_PARTS)))
        return copy

    async def delete(self, key: str) -> None:
        await asyncio.to_thread(self.client.remove_object, self.bucket, key)

    async def list_staging(self, older_than: datetime) -> list[str]:
        """Staging objects last written before `older_than` (leftovers of abandoned uploads)."""
        def run() -> list[str]:
            return [o.object_name for o in self.client.list_objects(self.bucket, prefix=STAGING_PREFIX, recursive=True)
                    if o.last_modified is not None and o.last_modified < older_than]
        return await asyncio.to_thread(run)


class PendingCopy:
    """A canonical-key multipart upload filled by server-side ranged copies, completed or aborted later."""

    def __init__(self, blobs: Blobs, target: str) -> None:
        self.blobs, self.target = blobs, target
        self.upload_id: str | None = None
        self.parts: list[Part] = []

    def copy_blocking(self, source: str, size: int, range_size: int) -> None:
        client, bucket = self.blobs.client, self.blobs.bucket
        self.upload_id = client._create_multipart_upload(bucket, self.target, {})
        try:
            for number, start in enumerate(range(0, size, range_size), start=1):
                end = min(start + range_size, size) - 1
                etag, _ = client._upload_part_copy(bucket, self.target, self.upload_id, number, {
                    "x-amz-copy-source": quote(f"/{bucket}/{source}"),
                    "x-amz-copy-source-range": f"bytes={start}-{end}"})
                self.parts.append(Part(number, etag))
        except BaseException:
            client._abort_multipart_upload(bucket, self.target, self.upload_id)
            self.upload_id = None
            raise

    async def commit(self) -> None:
        await asyncio.to_thread(self.blobs.client._complete_multipart_upload, self.blobs.bucket, self.target,
                                self.upload_id, self.parts)
        self.upload_id = None

    async def abort(self) -> None:
        if self.upload_id is not None:
            await self.blobs.abort_multipart(self.target, self.upload_id)
            self.upload_id = None

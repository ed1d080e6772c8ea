"""S3 operations of the lfs service against the stack's real S3: the ranged multipart copy (the
path objects over 5 GiB take) exercised with a small range size."""
from __future__ import annotations

import asyncio
import hashlib
import io
import os

from hangar_common.config import Settings
from hangar_common.storage import ObjectStore
from services.lfs.blobstore import Blobs, canonical_key, content_disposition
from services.lfs.settings import MiB, chunk_size_for


def test_promote_copies_in_ranges_above_the_copy_limit(stack, s3, monkeypatch):
    for key, value in stack.env.items():
        monkeypatch.setenv(key, value)
    blobs = Blobs(ObjectStore(Settings.from_env("lfs")))
    data = os.urandom(12 * MiB + 123)
    oid = hashlib.sha256(data).hexdigest()
    staged = f"lfs-staging/{oid}/test"
    s3.client.put_object(s3.bucket, staged, io.BytesIO(data), len(data))
    assert asyncio.run(blobs.sha256_of(staged)) == oid
    asyncio.run(blobs.promote(staged, oid, len(data), range_size=5 * MiB))
    assert s3.read(canonical_key(oid)) == data
    s3.client.remove_object(s3.bucket, staged)
    s3.client.remove_object(s3.bucket, canonical_key(oid))


def test_chunk_size_keeps_parts_within_s3_limits():
    assert chunk_size_for(200 * MiB, 16 * MiB) == 16 * MiB
    assert chunk_size_for(1, 1) == 5 * MiB
    big = 500 * 1024 * 1024 * MiB
    assert chunk_size_for(big, 16 * MiB) * 10_000 >= big


def test_content_disposition_is_attachment_with_utf8_name():
    value = content_disposition('wé"ird.bin')
    assert value.startswith('attachment; filename="w__ird.bin"') and "filename*=UTF-8''w%C3%A9%22ird.bin" in value

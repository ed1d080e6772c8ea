"""S3 through the minio SDK. SDK calls are blocking, so they run in a thread; presigning is local
computation done with a client built for the public S3 origin (signatures bind the host)."""
from __future__ import annotations

import asyncio
from datetime import timedelta
from urllib.parse import urlsplit

import certifi
import urllib3
from minio import Minio

from .config import Settings

# An S3 that is down answers within seconds (a 503 to the client, faults.py), not after the SDK's
# defaults (5-minute connect timeout, 5 retries): connecting gets 3 s and two quick retries; a read
# may wait up to a minute between bytes (large objects stream).
_CONNECT_TIMEOUT, _READ_TIMEOUT = 3.0, 60.0
_RETRIES = urllib3.Retry(total=2, connect=2, read=1, backoff_factor=0.1,
                         status_forcelist=[500, 502, 503, 504])


def _client(url: str, settings: Settings) -> Minio:
    parts = urlsplit(url)
    http = urllib3.PoolManager(timeout=urllib3.Timeout(connect=_CONNECT_TIMEOUT, read=_READ_TIMEOUT),
                               maxsize=16, retries=_RETRIES, cert_reqs="CERT_REQUIRED", ca_certs=certifi.where())
    return Minio(parts.netloc, access_key=settings.s3_access_key, secret_key=settings.s3_secret_key,
                 secure=parts.scheme == "https", region=settings.s3_region, http_client=http)


class ObjectStore:
    def __init__(self, settings: Settings) -> None:
        self.bucket = settings.s3_bucket
        self.client = _client(settings.s3_endpoint, settings)
        self.public = _client(settings.s3_public_url, settings)

    async def ensure_bucket(self) -> None:
        if not await asyncio.to_thread(self.client.bucket_exists, self.bucket):
            try:
                await asyncio.to_thread(self.client.make_bucket, self.bucket)
            except Exception:
                if not await asyncio.to_thread(self.client.bucket_exists, self.bucket):
                    raise

    async def ping(self) -> bool:
        try:
            await asyncio.to_thread(self.client.bucket_exists, self.bucket)
            return True
        except Exception:
            return False

    def presign_get(self, key: str, expires: timedelta, **kwargs) -> str:
        return self.public.presigned_get_object(self.bucket, key, expires=expires, **kwargs)

    def presign_put(self, key: str, expires: timedelta) -> str:
        return self.public.presigned_put_object(self.bucket, key, expires=expires)

    async def run(self, fn, *args, **kwargs):
        """Run one blocking SDK call in the thread pool."""
        return await asyncio.to_thread(fn, *args, **kwargs)

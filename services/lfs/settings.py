"""Settings of the lfs service that the shared `Settings` does not carry. Environment (seconds/bytes):

    HANGAR_LFS_MULTIPART_THRESHOLD  64 MiB   larger objects go multipart when the client offers it
    HANGAR_LFS_CHUNK_SIZE           16 MiB   preferred part size (raised to keep <= 10,000 parts)
    HANGAR_LFS_UPLOAD_URL_TTL       86400    presigned PUT/part URLs (the whole transfer)
    HANGAR_LFS_DOWNLOAD_URL_TTL     3600     presigned GETs of the batch API and DownloadUrl
    HANGAR_LFS_STAGING_TTL          90000    abandoned uploads are cleaned after this
    HANGAR_LFS_GC_GRACE             86400    objects verified/referenced more recently are kept
    HANGAR_LFS_GC_INTERVAL          0        > 0: the service collects on this schedule
    HANGAR_LFS_QUOTA_BYTES          0        per-namespace quota checked at commit time (0 = none)
    HANGAR_LFS_MAX_BATCH_OBJECTS    1000
    HANGAR_LFS_CONTRIBUTOR_REPO_BYTES  5 GiB   uploads for one's own pull requests, per user and repo
    HANGAR_LFS_CONTRIBUTOR_USER_BYTES  20 GiB  the same, per user over all repositories
    HANGAR_LFS_XET_BRIDGE_URL       (public URL)  origin of the download URLs of Xet-stored objects
                                    (xet/file_stream.py): another host name than the hub's routed
                                    to the same place, as the Hub's cas-bridge host, so clients take
                                    the file's metadata from resolve's redirect, not from the stream
"""
from __future__ import annotations

from dataclasses import dataclass

from hangar_common.config import env, env_int

MiB = 1024 * 1024
GiB = 1024 * MiB

# S3 limits (AWS S3 "Multipart upload limits"; MinIO and SeaweedFS follow them).
S3_MIN_PART = 5 * MiB
S3_MAX_PARTS = 10_000
S3_MAX_SINGLE_PUT = 5 * GiB


def _int(name: str, default: int) -> int:
    return env_int(f"LFS_{name}", default)


@dataclass(frozen=True)
class LfsSettings:
    multipart_threshold: int     # objects above this size go multipart when the client offers it
    chunk_size: int              # preferred multipart part size (raised so parts stay <= 10,000)
    upload_url_ttl: int          # seconds part/PUT URLs stay valid: the whole transfer
    download_url_ttl: int        # seconds a presigned GET stays valid
    staging_ttl: int             # abandoned uploads (staging objects, multipart) are cleaned after this
    gc_grace: int                # unreferenced objects younger than this (or recently referenced) are kept
    gc_interval: int             # 0 = no in-service schedule
    quota_bytes: int             # per namespace; 0 = unlimited
    max_batch_objects: int
    contributor_repo_bytes: int = 5 * GiB    # contributors (no write access) per user and repo
    contributor_user_bytes: int = 20 * GiB   # contributors per user over all repos
    xet_bridge_url: str = ""                 # "" = the hub's public URL

    @classmethod
    def from_env(cls) -> LfsSettings:
        upload_ttl = _int("UPLOAD_URL_TTL", 24 * 3600)
        return cls(
            multipart_threshold=_int("MULTIPART_THRESHOLD", 64 * MiB),
            chunk_size=max(S3_MIN_PART, _int("CHUNK_SIZE", 16 * MiB)),
            upload_url_ttl=upload_ttl,
            download_url_ttl=_int("DOWNLOAD_URL_TTL", 3600),
            staging_ttl=max(_int("STAGING_TTL", upload_ttl + 3600), upload_ttl),
            gc_grace=_int("GC_GRACE", 24 * 3600),
            gc_interval=_int("GC_INTERVAL", 0),
            quota_bytes=_int("QUOTA_BYTES", 0),
            max_batch_objects=_int("MAX_BATCH_OBJECTS", 1000),
            contributor_repo_bytes=_int("CONTRIBUTOR_REPO_BYTES", 5 * GiB),
            contributor_user_bytes=_int("CONTRIBUTOR_USER_BYTES", 20 * GiB),
            xet_bridge_url=env("LFS_XET_BRIDGE_URL").rstrip("/"),
        )


def chunk_size_for(size: int, preferred: int) -> int:
    """Part size for a multipart upload of `size` bytes: at least size/10,000 (S3's part count limit)
    and at least 5 MiB (S3's minimum part), rounded up to whole MiB."""
    needed = max(preferred, S3_MIN_PART, -(-size // S3_MAX_PARTS))
    return -(-needed // MiB) * MiB

"""One frozen settings object per process, built from the environment (HANGAR_* variables).

This module is the only reader of the environment in the services and libs/hangar_common: the
per-service settings (services/*/settings.py, services/auth/config.py) read their HANGAR_* variables
through `env`, `env_int`, `env_float` and `env_bool` below, and everything else is handed a Settings.
"""
from __future__ import annotations

import os
import secrets
from dataclasses import dataclass

GiB = 1024 ** 3
MiB = 1024 ** 2


def env(name: str, default: str = "") -> str:
    """HANGAR_{name} as set (an empty value stays empty), else `default`."""
    return os.environ.get(f"HANGAR_{name}", default)


def env_int(name: str, default: int) -> int:
    raw = env(name)
    return int(raw) if raw else default


def env_float(name: str, default: float) -> float:
    raw = env(name)
    return float(raw) if raw else default


def env_bool(name: str, default: bool) -> bool:
    raw = env(name).lower()
    if not raw:
        return default
    return raw in {"1", "true", "yes", "on"}


def temp_dir() -> str:
    """Where scratch files go ($TMPDIR, else /tmp)."""
    return os.environ.get("TMPDIR", "/tmp")



@dataclass(frozen=True)
class Settings:
    service: str
    environment: str            # "development" | "production"
    http_host: str
    http_port: int
    grpc_port: int
    public_url: str             # external origin of the hub, used in absolute URLs
    public_url_configured: bool  # HANGAR_PUBLIC_URL is set: else absolute URLs follow the request's origin
    database_url: str
    redis_url: str
    s3_endpoint: str            # internal S3 endpoint, e.g. http://127.0.0.1:9000
    s3_public_url: str          # the S3 origin clients use; presigned URLs are signed for this host
    s3_access_key: str
    s3_secret_key: str
    s3_bucket: str
    s3_region: str
    auth_target: str            # gRPC host:port of each service
    metadata_target: str
    lfs_target: str
    community_target: str
    mirror_target: str          # the upstream mirror ("" when not deployed)
    git_http_url: str           # HTTP base URL of services reached over HTTP (for health)
    lfs_http_url: str
    web_http_url: str           # the web service (pages), "" where the gateway need not check it
    secret_key: str             # HMAC key: tokens, signed URLs, sessions
    secret_key_configured: bool  # HANGAR_SECRET_KEY is set (else `secret_key` is random, per process)
    lfs_threshold: int          # files at least this big go through LFS
    log_level: str
    registration_enabled: bool
    # Two different commit limits (docs/errors.md, README "Configuration"):
    max_commit_body_bytes: int    # gateway: the NDJSON body of one commit request (base64 inline files)
    max_commit_inline_bytes: int  # metadata: regular-file bytes of one commit, held in memory while applied
    metadata_cache_mb: int        # memory metadata's object caches may hold
    force_push_grace: int         # seconds the commits a force push left behind stay readable

    @property
    def is_production(self) -> bool:
        return self.environment == "production"

    @classmethod
    def from_env(cls, service: str) -> Settings:
        environment = env("ENV", "development")
        secret = env("SECRET_KEY")
        if not secret:
            if environment == "production":
                raise RuntimeError("HANGAR_SECRET_KEY must be set in production")
            secret = secrets.token_hex(32)
        port = env_int("PORT", 8080)
        s3_endpoint = env("S3_ENDPOINT", "http://127.0.0.1:9000")
        return cls(
            service=service,
            environment=environment,
            http_host=env("HTTP_HOST", "127.0.0.1"),
            http_port=env_int("HTTP_PORT", 0),
            grpc_port=env_int("GRPC_PORT", 0),
            public_url=env("PUBLIC_URL", f"http://127.0.0.1:{port}").rstrip("/"),
            public_url_configured=bool(env("PUBLIC_URL")),
            database_url=env("DATABASE_URL", "postgresql://hangar@127.0.0.1:5432/hangar"),
            redis_url=env("REDIS_URL", "redis://127.0.0.1:6379/0"),
            s3_endpoint=s3_endpoint.rstrip("/"),
            s3_public_url=env("S3_PUBLIC_URL", s3_endpoint).rstrip("/"),
            s3_access_key=env("S3_ACCESS_KEY", "hangar"),
            s3_secret_key=env("S3_SECRET_KEY", "hangar-secret"),
            s3_bucket=env("S3_BUCKET", "hangar"),
            s3_region=env("S3_REGION", "us-east-1"),
            auth_target=env("AUTH_TARGET", "127.0.0.1:50051"),
            metadata_target=env("METADATA_TARGET", "127.0.0.1:50052"),
            lfs_target=env("LFS_TARGET", "127.0.0.1:50053"),
            community_target=env("COMMUNITY_TARGET", "127.0.0.1:50054"),
            mirror_target=env("MIRROR_TARGET"),
            git_http_url=env("GIT_HTTP_URL", "http://127.0.0.1:8003").rstrip("/"),
            lfs_http_url=env("LFS_HTTP_URL", "http://127.0.0.1:8002").rstrip("/"),
            web_http_url=env("WEB_HTTP_URL", "").rstrip("/"),
            secret_key=secret,
            secret_key_configured=bool(env("SECRET_KEY")),
            lfs_threshold=env_int("LFS_THRESHOLD", 10 * 1024 * 1024),
            log_level=env("LOG_LEVEL", "INFO"),
            registration_enabled=env_bool("REGISTRATION_ENABLED", True),
            max_commit_body_bytes=env_int("MAX_COMMIT_BYTES", 2 * GiB),
            max_commit_inline_bytes=env_int("MAX_COMMIT_INLINE_BYTES", 512 * MiB),
            metadata_cache_mb=env_int("METADATA_CACHE_MB", 256),
            force_push_grace=int(grace) if (grace := env("FORCE_PUSH_GRACE").strip()).isdigit() else 7 * 86400,
        )

"""One frozen settings object per process, built from the environment (HANGAR_* variables)."""
from __future__ import annotations

import os
import secrets
from dataclasses import dataclass


def _env(name: str, default: str = "") -> str:
    return os.environ.get(f"HANGAR_{name}", default)


def _int(name: str, default: int) -> int:
    raw = _env(name)
    return int(raw) if raw else default


def _bool(name: str, default: bool) -> bool:
    raw = _env(name).lower()
    if not raw:
        return default
    return raw in {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class Settings:
    service: str
    environment: str            # "development" | "production"
    http_host: str
    http_port: int
    grpc_port: int
    public_url: str             # external origin of the hub, used in absolute URLs
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
    lfs_threshold: int          # files at least this big go through LFS
    log_level: str
    registration_enabled: bool

    @property
    def is_production(self) -> bool:
        return self.environment == "production"

    @classmethod
    def from_env(cls, service: str) -> Settings:
        environment = _env("ENV", "development")
        secret = _env("SECRET_KEY")
        if not secret:
            if environment == "production":
                raise RuntimeError("HANGAR_SECRET_KEY must be set in production")
            secret = secrets.token_hex(32)
        port = _int("PORT", 8080)
        s3_endpoint = _env("S3_ENDPOINT", "http://127.0.0.1:9000")
        return cls(
            service=service,
            environment=environment,
            http_host=_env("HTTP_HOST", "127.0.0.1"),
            http_port=_int("HTTP_PORT", 0),
            grpc_port=_int("GRPC_PORT", 0),
            public_url=_env("PUBLIC_URL", f"http://127.0.0.1:{port}").rstrip("/"),
            database_url=_env("DATABASE_URL", "postgresql://hangar@127.0.0.1:5432/hangar"),
            redis_url=_env("REDIS_URL", "redis://127.0.0.1:6379/0"),
            s3_endpoint=s3_endpoint.rstrip("/"),
            s3_public_url=_env("S3_PUBLIC_URL", s3_endpoint).rstrip("/"),
            s3_access_key=_env("S3_ACCESS_KEY", "hangar"),
            s3_secret_key=_env("S3_SECRET_KEY", "hangar-secret"),
            s3_bucket=_env("S3_BUCKET", "hangar"),
            s3_region=_env("S3_REGION", "us-east-1"),
            auth_target=_env("AUTH_TARGET", "127.0.0.1:50051"),
            metadata_target=_env("METADATA_TARGET", "127.0.0.1:50052"),
            lfs_target=_env("LFS_TARGET", "127.0.0.1:50053"),
            community_target=_env("COMMUNITY_TARGET", "127.0.0.1:50054"),
            mirror_target=_env("MIRROR_TARGET"),
            git_http_url=_env("GIT_HTTP_URL", "http://127.0.0.1:8003").rstrip("/"),
            lfs_http_url=_env("LFS_HTTP_URL", "http://127.0.0.1:8002").rstrip("/"),
            web_http_url=_env("WEB_HTTP_URL", "").rstrip("/"),
            secret_key=secret,
            lfs_threshold=_int("LFS_THRESHOLD", 10 * 1024 * 1024),
            log_level=_env("LOG_LEVEL", "INFO"),
            registration_enabled=_bool("REGISTRATION_ENABLED", True),
        )

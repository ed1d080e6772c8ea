"""The lfs service: large-file storage in S3. Git LFS HTTP API plus a gRPC API for other services."""
from __future__ import annotations

from contextlib import asynccontextmanager
from pathlib import Path

from hangar_common.config import Settings
from hangar_common.http import create_app
from hangar_common.runtime import Resources
from hangar_protos import lfs_pb2, lfs_pb2_grpc

from .servicer import LfsServicer

SCHEMA = "lfs"
MIGRATIONS = Path(__file__).parent / "migrations"


def build(settings: Settings):
    resources = Resources(settings)

    @asynccontextmanager
    async def lifespan(app):
        try:
            await resources.open_database(SCHEMA, MIGRATIONS)
            await resources.open_redis()
            await resources.open_store()
            resources.open_channel("auth", settings.auth_target)
            resources.open_channel("metadata", settings.metadata_target)
            await resources.start_grpc(
                [(lfs_pb2_grpc.add_LfsServicer_to_server, LfsServicer(resources))],
                [lfs_pb2.DESCRIPTOR.services_by_name["Lfs"].full_name])
            app.state.resources = resources
            yield
        finally:
            await resources.close()

    return create_app("lfs", lifespan=lifespan, health_checks=lambda app: {
        "postgres": resources.database_up, "redis": resources.redis_up, "s3": resources.store_up})

"""The metadata service: repositories and their versioned contents. gRPC API plus HTTP health."""
from __future__ import annotations

from contextlib import asynccontextmanager
from pathlib import Path

from hangar_common.config import Settings
from hangar_common.http import create_app
from hangar_common.runtime import Resources
from hangar_protos import metadata_pb2, metadata_pb2_grpc

from . import lakefs
from .engine import Engine
from .engines import open_versioning
from .servicer import MetadataServicer

SCHEMA = "metadata"
MIGRATIONS = Path(__file__).parent / "migrations"


def build(settings: Settings):
    resources = Resources(settings)
    state: dict = {}

    @asynccontextmanager
    async def lifespan(app):
        try:
            await resources.open_database(SCHEMA, MIGRATIONS)
            await resources.open_redis()
            await resources.open_invalidations()
            lfs_channel = resources.open_channel("lfs", settings.lfs_target)
            state["engine"] = engine = await Engine.open(settings, SCHEMA, lfs_channel)
            servicer = MetadataServicer(resources, open_versioning(engine))
            await resources.start_grpc(
                [(metadata_pb2_grpc.add_MetadataServicer_to_server, servicer)],
                [metadata_pb2.DESCRIPTOR.services_by_name["Metadata"].full_name])
            app.state.resources = resources
            async with lakefs.following(engine, settings, lfs_channel) as follower:
                app.state.lakefs = follower
                yield
        finally:
            await resources.close()
            if "engine" in state:
                await state["engine"].close()

    return create_app("metadata", lifespan=lifespan, health_checks=lambda app: {
        "postgres": resources.database_up, "redis": resources.redis_up})

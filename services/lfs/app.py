"""The lfs service: large-file storage in S3. Git LFS HTTP API plus a gRPC API for other services."""
from __future__ import annotations

import asyncio
import logging
from contextlib import asynccontextmanager, suppress
from pathlib import Path

from hangar_common.config import Settings
from hangar_common.http import create_app
from hangar_common.runtime import Resources
from hangar_protos import lfs_pb2, lfs_pb2_grpc

from . import gc
from .context import Lfs
from .routes import router
from .servicer import LfsServicer
from .settings import LfsSettings
from .xet.router import xet_router

SCHEMA = "lfs"
MIGRATIONS = Path(__file__).parent / "migrations"
logger = logging.getLogger("hangar.lfs")


async def open_context(resources: Resources, config: LfsSettings) -> Lfs:
    """Database (with migrations), S3 and peer channels: what handlers and the gc command need."""
    settings = resources.settings
    await resources.open_database(SCHEMA, MIGRATIONS)
    await resources.open_store()
    resources.open_channel("auth", settings.auth_target)
    resources.open_channel("metadata", settings.metadata_target)
    return Lfs.from_resources(resources, config)


async def _scheduled_gc(ctx: Lfs) -> None:
    """HANGAR_LFS_GC_INTERVAL > 0: collect in the background; one replica at a time."""
    while True:
        await asyncio.sleep(ctx.config.gc_interval)
        try:
            await gc.run_exclusive(ctx, grace=ctx.config.gc_grace, staging_ttl=ctx.config.staging_ttl,
                                   dry_run=False)
        except Exception:
            logger.exception("scheduled gc failed")


def build(settings: Settings):
    resources = Resources(settings)
    config = LfsSettings.from_env()

    @asynccontextmanager
    async def lifespan(app):
        task = None
        try:
            ctx = await open_context(resources, config)
            await resources.open_redis()
            await resources.start_grpc(
                [(lfs_pb2_grpc.add_LfsServicer_to_server, LfsServicer(resources, ctx))],
                [lfs_pb2.DESCRIPTOR.services_by_name["Lfs"].full_name])
            app.state.resources = resources
            app.state.lfs = ctx
            if config.gc_interval > 0:
                task = asyncio.create_task(_scheduled_gc(ctx))
            yield
        finally:
            if task is not None:
                task.cancel()
                with suppress(asyncio.CancelledError):
                    await task
            await resources.close()

    app = create_app("lfs", lifespan=lifespan, health_checks=lambda app: {
        "postgres": resources.database_up, "redis": resources.redis_up, "s3": resources.store_up})
    app.include_router(router)
    app.include_router(xet_router)  # Xet token + CAS routes (services/lfs/xet/)
    return app
